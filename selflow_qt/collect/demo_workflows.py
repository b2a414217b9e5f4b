"""The demo person's workflows: each a small Markov chain of steps that emit events.

Steps carry variation (which file, how many saves, whether tests pass) so the next action is
partly, not fully, predictable. Paths are relative to the demo home folder ``~``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

# One emitted action before timing: (source, action, fields).
Step = tuple[str, str, dict]
Emitter = Callable[[random.Random, "Session"], list[Step]]


@dataclass
class Session:
    """State that lives for one stretch of work in one workflow (the open file, the project)."""

    home: str
    workflow: str
    focus: str = ""
    counter: int = 0
    scratch: dict = field(default_factory=dict)

    def p(self, rel: str) -> str:
        return rel if rel.startswith("/") else f"{self.home}/{rel}"


def _fs(action: str, path: str, dest: str | None = None) -> Step:
    f: dict = {"path": path}
    if dest:
        f["dest"] = dest
    return ("fs", action, f)


def _focus(app: str) -> Step:
    return ("app", "focus", {"app": app})


def _sh(cmd: str, cwd: str) -> Step:
    return ("shell", "command", {"cmd": cmd, "cwd": cwd})


# -- coding ------------------------------------------------------------------------------------
PY_MODULES = ("models", "views", "storage", "api", "utils", "cli", "config", "parser")
COMMIT_MSGS = (
    "Fix off-by-one in parser",
    "Add storage tests",
    "Refactor views",
    "Handle empty config",
    "Speed up api calls",
    "Update cli help",
)


def _code_module(rng: random.Random, s: Session) -> str:
    if not s.focus or rng.random() < 0.25:
        s.focus = rng.choice(PY_MODULES)
    return s.focus


def code_focus(rng: random.Random, s: Session) -> list[Step]:
    return [_focus("code")]


def code_edit(rng: random.Random, s: Session) -> list[Step]:
    mod = _code_module(rng, s)
    path = (
        s.p(f"src/app/app/{mod}.py") if rng.random() < 0.8 else s.p(f"src/app/tests/test_{mod}.py")
    )
    steps: list[Step] = []
    if rng.random() < 0.04:
        s.focus = f"{rng.choice(PY_MODULES)}_{rng.choice(('v2', 'helpers', 'io'))}"
        path = s.p(f"src/app/app/{s.focus}.py")
        steps.append(_fs("create", path))
    steps += [_fs("modify", path)] * rng.choice((1, 1, 2, 3))
    return steps


def code_test(rng: random.Random, s: Session) -> list[Step]:
    cwd = s.p("src/app")
    steps = [_focus("gnome-terminal")] if rng.random() < 0.5 else []
    mod = s.focus or "models"
    cmd = rng.choice(("pytest -q", f"pytest -q tests/test_{mod}.py", f"pytest -x -k {mod}"))
    return steps + [_sh(cmd, cwd)]


def code_run(rng: random.Random, s: Session) -> list[Step]:
    return [
        _sh(rng.choice(("python -m app", "python -m app --debug", "make lint")), s.p("src/app"))
    ]


def code_status(rng: random.Random, s: Session) -> list[Step]:
    return [_sh(rng.choice(("git status", "git diff", "git log --oneline -5")), s.p("src/app"))]


def code_add(rng: random.Random, s: Session) -> list[Step]:
    target = rng.choice(("-A", f"app/{s.focus or 'models'}.py", "-p"))
    return [_sh(f"git add {target}", s.p("src/app"))]


def code_commit(rng: random.Random, s: Session) -> list[Step]:
    return [_sh(f'git commit -m "{rng.choice(COMMIT_MSGS)}"', s.p("src/app"))]


def code_push(rng: random.Random, s: Session) -> list[Step]:
    return [_sh(rng.choice(("git push", "git push origin main")), s.p("src/app"))]


CODING = {
    "start": [("focus", 0.7), ("edit", 0.2), ("status", 0.1)],
    "focus": [("edit", 0.9), ("status", 0.1)],
    "edit": [("edit", 0.35), ("test", 0.38), ("focus", 0.05), ("status", 0.12), ("run", 0.1)],
    "test": [("edit", 0.55), ("status", 0.3), ("test", 0.15)],
    "run": [("edit", 0.6), ("test", 0.4)],
    "status": [("add", 0.7), ("edit", 0.3)],
    "add": [("commit", 0.9), ("status", 0.1)],
    "commit": [("push", 0.5), ("edit", 0.4), ("focus", 0.1)],
    "push": [("focus", 0.5), ("edit", 0.5)],
}
CODING_EMIT: dict[str, Emitter] = {
    "focus": code_focus,
    "edit": code_edit,
    "test": code_test,
    "run": code_run,
    "status": code_status,
    "add": code_add,
    "commit": code_commit,
    "push": code_push,
}

# -- writing -----------------------------------------------------------------------------------
DOCS = (
    ("Documents/reports/q3-report.docx", "libreoffice-writer"),
    ("Documents/reports/budget-2027.docx", "libreoffice-writer"),
    ("Documents/reports/grant-proposal.docx", "libreoffice-writer"),
    ("Documents/notes/meeting-notes.md", "obsidian"),
    ("Documents/notes/ideas.md", "obsidian"),
    ("Documents/notes/reading-list.md", "obsidian"),
)


def _doc(rng: random.Random, s: Session) -> tuple[str, str]:
    if "doc" not in s.scratch or rng.random() < 0.15:
        s.scratch["doc"] = rng.choice(DOCS)
    return s.scratch["doc"]


def write_focus(rng: random.Random, s: Session) -> list[Step]:
    return [_focus(_doc(rng, s)[1])]


def write_edit(rng: random.Random, s: Session) -> list[Step]:
    rel, _ = _doc(rng, s)
    return [_fs("modify", s.p(rel))] * rng.choice((1, 1, 2, 2, 3))


def write_new(rng: random.Random, s: Session) -> list[Step]:
    rel, app = _doc(rng, s)
    stem, ext = rel.rsplit(".", 1)
    s.counter += 1
    new = f"{stem}-v{s.counter + 1}.{ext}"
    return [_fs("create", s.p(new)), _fs("modify", s.p(new))]


def write_export(rng: random.Random, s: Session) -> list[Step]:
    rel, app = _doc(rng, s)
    stem, ext = rel.rsplit(".", 1)
    if ext == "md":
        folder, name = stem.rsplit("/", 1)
        return [
            _sh(f"pandoc {name}.md -o {name}.pdf", s.p(folder)),
            _fs("create", s.p(f"{stem}.pdf")),
        ]
    return [_fs("create", s.p(f"{stem}.pdf"))]


def write_archive(rng: random.Random, s: Session) -> list[Step]:
    rel, _ = _doc(rng, s)
    name = rel.rsplit("/", 1)[1]
    return [_fs("move", s.p(rel), s.p(f"Documents/archive/{name}"))]


def write_browse(rng: random.Random, s: Session) -> list[Step]:
    return [_focus(rng.choice(("nautilus", _doc(rng, s)[1])))]


WRITING = {
    "start": [("focus", 0.8), ("browse", 0.2)],
    "focus": [("edit", 0.95), ("browse", 0.05)],
    "edit": [("edit", 0.6), ("export", 0.1), ("new", 0.07), ("focus", 0.18), ("browse", 0.05)],
    "new": [("edit", 0.9), ("focus", 0.1)],
    "export": [("edit", 0.4), ("archive", 0.2), ("focus", 0.4)],
    "archive": [("focus", 0.7), ("browse", 0.3)],
    "browse": [("focus", 0.6), ("edit", 0.4)],
}
WRITING_EMIT: dict[str, Emitter] = {
    "focus": write_focus,
    "edit": write_edit,
    "new": write_new,
    "export": write_export,
    "archive": write_archive,
    "browse": write_browse,
}

# -- downloads tidy-up -------------------------------------------------------------------------
DL_KINDS = (
    ("invoice-{n}.pdf", "Documents/invoices"),
    ("statement-{n}.pdf", "Documents/bank"),
    ("IMG_{n}.jpg", "Pictures/2026"),
    ("screenshot-{n}.png", "Pictures/screenshots"),
    ("dataset-{n}.zip", None),
    ("tool-{n}.deb", None),
)


def dl_browse(rng: random.Random, s: Session) -> list[Step]:
    return [_focus(rng.choice(("firefox", "firefox", "thunderbird")))]


def dl_download(rng: random.Random, s: Session) -> list[Step]:
    pattern, dest = rng.choice(DL_KINDS)
    name = pattern.format(n=rng.randrange(1000, 9999))
    s.scratch.setdefault("pending", []).append((name, dest))
    path = s.p(f"Downloads/{name}")
    return [_fs("create", path), _fs("modify", path)]


def _pending(rng: random.Random, s: Session) -> tuple[str, str | None] | None:
    pending = s.scratch.get("pending") or []
    if not pending:
        return None
    return pending.pop(rng.randrange(len(pending)))


def dl_tidy(rng: random.Random, s: Session) -> list[Step]:
    item = _pending(rng, s)
    if item is None:
        return [_focus("nautilus")]
    name, dest = item
    src = s.p(f"Downloads/{name}")
    if dest is not None:
        return [_fs("move", src, s.p(f"{dest}/{name}"))]
    if name.endswith(".zip"):
        folder = name[:-4]
        return [
            _sh(f"unzip {name}", s.p("Downloads")),
            _fs("create", s.p(f"Downloads/{folder}/README.txt")),
            _fs("create", s.p(f"Downloads/{folder}/data.csv")),
            _fs("delete", src),
        ]
    return [_sh(f"sudo dpkg -i {name}", s.p("Downloads")), _fs("delete", src)]


def dl_files(rng: random.Random, s: Session) -> list[Step]:
    return [_focus("nautilus")]


def dl_cleanup(rng: random.Random, s: Session) -> list[Step]:
    return [_sh(rng.choice(("ls -lt ~/Downloads | head", "du -sh ~/Downloads")), s.home)]


DOWNLOADS = {
    "start": [("browse", 0.7), ("files", 0.3)],
    "browse": [("download", 0.8), ("browse", 0.1), ("files", 0.1)],
    "download": [("download", 0.3), ("browse", 0.25), ("files", 0.25), ("tidy", 0.2)],
    "files": [("tidy", 0.85), ("cleanup", 0.15)],
    "tidy": [("tidy", 0.55), ("browse", 0.3), ("files", 0.1), ("cleanup", 0.05)],
    "cleanup": [("tidy", 0.5), ("browse", 0.5)],
}
DOWNLOADS_EMIT: dict[str, Emitter] = {
    "browse": dl_browse,
    "download": dl_download,
    "tidy": dl_tidy,
    "files": dl_files,
    "cleanup": dl_cleanup,
}

# -- design assets -----------------------------------------------------------------------------
DESIGN_FILES = (
    ("Design/logo/logo.svg", "inkscape"),
    ("Design/logo/icon.svg", "inkscape"),
    ("Design/website/hero.psd", "gimp"),
    ("Design/website/banner.xcf", "gimp"),
    ("Design/poster/poster-a3.svg", "inkscape"),
)


def _asset(rng: random.Random, s: Session) -> tuple[str, str]:
    if "asset" not in s.scratch or rng.random() < 0.2:
        s.scratch["asset"] = rng.choice(DESIGN_FILES)
    return s.scratch["asset"]


def design_focus(rng: random.Random, s: Session) -> list[Step]:
    return [_focus(_asset(rng, s)[1])]


def design_edit(rng: random.Random, s: Session) -> list[Step]:
    return [_fs("modify", s.p(_asset(rng, s)[0]))] * rng.choice((1, 2, 2, 3))


def design_export(rng: random.Random, s: Session) -> list[Step]:
    rel, _ = _asset(rng, s)
    folder, name = rel.rsplit("/", 1)
    stem = name.rsplit(".", 1)[0]
    size = rng.choice((64, 256, 512, 1024))
    return [_fs("create", s.p(f"{folder}/exports/{stem}-{size}.png"))]


def design_preview(rng: random.Random, s: Session) -> list[Step]:
    return [_focus("eog")]


def design_optimize(rng: random.Random, s: Session) -> list[Step]:
    rel, _ = _asset(rng, s)
    folder = rel.rsplit("/", 1)[0]
    return [_sh(rng.choice(("optipng exports/*.png", "ls exports")), s.p(folder))]


DESIGN = {
    "start": [("focus", 0.9), ("preview", 0.1)],
    "focus": [("edit", 0.9), ("export", 0.1)],
    "edit": [("edit", 0.45), ("export", 0.3), ("focus", 0.2), ("preview", 0.05)],
    "export": [("preview", 0.45), ("edit", 0.3), ("optimize", 0.15), ("export", 0.1)],
    "preview": [("focus", 0.7), ("edit", 0.3)],
    "optimize": [("focus", 0.6), ("preview", 0.4)],
}
DESIGN_EMIT: dict[str, Emitter] = {
    "focus": design_focus,
    "edit": design_edit,
    "export": design_export,
    "preview": design_preview,
    "optimize": design_optimize,
}

# -- admin / shell -----------------------------------------------------------------------------
SERVICES = ("nginx", "postgresql", "docker", "cron")
CONFIGS = ("/etc/nginx/nginx.conf", "/etc/hosts", "/etc/fstab", "/etc/postgresql/16/main/pg.conf")


def adm_terminal(rng: random.Random, s: Session) -> list[Step]:
    return [_focus(rng.choice(("gnome-terminal", "gnome-terminal", "htop")))]


def adm_ssh(rng: random.Random, s: Session) -> list[Step]:
    return [_sh(f"ssh {rng.choice(('web01', 'db01', 'backup'))}", s.home)]


def adm_inspect(rng: random.Random, s: Session) -> list[Step]:
    svc = s.scratch.setdefault("svc", rng.choice(SERVICES))
    cmd = rng.choice(
        (f"systemctl status {svc}", f"journalctl -u {svc} --since today", "df -h", "top", "free -m")
    )
    return [_sh(cmd, s.home)]


def adm_conf(rng: random.Random, s: Session) -> list[Step]:
    conf = rng.choice(CONFIGS)
    return [_sh(f"sudo vim {conf}", s.home), _fs("modify", conf)]


def adm_restart(rng: random.Random, s: Session) -> list[Step]:
    svc = s.scratch.setdefault("svc", rng.choice(SERVICES))
    return [_sh(f"sudo systemctl restart {svc}", s.home)]


def adm_update(rng: random.Random, s: Session) -> list[Step]:
    return [
        _sh(rng.choice(("sudo apt update", "sudo apt upgrade -y", "apt list --upgradable")), s.home)
    ]


ADMIN = {
    "start": [("terminal", 0.7), ("inspect", 0.3)],
    "terminal": [("inspect", 0.5), ("ssh", 0.25), ("update", 0.25)],
    "ssh": [("inspect", 0.7), ("conf", 0.3)],
    "inspect": [
        ("inspect", 0.3),
        ("conf", 0.25),
        ("restart", 0.2),
        ("update", 0.1),
        ("terminal", 0.15),
    ],
    "conf": [("restart", 0.6), ("conf", 0.15), ("inspect", 0.25)],
    "restart": [("inspect", 0.7), ("terminal", 0.3)],
    "update": [("update", 0.4), ("inspect", 0.4), ("terminal", 0.2)],
}
ADMIN_EMIT: dict[str, Emitter] = {
    "terminal": adm_terminal,
    "ssh": adm_ssh,
    "inspect": adm_inspect,
    "conf": adm_conf,
    "restart": adm_restart,
    "update": adm_update,
}

# -- noise -------------------------------------------------------------------------------------
NOISE_APPS = ("slack", "spotify", "firefox", "thunderbird", "gnome-calculator", "signal-desktop")
NOISE_FILES = ("Desktop/todo.txt", "tmp/scratch.txt", ".bashrc", "Desktop/link.url", "tmp/out.log")
NOISE_CMDS = ("ls", "clear", "cd ..", "history | tail", "echo $PATH")


def noise_step(rng: random.Random, home: str) -> Step:
    """A stray action unrelated to the workflow at hand."""
    r = rng.random()
    if r < 0.55:
        return _focus(rng.choice(NOISE_APPS))
    if r < 0.85:
        return _fs(rng.choice(("modify", "modify", "create")), f"{home}/{rng.choice(NOISE_FILES)}")
    return _sh(rng.choice(NOISE_CMDS), home)


@dataclass(frozen=True)
class Workflow:
    name: str
    chain: dict[str, list[tuple[str, float]]]
    emit: dict[str, Emitter]
    # relative preference for each hour of the day (0-23) on weekdays and at weekends
    weekday: tuple[float, ...]
    weekend: tuple[float, ...]
    session_len: float  # mean actions per session at 2,500 events a day


def _hours(*spans: tuple[int, int, float], base: float = 0.05) -> tuple[float, ...]:
    w = [base] * 24
    for lo, hi, val in spans:
        for h in range(lo, hi):
            w[h] = max(w[h], val)
    return tuple(w)


WORKFLOWS: tuple[Workflow, ...] = (
    Workflow(
        "coding",
        CODING,
        CODING_EMIT,
        _hours((9, 12, 1.0), (14, 18, 1.0), (20, 23, 0.4)),
        _hours((10, 12, 0.3), (20, 23, 0.3)),
        70,
    ),
    Workflow(
        "writing",
        WRITING,
        WRITING_EMIT,
        _hours((10, 13, 0.8), (15, 17, 0.7)),
        _hours((10, 12, 0.2)),
        40,
    ),
    Workflow(
        "downloads",
        DOWNLOADS,
        DOWNLOADS_EMIT,
        _hours((12, 14, 0.8), (17, 20, 0.6)),
        _hours((10, 13, 0.9), (15, 19, 0.8)),
        25,
    ),
    Workflow(
        "design",
        DESIGN,
        DESIGN_EMIT,
        _hours((13, 17, 0.6)),
        _hours((14, 19, 1.0)),
        45,
    ),
    Workflow(
        "admin",
        ADMIN,
        ADMIN_EMIT,
        _hours((8, 10, 0.9), (18, 22, 0.7)),
        _hours((10, 12, 0.4), (19, 22, 0.5)),
        30,
    ),
)
