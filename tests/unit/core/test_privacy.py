"""Privacy: excluded paths and planted secrets never reach the database file."""

from __future__ import annotations

import fnmatch
import json
import os
import random
import re
from pathlib import Path

import pytest

from selflow_qt.collect.importers import import_file
from selflow_qt.core.event import Event
from selflow_qt.core.privacy import PrivacyFilter
from selflow_qt.core.settings import Settings
from selflow_qt.store.context import StoreContext
from selflow_qt.store.writer import EventWriter

HOME = os.path.expanduser("~")

EXCLUDED = [
    f"{HOME}/.ssh/id_rsa",
    f"{HOME}/.ssh",
    "/w/proj/.env",
    "/w/proj/.env.production",
    "/w/certs/server.pem",
    "/w/certs/tls.key",
    "/w/proj/node_modules/left-pad/index.js",
    "/w/proj/.git/objects/ab/cdef",
    "/w/proj/.git",
    f"{HOME}/.mozilla/firefox/abc.default/cookies.sqlite",
    f"{HOME}/.config/google-chrome/Default/History",
    f"{HOME}/.local/share/keyrings/login.keyring",
    f"{HOME}/.gnupg/private-keys-v1.d/x.key",
    f"{HOME}/.password-store/bank.gpg",
    f"{HOME}/.aws/credentials",
    "/w/proj/__pycache__/m.cpython-311.pyc",
    "C:\\Users\\me\\.ssh\\id_ed25519",
]
KEPT = [
    "/w/proj/src/main.py",
    "/w/env/notes.md",
    "/w/proj/.envrc",
    "/w/builder/plan.md",
    "/w/proj/keynote.txt",
    "/w/proj/pem-notes.md",
    "/w/proj/git/README.md",
]


@pytest.mark.parametrize("path", EXCLUDED)
def test_default_exclusions(path: str) -> None:
    assert PrivacyFilter().is_excluded(path)


@pytest.mark.parametrize("path", KEPT)
def test_ordinary_paths_are_kept(path: str) -> None:
    assert not PrivacyFilter().is_excluded(path)


def test_glob_matching_agrees_with_fnmatch() -> None:
    """The fast matcher gives exactly fnmatch's answers (path or path + '/')."""
    pf = PrivacyFilter(["~/private/", "*.secret", "/opt/x/*.log", "notes?.txt", "[ab]c.md"])
    slow = re.compile("|".join(fnmatch.translate(g) for g in pf._globs))
    parts = [".git", "node_modules", "a", "b.pem", ".env", ".env.x", "selflow.db-wal", "build"]
    parts += ["src", "f~", "Library", "Application Support", "Google", "Chrome", ".ssh"]
    parts += ["private", "opt", "x", "y.log", "notes1.txt", "ac.md", "z.secret", ".docker", ""]
    rng = random.Random(7)
    for _ in range(5_000):
        p = ("/" if rng.random() < 0.8 else "") + "/".join(
            rng.choice(parts) for _ in range(rng.randint(0, 6))
        )
        assert pf.is_excluded(p) == bool(slow.match(p) or slow.match(p + "/")), p


