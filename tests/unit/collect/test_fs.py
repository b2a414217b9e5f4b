"""The filesystem collector on a real watchdog observer over a temp folder."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from selflow_qt.collect.fs import FilesystemCollector
from selflow_qt.collect.fs_tree import TreeModel, scan_tree
from selflow_qt.collect.fs_watch import HAVE_INOTIFY

pytestmark = pytest.mark.skipif(not HAVE_INOTIFY, reason="inotify (Linux) only")


def _start(run_collector, root: Path, **kw):
    r = run_collector(FilesystemCollector([root], **kw))
    assert r.collector.ready.wait(20)
    assert r.collector.state == "running", r.collector.detail
    return r


def _actions(events, action):
    return [e for e in events if e.action == action]


def test_create_modify_move_delete_are_reported(run_collector, tmp_path):
    root = tmp_path / "w"
    root.mkdir()
    r = _start(run_collector, root)
    a = root / "notes.txt"
    # Created with its content already there (a hard link to a file written outside the root):
    # write_text creates the file empty and writes after, so the collector may stat it at 0 bytes.
    staged = tmp_path / "staged.txt"
    staged.write_text("one")
    os.link(staged, a)
    time.sleep(0.2)
    with a.open("a") as f:
        f.write("two")
    b = root / "renamed.txt"
    time.sleep(0.2)
    a.rename(b)
    time.sleep(0.2)
    b.unlink()
    evs = r.sink.wait_for(lambda e: any(x.action == "delete" for x in e))
    kinds = [(e.action, e.path, e.dest) for e in evs]
    assert ("create", str(a), None) in kinds
    assert ("modify", str(a), None) in kinds
    assert ("move", str(a), str(b)) in kinds
    assert ("delete", str(b), None) in kinds
    order = [k[0] for k in kinds if k[0] != "modify"]
    assert order == ["create", "move", "delete"]
    assert all(e.source == "fs" for e in evs)
    create = next(e for e in evs if e.action == "create")
    assert create.meta.get("size") == 3


def test_folders_are_marked_and_their_contents_reported(run_collector, tmp_path):
    root = tmp_path / "w"
    root.mkdir()
    r = _start(run_collector, root)
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "f.txt").write_text("x")
    evs = r.sink.wait_for(lambda e: any(x.path and x.path.endswith("f.txt") for x in e))
    created = {e.path: e for e in _actions(evs, "create")}
    assert created[str(root / "a")].meta.get("is_dir") is True
    assert str(root / "a" / "b" / "f.txt") in created
    # a duplicate report (watchdog's own rescan of a new folder) is not written twice
    paths = [e.path for e in _actions(evs, "create")]
    assert len(paths) == len(set(paths))


def test_excluded_folders_are_neither_reported_nor_watched(run_collector, tmp_path):
    root = tmp_path / "w"
    (root / "node_modules" / "pkg").mkdir(parents=True)
    (root / ".git").mkdir()
    r = _start(run_collector, root)
    (root / "node_modules" / "pkg" / "index.js").write_text("x")
    (root / ".git" / "HEAD").write_text("ref")
    (root / "id.pem").write_text("secret")
    (root / "kept.txt").write_text("x")
    evs = r.sink.wait_for(lambda e: any(x.path and x.path.endswith("kept.txt") for x in e))
    time.sleep(0.3)
    paths = {e.path for e in r.sink.snapshot()}
    assert str(root / "kept.txt") in paths
    assert not any("node_modules" in p or ".git" in p or p.endswith(".pem") for p in paths if p)
    watched = r.collector.observer.watched_paths()
    assert str(root) in watched
    assert not any("node_modules" in p or ".git" in p for p in watched)
    assert evs


def test_non_utf8_names_are_reported(run_collector, tmp_path):
    root = tmp_path / "w"
    root.mkdir()
    r = _start(run_collector, root)
    raw = os.fsencode(str(root)) + b"/caf\xe9-\xff.txt"
    fd = os.open(raw, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
    (root / "plain.txt").write_text("x")
    want = os.fsdecode(raw)
    evs = r.sink.wait_for(lambda e: {want, str(root / "plain.txt")} <= {x.path for x in e})
    assert want in {e.path for e in _actions(evs, "create")}


def test_paths_of_4000_characters_are_reported(run_collector, tmp_path):
    root = tmp_path / "w"
    root.mkdir()
    r = _start(run_collector, root)
    deep = root
    while len(str(deep)) < 3700:
        deep = deep / ("d" * 200)
    deep.mkdir(parents=True)
    target = deep / ("f" * (4000 - len(str(deep)) - 1))
    assert len(str(target)) == 4000
    target.write_text("x")
    evs = r.sink.wait_for(lambda e: str(target) in {x.path for x in e})
    assert str(target) in {e.path for e in _actions(evs, "create")}


def test_files_deleted_before_stat_lose_no_event(run_collector, tmp_path):
    root = tmp_path / "w"
    root.mkdir()
    r = _start(run_collector, root)
    names = [root / f"tmp{i}.part" for i in range(300)]
    for p in names:
        p.write_text("x")
        p.unlink()
    evs = r.sink.wait_for(lambda e: len(_actions(e, "delete")) >= len(names))
    assert {e.path for e in _actions(evs, "create")} == {str(p) for p in names}
    assert {e.path for e in _actions(evs, "delete")} == {str(p) for p in names}
    assert r.collector.state == "running"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every folder")
def test_unreadable_folder_does_not_stop_the_others(run_collector, tmp_path):
    root = tmp_path / "w"
    locked = root / "locked"
    locked.mkdir(parents=True)
    (locked / "inside.txt").write_text("x")
    locked.chmod(0)
    try:
        r = _start(run_collector, root)
        (root / "open.txt").write_text("x")
        evs = r.sink.wait_for(lambda e: any(x.path == str(root / "open.txt") for x in e))
        assert str(root / "open.txt") in {e.path for e in evs}
        r.collector.rescan(str(root), "test")  # a rescan over it neither crashes nor invents
        assert not any(e.action == "delete" for e in r.sink.snapshot())
    finally:
        locked.chmod(0o700)


def test_scan_skips_a_folder_the_os_refuses(tmp_path, monkeypatch):
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "a.txt").write_text("x")
    (tmp_path / "no").mkdir()
    (tmp_path / "no" / "b.txt").write_text("x")
    real = os.scandir

    def refusing(path):
        if str(path).endswith("/no"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", refusing)
    folders, _ = scan_tree(str(tmp_path), lambda p: False)
    assert "a.txt" in folders[str(tmp_path / "ok")]
    assert folders[str(tmp_path / "no")] == {}


def test_tree_model_rescan_reports_only_what_it_missed(tmp_path):
    (tmp_path / "keep.txt").write_text("x")
    (tmp_path / "gone").mkdir()
    (tmp_path / "gone" / "g.txt").write_text("x")
    model = TreeModel(str(tmp_path), lambda p: False)
    model.build()
    shutil.rmtree(tmp_path / "gone")
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "n.txt").write_text("x")
    time.sleep(0.01)
    (tmp_path / "keep.txt").write_text("changed")
    os.utime(tmp_path / "keep.txt", ns=(1, 1))
    changes = {(c.action, os.path.relpath(c.path, tmp_path)) for c in model.rescan()}
    assert changes == {
        ("delete", "gone/g.txt"),
        ("delete", "gone"),
        ("create", "new"),
        ("create", "new/n.txt"),
        ("modify", "keep.txt"),
    }
    assert model.rescan() == []


def test_a_tree_too_large_to_model_still_rescans_changed_files(tmp_path):
    for i in range(10):
        (tmp_path / f"old{i}.txt").write_text("x")
        os.utime(tmp_path / f"old{i}.txt", (1_000_000, 1_000_000))
    model = TreeModel(str(tmp_path), lambda p: False, max_entries=5)
    model.build()
    assert not model.complete and model.folders == {}  # bounded memory
    assert model.add(str(tmp_path / "x"), False) is True  # no dedupe: events pass through
    (tmp_path / "fresh.txt").write_text("new")
    changes = model.rescan()
    assert [(c.action, c.path, c.size) for c in changes] == [
        ("modify", str(tmp_path / "fresh.txt"), 3)
    ]


def test_the_status_says_when_a_root_is_too_large_to_model(run_collector, tmp_path):
    root = tmp_path / "w"
    root.mkdir()
    for i in range(10):
        (root / f"f{i}").write_text("x")
    r = _start(run_collector, root, max_entries=5)
    assert "not modelled" in r.collector.detail
    (root / "new.txt").write_text("x")
    evs = r.sink.wait_for(lambda e: str(root / "new.txt") in {x.path for x in e})
    assert ("create", str(root / "new.txt")) in {(e.action, e.path) for e in evs}
