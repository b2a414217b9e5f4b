"""Failure 5: secrets stored verbatim. 150+ planted secrets (every detect-secrets plugin family and
the shapes that leaked) go through every source in real processes; then every byte under the
data folder is searched for them, and detect-secrets (the oracle) scans every stored text."""

from __future__ import annotations

import gzip
import json
import shutil
import signal
import sqlite3
import time
from pathlib import Path

import pytest
from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
from privacy_corpus import build_corpus, filename_safe
from reliability_helpers import run_selflow, start_selflow, wait_until_collecting

from selflow_qt.core.privacy import PrivacyFilter

CORPUS = build_corpus()
# An IP address is where a command went, not a credential: SelFlow keeps it (see the corpus).
NOT_SECRETS = {"Public IP (ipv4)"}


def _plugins():
    return [c() for t, c in get_mapping_from_secret_type_to_class().items() if t not in NOT_SECRETS]


def oracle(text: str, plugins=None) -> list[tuple[str, str]]:
    """What detect-secrets' plugins flag in ``text`` (each line scanned as a .sh file line)."""
    found = []
    for plugin in plugins or _plugins():
        for n, line in enumerate(text.splitlines() or [text], 1):
            for s in plugin.analyze_line(filename="input.sh", line=line, line_number=n):
                found.append((plugin.secret_type, s.secret_value))
    return found


def test_the_corpus_plants_every_detect_secrets_family() -> None:
    assert len(CORPUS) >= 150
    assert len({p.secret for p in CORPUS}) == len(CORPUS)
    plugins = _plugins()
    flagged = {t for p in CORPUS for t, _ in oracle(p.text, plugins)}
    expected = set(get_mapping_from_secret_type_to_class()) - NOT_SECRETS
    assert expected <= flagged, f"no planted secret for {sorted(expected - flagged)}"


def test_redaction_removes_every_planted_secret() -> None:
    pf, plugins = PrivacyFilter(), _plugins()
    leaks = [p for p in CORPUS if p.secret in pf.redact(p.text)]
    assert not leaks, [f"{p.family}: {p.text}" for p in leaks]
    flagged = [(p.family, oracle(pf.redact(p.text), plugins)) for p in CORPUS]
    assert not [f for f in flagged if f[1]], [f for f in flagged if f[1]]


def _jsonl_events(base: float) -> list[dict]:
    """Every planted text in every interchange field, in meta values and as a meta key."""
    out, t = [], base
    for p in CORPUS:
        for field in ("cmd", "path", "cwd", "app", "dest", "meta", "meta key"):
            t += 1
            ev: dict = {"ts": t, "source": "shell", "action": "command", "cmd": "true"}
            if field == "dest":
                ev.update(source="fs", action="move", path="/w/a.txt", dest=f"/w/{p.text}")
            elif field == "meta":
                ev["meta"] = {"note": p.text, "nested": {"list": [p.text]}}
            elif field == "meta key":
                ev["meta"] = {p.text: 1}
            else:
                ev[field] = p.text
            out.append(ev)
    return out


def _aw_export(base: float) -> dict:
    window, web = [], []
    for i, p in enumerate(CORPUS):
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(base + i)) + "Z"
        window.append({"timestamp": ts, "duration": 5, "data": {"app": "code", "title": p.text}})
        web.append({"timestamp": ts, "duration": 5, "data": {"url": p.text, "title": p.text}})
    return {
        "buckets": {
            "aw-watcher-window_h": {"id": "w", "type": "currentwindow", "events": window},
            "aw-watcher-web_h": {"id": "b", "type": "web.tab.current", "events": web},
        }
    }