REDACTIONS = [
    ("aws s3 ls --key AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
    ("git push https://ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/x", "ghp_abcdef"),
    ("psql --password=Tr0ub4dor&3 -h db", "Tr0ub4dor&3"),
    ("app --token s3cr3t-t0ken", "s3cr3t-t0ken"),
    ("git clone https://alice:Pa55@word@git.example.com/r.git", "Pa55@word"),
    ("export API_TOKEN=tok_9f8e7d6c5b4a", "tok_9f8e7d6c5b4a"),
    ("DB_PASSWORD='hunter two' ./run", "hunter two"),
    ('curl -H "Authorization: Bearer sekr1t-bearer" https://api', "sekr1t-bearer"),
    ("curl -H 'Authorization: Bearer \"quoted secret\"' https://api", "quoted secret"),
    ("mysql -u root -pMyDbSecret42 shop", "MyDbSecret42"),
    ("curl 'https://api.example.com/v1?access_token=abc123xyz&page=2'", "abc123xyz"),
    ("sshpass -p hunter3 ssh host", "hunter3"),
    ('echo \'{"password": "jsonpw1"}\' | post', "jsonpw1"),
    ("echo -----BEGIN RSA PRIVATE KEY-----MIIEow-----END RSA PRIVATE KEY-----", "MIIEow"),
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG", "wJalrXUtnFEMI"),
]


@pytest.mark.parametrize(("text", "secret"), REDACTIONS)
def test_secrets_are_redacted_and_context_kept(text: str, secret: str) -> None:
    out = PrivacyFilter().redact(text)
    assert secret not in out
    assert "[REDACTED]" in out
    assert out.startswith(text.split()[0].split("=")[0])  # the command itself survives


def test_redaction_keeps_ordinary_text_and_is_idempotent() -> None:
    pf = PrivacyFilter()
    for text in ["git commit -m 'tokenizer fix'", "mysql -p shop", "ls --port=22"]:
        assert pf.redact(text) == text
    for text, _ in REDACTIONS:
        once = pf.redact(text)
        assert pf.redact(once) == once


def test_query_redaction_keeps_other_parameters() -> None:
    out = PrivacyFilter().redact("https://x/api?token=abc&page=2")
    assert out == "https://x/api?token=[REDACTED]&page=2"


def test_move_into_an_excluded_place_becomes_a_delete() -> None:
    ev = Event(ts=1.0, source="fs", action="move", path="/w/a.txt", dest=f"{HOME}/.ssh/a.txt")
    out = PrivacyFilter().apply(ev)
    assert out is not None and (out.action, out.path, out.dest) == ("delete", "/w/a.txt", None)


def test_nested_meta_strings_are_redacted() -> None:
    ev = Event(ts=1.0, source="aw", action="x", meta={"a": {"b": ["--password=zz9"]}, "n": 3})
    out = PrivacyFilter().apply(ev)
    assert out is not None and out.meta == {"a": {"b": ["--password=[REDACTED]"]}, "n": 3}


def test_incognito_events_are_dropped() -> None:
    ev = Event(ts=1.0, source="aw", action="browse", meta={"url": "https://x", "incognito": True})
    assert PrivacyFilter().apply(ev) is None


def test_invalid_user_pattern_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"redaction pattern '\(unclosed' is invalid"):
        PrivacyFilter(secret_patterns=["(unclosed"])


# -- what reaches the database file ------------------------------------------------------------

PLANTED = {
    "aws": ("aws configure set aws_access_key_id AKIAQWERTYUIOPASDFGH", "AKIAQWERTYUIOPASDFGH"),
    "ghp": ("gh auth login --with-token ghp_PlantedGithubTokenValue0123456789", "PlantedGithub"),
    "flag": ("pg_dump --password=PlantedFlagPw9 app", "PlantedFlagPw9"),
    "url": ("git clone https://bob:PlantedUrlPw7@example.com/r.git", "PlantedUrlPw7"),
    "env": ("export API_TOKEN=PlantedEnvTok5", "PlantedEnvTok5"),
    "bearer": ('curl -H "Authorization: Bearer PlantedBearer3" https://x', "PlantedBearer3"),
    "bearer quoted": ("curl -H 'Authorization: Bearer \"PlantedQuoted 1\"' x", "PlantedQuoted"),
    "mysql": ("mysql -u root -pPlantedMysql2 shop", "PlantedMysql2"),
}
EXCLUDED_MARKERS = {
    f"{HOME}/.ssh/id_rsa_markerkey": "id_rsa_markerkey",
    "/w/proj/.env": "/w/proj/.env",
    "/w/certs/markercert.pem": "markercert",
    "/w/proj/node_modules/markerpkg/index.js": "markerpkg",
    "/w/proj/.git/objects/markerobj": "markerobj",
    f"{HOME}/.mozilla/firefox/markerprofile/places.sqlite": "markerprofile",
    f"{HOME}/.local/share/keyrings/markerring.keyring": "markerring",
    "/w/clientwork/markerclient.md": "markerclient",  # user-configured glob
    "/w/notes/markernote.secret": "markernote",  # user-configured glob
}
USER_SECRET = ("deploy --ticket ACME-424242 now", "ACME-424242")  # user-configured pattern
BENIGN = {
    "/w/proj/benign_report_marker.md": "benign_report_marker",
    "make benign_build_marker": "benign_build_marker",
}


def planted_events() -> list[Event]:
    base = 1_709_280_000.0
    evs: list[Event] = []
    for i, (cmd, _) in enumerate([*PLANTED.values(), USER_SECRET]):
        evs.append(Event(ts=base + i, source="shell", action="command", cmd=cmd, cwd="/w/proj"))
    for i, path in enumerate(EXCLUDED_MARKERS):
        evs.append(Event(ts=base + 100 + i, source="fs", action="modify", path=path))
    evs.append(
        Event(
            ts=base + 200,
            source="fs",
            action="move",
            path="/w/proj/draft.txt",
            dest=f"{HOME}/.ssh/movedmarker.txt",
        )
    )
    evs.append(
        Event(
            ts=base + 201,
            source="shell",
            action="command",
            cmd="cat cwdmarker",
            cwd=f"{HOME}/.gnupg",
        )
    )
    evs.append(
        Event(ts=base + 300, source="fs", action="create", path="/w/proj/benign_report_marker.md")
    )
    evs.append(
        Event(ts=base + 301, source="shell", action="command", cmd="make benign_build_marker")
    )
    return evs


