"""The demo's desk work as Markov chains of steps: coding and writing."""

from __future__ import annotations

import random

from selflow_qt.demo.steps import Emitter, Session, Step, _focus, _fs, _sh

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
    if "doc" not in s.scratch or rng.random() < 0.35:
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