def _all_bytes(root: Path) -> list[tuple[Path, bytes]]:
    out = []
    for path in sorted(root.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if path.suffix == ".gz":
                data += gzip.decompress(data)
            out.append((path, data))
    return out


def _found(root: Path) -> list[str]:
    files = _all_bytes(root)
    return [
        f"{p.family} {p.secret!r} in {path.relative_to(root)}"
        for p in CORPUS
        for path, data in files
        if p.secret.encode() in data
    ]


def _stored_texts(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT path, dest, app, cmd, cwd, meta FROM events").fetchall()
    finally:
        conn.close()
    return [v for row in rows for v in row if v]


def _feed_everything(tmp_path: Path) -> Path:
    """collect (files and shell history), import (JSONL, ActivityWatch), export, analyze."""
    data, root, history = tmp_path / "data", tmp_path / "w", tmp_path / ".bash_history"
    root.mkdir()
    data.mkdir()
    history.write_text("ls\n")
    (data / "settings.json").write_text(json.dumps({"shell_history_files": [str(history)]}))
    proc = start_selflow(data, "collect", "--roots", str(root), "--no-apps")
    try:
        assert "collecting" in proc.stderr.readline()
        wait_until_collecting(data / "selflow.db", proc.pid, shell=True)
        with history.open("a") as f:
            for p in CORPUS:
                f.write(p.text.replace("\n", " ") + "\n")
        db = data / "selflow.db"
        deadline = time.monotonic() + 60  # hang guard
        while time.monotonic() < deadline:
            conn = sqlite3.connect(db)
            n = conn.execute("SELECT count(*) FROM events WHERE source = 'shell'").fetchone()[0]
            conn.close()
            if n >= len(CORPUS):
                break
            time.sleep(0.2)
        # The files after the history is recorded, so the newest events are theirs: a training
        # scores its newest events, and where those were the ~170 planted shell lines, the
        # evaluation's prompt agent had the model rank each one whenever the slice gave the
        # model weight (~0.6 s each; the short training took 2 min instead of 20-40 s).
        for p in CORPUS:
            if filename_safe(p.text):
                (root / p.text).write_text("x")
        time.sleep(2)
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    jsonl = tmp_path / "planted.jsonl"
    jsonl.write_text("".join(json.dumps(e) + "\n" for e in _jsonl_events(1.75e9)))
    aw = tmp_path / "aw-export.json"
    aw.write_text(json.dumps(_aw_export(1.76e9)))
    for args in (
        ("import", "jsonl", str(jsonl)),
        ("import", "activitywatch", str(aw)),
        ("export", "jsonl", "-o", str(data / "export.jsonl")),
        ("analyze",),
    ):
        done = run_selflow(data, *args, timeout=300)
        assert done.returncode == 0, f"{args}: {done.stderr}"
        assert not [p for p in CORPUS if p.secret in done.stdout + done.stderr], args
    return data


@pytest.fixture(scope="module")
def fed_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder fed everything once (collect, imports, export, analyze: ~10 s); the
    training test trains on a copy of it."""
    return _feed_everything(tmp_path_factory.mktemp("privacy"))


def test_no_planted_secret_reaches_any_byte_of_the_data_folder(fed_data: Path) -> None:
    data = fed_data
    found = _found(data)
    assert not found, f"{len(found)} planted secrets on disk: {found[:10]}"
    plugins = _plugins()
    texts = _stored_texts(data / "selflow.db")
    assert len(texts) > 7 * len(CORPUS)
    flagged = [(t[:80], f) for t in texts if (f := oracle(t, plugins))]
    assert not flagged, f"detect-secrets flags {len(flagged)} stored texts: {flagged[:5]}"


@pytest.mark.slow  # a real (short) LoRA training run: 20-40 s on a shared 2-core machine
def test_no_planted_secret_survives_a_short_training(
    tmp_path: Path, fed_data: Path, smollm_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from selflow_qt.agents.training import runner
    from selflow_qt.agents.training.runner import TrainingRunner, queue_training
    from selflow_qt.store.context import StoreContext

    # The scored part is the newest 5% (~86 events), not 10% (~173): well inside the ~180 file
    # events that come last (see _feed_everything), so no planted shell line is in it. Every
    # event still reaches the training's files either way (the ranker fits and replays all).
    monkeypatch.setattr(runner, "SPLIT_FRACTION", 0.95)
    data = tmp_path / "data"
    shutil.copytree(fed_data, data)
    ctx = StoreContext.open(data)
    try:
        ctx.settings.base_model = str(smollm_dir)  # converted once per run, not per data folder
        ctx.settings.train_config = {"max_steps": 2, "batch_size": 4, "max_val": 8}
        # Positions as make test's other short trainings: they are numbers in the metadata,
        # and every stage runs (and writes) the same with 4 as with 8.
        ctx.settings.eval_positions = 4
        ctx.settings.lm_positions = 2  # each is a model scoring and a written line
        ctx.settings.save(data)
        sid = queue_training(ctx)
        out = TrainingRunner(data).run(sid, max_steps=2)
    finally:
        ctx.close()
    assert out.status == "completed", out.error
    found = _found(data)
    assert not found, f"{len(found)} planted secrets on disk after training: {found[:10]}"


def test_the_search_itself_finds_an_unredacted_secret(tmp_path: Path) -> None:
    """Guard against a vacuous grep: planted bytes written as they are are found."""
    (tmp_path / "leak.txt").write_text(CORPUS[0].text)
    with gzip.open(tmp_path / "leak.json.gz", "wt") as f:
        f.write(CORPUS[1].text)
    found = _found(tmp_path)
    assert any(CORPUS[0].secret in f for f in found) and any(CORPUS[1].secret in f for f in found)
