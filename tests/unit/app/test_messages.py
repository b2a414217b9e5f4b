"""The hub's one-line messages."""

from __future__ import annotations

from types import SimpleNamespace

from selflow_qt.app import messages


def test_a_drop_says_what_it_imported_watched_and_what_failed():
    report = SimpleNamespace(
        imported=2, total=1200, watched=["/a"], errors={"/tmp/x/history.txt": "not text"}
    )
    assert messages.import_line(report) == (
        "Import: imported 1,200 events; now watching 1 more; history.txt failed: not text"
    )
    empty = SimpleNamespace(imported=0, total=0, watched=[], errors={})
    assert messages.import_line(empty) == "Import: nothing found to import"


def test_the_first_imports_patterns_are_named():
    found = [SimpleNamespace(name=f"Routine {i}") for i in range(1, 9)]
    assert messages.found_patterns_line(found[:2]) == (
        "Your history: 2 patterns found (Routine 1, Routine 2)"
    )
    assert messages.found_patterns_line(found) == (
        "Your history: 8 patterns found (Routine 1, Routine 2, …)"
    )  # the status bar holds one short line; the Cluster Explorer shows them all


def test_new_patterns_and_analysis_lines():
    one, two = SimpleNamespace(name="Backups"), SimpleNamespace(name="Reports")
    assert messages.new_patterns_line([one]) == "New pattern: Backups"
    assert messages.new_patterns_line([one, two]) == "New patterns: Backups, Reports"
    assert (
        messages.analysis_line(SimpleNamespace(patterns=[one])) == "Analysis finished: 1 pattern."
    )


def test_ignored_settings_are_one_line_and_a_notification_listing_all():
    line, title, body = messages.settings_warning(("a: bad", "b: bad"))
    assert (line, title, body) == (
        "Settings: a: bad",
        "Some settings were ignored",
        "a: bad\nb: bad",
    )
