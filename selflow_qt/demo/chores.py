"""The demo's chores as Markov chains of steps: downloads tidy-up, design assets, admin."""

from __future__ import annotations

import random

from selflow_qt.demo.steps import Emitter, Session, Step, _focus, _fs, _sh

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
    if "asset" not in s.scratch or rng.random() < 0.35:
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
