"""`selflow analyze`'s report says its patterns' top terms in words, as the docks do."""

from __future__ import annotations

from types import SimpleNamespace

from selflow_qt.cli.analyze import format_result


def test_the_pattern_table_has_no_feature_keys():
    pattern = SimpleNamespace(
        pattern_id=3, is_new=True, name="Coding", event_count=1200, confidence=0.9, support=4,
        top_terms=["act:shell/command", "verb:git", "ext:.py", "depth:2", "dir:~/src"],
    )  # fmt: skip
    res = SimpleNamespace(
        run_id=1, n_events=1200, reduction="umap", algorithms={},
        agreement=SimpleNamespace(names=[]), consensus_score=0.7, patterns=[pattern],
        unstable=[], decisions=[], stages={"features": 0.1},
    )  # fmt: skip
    row = next(line for line in format_result(res).splitlines() if line.lstrip().startswith("#3"))
    assert "shell commands, git, .py files, ~/src" in row, row
    assert "shell/command" not in row and "depth" not in row and "act:" not in row