def configure(data_dir: Path) -> None:
    """Settings as a user would write them by hand in settings.json."""
    (data_dir / "settings.json").write_text(
        json.dumps(
            {
                "exclude_globs": ["**/clientwork/**", "*.secret"],
                "redact_patterns": ["ACME-[0-9]{6}"],
            }
        )
    )
    assert Settings.load(data_dir).redact_patterns == ["ACME-[0-9]{6}"]


def db_bytes(data_dir: Path) -> bytes:
    data = b""
    for name in ("selflow.db", "selflow.db-wal", "selflow.db-journal"):
        p = data_dir / name
        if p.exists():
            data += p.read_bytes()
    return data


def assert_clean(data: bytes) -> None:
    assert data, "the database file is there"
    for _, secret in [*PLANTED.values(), USER_SECRET]:
        assert secret.encode() not in data, f"secret {secret!r} reached the database"
    for marker in [*EXCLUDED_MARKERS.values(), "movedmarker", "cwdmarker"]:
        assert marker.encode() not in data, f"excluded {marker!r} reached the database"
    for marker in BENIGN.values():
        assert marker.encode() in data, f"benign {marker!r} is missing"
    assert b"[REDACTED]" in data


def write_through_writer(ctx: StoreContext) -> None:
    writer = EventWriter(ctx.db_path, PrivacyFilter.from_settings(ctx.settings)).start()
    for ev in planted_events():
        writer.submit(ev)
    assert writer.flush()
    writer.close()
    assert writer.error is None
    assert writer.stats.written == len(PLANTED) + 1 + 1 + 2  # commands, the move, benign
    assert writer.stats.filtered == len(EXCLUDED_MARKERS) + 1


def write_through_import(ctx: StoreContext, tmp_path: Path) -> None:
    path = tmp_path / "planted.jsonl"
    path.write_text("".join(ev.to_json() + "\n" for ev in planted_events()))
    report = import_file(ctx, "jsonl", path)
    assert report.filtered == len(EXCLUDED_MARKERS) + 1


@pytest.mark.parametrize("route", ["writer", "import"])
def test_nothing_excluded_or_secret_reaches_the_file(
    data_dir: Path, tmp_path: Path, route: str
) -> None:
    configure(data_dir)
    ctx = StoreContext.open(data_dir)
    try:
        if route == "writer":
            write_through_writer(ctx)
        else:
            write_through_import(ctx, tmp_path)
        assert_clean(db_bytes(data_dir))  # while open: database and WAL as they are
        n = ctx.db.execute_sql("SELECT count(*) FROM events").fetchone()[0]
        assert n == len(PLANTED) + 1 + 1 + 2
    finally:
        ctx.close()  # last connection: the WAL is checkpointed into the file
    assert not (data_dir / "selflow.db-wal").exists()
    assert_clean(db_bytes(data_dir))


def test_the_check_itself_sees_an_unfiltered_secret(data_dir: Path) -> None:
    """Guard against a vacuous test: without the filter the planted bytes are found."""
    ctx = StoreContext.open(data_dir)
    try:
        writer = EventWriter(ctx.db_path, privacy=None).start()
        for ev in planted_events():
            writer.submit(ev)
        writer.close()
    finally:
        ctx.close()
    data = db_bytes(data_dir)
    assert b"PlantedMysql2" in data and b"markerpkg" in data


def test_redact_text_applies_the_default_rules_for_writers_outside_the_pipeline() -> None:
    from selflow_qt.core.privacy import redact_text

    assert redact_text("curl -u admin:hunter2xyz https://x") == "curl -u admin:[REDACTED] https://x"
    assert redact_text("git status") == "git status"
    assert redact_text(None) is None


def test_meta_keys_app_and_secret_named_values_are_redacted() -> None:
    ev = Event(
        ts=1.0,
        source="aw",
        action="focus",
        app="deploy --token AppFieldTok9",
        meta={"ghp_MetaKeyTokenValue0123456789abcdef01": 1, "password": "plainvalue", "n": 3},
    )
    out = PrivacyFilter().apply(ev)
    assert out is not None and "AppFieldTok9" not in out.app
    text = json.dumps(out.meta)
    assert "MetaKeyTokenValue" not in text and "plainvalue" not in text
    assert out.meta["n"] == 3
