"""Signed checkpoints of the audit chain head: every way of rewriting history is detected.

Each attack below first shows that the hash chain alone still verifies (where it does),
then that ``verify_audit`` fails naming the checkpoint and sequence.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from permissions import tasks
from permissions.audit import GENESIS, canonical, compute_hash, log_event, verify_chain
from permissions.audit_anchor import signing_keys, verify_checkpoints, write_checkpoint
from permissions.models import AuditChainHead, AuditEvent

KEY = "test-audit-signing-key-kept-outside-the-database"


@pytest.fixture
def anchor_file(tmp_path, settings):
    path = tmp_path / "elsewhere" / "checkpoints.jsonl"
    settings.HUB_AUDIT_CHECKPOINT_PATH = str(path)
    settings.HUB_AUDIT_SIGNING_KEY = KEY
    return path


def _events(count: int) -> None:
    for index in range(count):
        log_event(actor=None, action="test", rows=index)


def _lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _drop_guard() -> None:
    """Let the test rewrite history as an attacker with database access would."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "ALTER TABLE permissions_auditevent "
                "DISABLE TRIGGER permissions_auditevent_append_only"
            )
        else:
            cursor.execute("DROP TRIGGER permissions_auditevent_no_update")


def _rewind_head_to(sequence: int) -> None:
    last = AuditEvent.objects.filter(sequence=sequence).first()
    AuditChainHead.objects.filter(pk=1).update(
        sequence=sequence, hash=last.hash if last else GENESIS
    )


def _verify_fails() -> str:
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit", stdout=StringIO(), stderr=StringIO())
    return str(failure.value)


def test_clean_chain_with_checkpoints_passes(db, anchor_file):
    _events(3)
    assert write_checkpoint().status == "written"
    _events(2)
    assert write_checkpoint().status == "written"
    assert [(line["sequence"], line["hash"]) for line in _lines(anchor_file)] == [
        (3, AuditEvent.objects.get(sequence=3).hash),
        (5, AuditEvent.objects.get(sequence=5).hash),
    ]
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "audit chain intact: 5 events" in out.getvalue()
    assert "2 signed checkpoints, last #5" in out.getvalue()


def test_task_writes_only_when_the_head_moved(db, anchor_file):
    assert tasks.write_audit_checkpoint.delay().get() == {"status": "empty", "sequence": 0}
    _events(2)
    assert tasks.write_audit_checkpoint.delay().get() == {"status": "written", "sequence": 2}
    before = anchor_file.read_bytes()
    assert tasks.write_audit_checkpoint.delay().get() == {"status": "unchanged", "sequence": 2}
    assert anchor_file.read_bytes() == before
    _events(1)
    assert write_checkpoint().status == "written"
    assert [line["sequence"] for line in _lines(anchor_file)] == [2, 3]


def test_checkpoint_is_signed_and_logged(db, anchor_file, caplog, tmp_path):
    _events(4)
    with caplog.at_level(logging.INFO, logger="hub.audit.checkpoint"):
        call_command("audit_checkpoint", stdout=StringIO())
    (line,) = anchor_file.read_text(encoding="utf-8").splitlines()
    data = json.loads(line)
    signed = canonical({name: data[name] for name in ("sequence", "hash", "time", "key_id")})
    expected = hmac.new(KEY.encode(), signed.encode(), hashlib.sha256).hexdigest()
    assert (data["sequence"], data["signature"]) == (4, expected)
    (record,) = [r for r in caplog.records if r.name == "hub.audit.checkpoint"]
    assert record.checkpoint == line
    # The copy shipped with the logs verifies on its own, and catches the same rewind.
    shipped = tmp_path / "log-host.jsonl"
    shipped.write_text(record.checkpoint + "\n", encoding="utf-8")
    anchor_file.unlink()  # The local copy is gone; the shipped one still anchors.
    call_command("verify_audit", "--checkpoints", str(shipped), stdout=StringIO())
    _drop_guard()
    AuditEvent.objects.filter(sequence=4)._raw_delete(connection.alias)
    _rewind_head_to(3)
    assert verify_chain().ok
    with pytest.raises(CommandError, match="checkpoint #4 \\(line 1\\): event #4 is missing"):
        call_command("verify_audit", "--checkpoints", str(shipped), stdout=StringIO())
    with pytest.raises(CommandError, match="does not exist"):
        call_command("verify_audit", "--checkpoints", str(tmp_path / "none"))


def test_default_key_derived_from_secret_key_with_fallbacks(db, settings):
    settings.HUB_AUDIT_SIGNING_KEY = ""
    settings.SECRET_KEY = "first-secret-key"
    (first_id, first_key), *_ = signing_keys().items()
    assert first_key not in (b"first-secret-key", b"")
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "second-secret-key", ["first-secret-key"]
    signing_id, fallback_id = signing_keys()
    assert (fallback_id, signing_id != first_id) == (first_id, True)  # Old ones still verify.
    _events(1)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "first-secret-key", []
    write_checkpoint()
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "second-secret-key", ["first-secret-key"]
    assert verify_checkpoints().ok
    settings.SECRET_KEY_FALLBACKS = []
    (problem,) = verify_checkpoints().problems
    assert problem == f"line 1: checkpoint #1 is signed with an unknown key (key id {first_id})"


def test_edited_event_detected(db, anchor_file):
    _events(5)
    write_checkpoint()
    _drop_guard()
    AuditEvent.objects.filter(sequence=3).update(rows=1000)
    assert verify_checkpoints().ok  # Stored hashes untouched: the chain itself catches it.
    assert "audit chain broken at event #3: content does not match its hash" in _verify_fails()


def test_deleted_event_detected(db, anchor_file):
    _events(5)
    write_checkpoint()
    _drop_guard()
    AuditEvent.objects.filter(sequence=3)._raw_delete(connection.alias)
    message = _verify_fails()
    assert "audit chain broken at event #3: missing event (gap in sequence)" in message


def test_deleted_tail_and_rewound_head_detected(db, anchor_file):
    _events(5)
    write_checkpoint()
    _drop_guard()
    AuditEvent.objects.filter(sequence__gt=3)._raw_delete(connection.alias)
    _rewind_head_to(3)
    assert verify_chain().ok  # Without the anchor this rewind passes.
    message = _verify_fails()
    assert "checkpoint #5 (line 1): event #5 is missing (deleted, truncated or rewound)" in message
    assert "chain head #3 is behind checkpoint #5 (events removed and head rewound)" in message
    # The writer refuses to anchor the rewound head.
    with pytest.raises(CommandError, match="head #3 not anchored \\(behind\\)"):
        call_command("audit_checkpoint", stdout=StringIO())
    assert len(_lines(anchor_file)) == 1


def test_rewound_head_regrown_past_the_checkpoint_detected(db, anchor_file):
    _events(5)
    write_checkpoint()
    _drop_guard()
    AuditEvent.objects.filter(sequence__gt=3)._raw_delete(connection.alias)
    _rewind_head_to(3)
    _events(3)  # New events 4–6 hide the gap before the next checkpoint.
    assert verify_chain().ok
    assert write_checkpoint().status == "written"
    message = _verify_fails()
    assert "checkpoint #5 (line 1): event #5 does not have the anchored hash" in message
    assert "line 2" not in message


def test_truncated_table_detected(db, anchor_file):
    _events(3)
    write_checkpoint()
    _events(2)
    write_checkpoint()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # TRUNCATE bypasses the row trigger.
            cursor.execute("TRUNCATE permissions_auditevent")
        else:  # SQLite has no TRUNCATE and no DELETE trigger.
            cursor.execute("DELETE FROM permissions_auditevent")
    _rewind_head_to(0)
    assert verify_chain().ok and verify_chain().checked == 0
    message = _verify_fails()
    assert "checkpoint #3 (line 1): event #3 is missing" in message
    assert "checkpoint #5 (line 2): event #5 is missing" in message
    assert "chain head #0 is behind checkpoint #5" in message


def test_edit_and_recompute_later_hashes_detected(db, anchor_file):
    _events(3)
    write_checkpoint()
    _events(2)
    write_checkpoint()
    _drop_guard()
    prev_hash = AuditEvent.objects.get(sequence=1).hash
    for event in AuditEvent.objects.filter(sequence__gte=2).order_by("sequence"):
        if event.sequence == 2:
            event.rows = 1000
        event.prev_hash, event.hash = prev_hash, compute_hash(event, prev_hash)
        AuditEvent.objects.filter(pk=event.pk).update(
            rows=event.rows, prev_hash=event.prev_hash, hash=event.hash
        )
        prev_hash = event.hash
    _rewind_head_to(5)
    assert verify_chain().ok  # A consistent, rewritten chain.
    message = _verify_fails()
    assert "checkpoint #3 (line 1): event #3 does not have the anchored hash" in message
    assert "checkpoint #5 (line 2): event #5 does not have the anchored hash" in message
    assert "behind" not in message


def test_forged_and_unsigned_lines_detected(db, anchor_file):
    _events(2)
    write_checkpoint()
    real = _lines(anchor_file)[0]
    head = AuditEvent.objects.get(sequence=2).hash
    forged_key = hmac.new(b"guessed", canonical({"x": 1}).encode(), hashlib.sha256).hexdigest()
    forged = [
        {**real, "sequence": 1, "hash": AuditEvent.objects.get(sequence=1).hash},
        {"sequence": 2, "hash": head, "time": real["time"], "key_id": "abc", "signature": "00"},
        {"sequence": 2, "hash": head, "time": real["time"], "key_id": real["key_id"]},
        {**real, "signature": forged_key},
    ]
    with anchor_file.open("a", encoding="utf-8") as handle:
        for line in forged:
            handle.write(json.dumps(line) + "\n")
        handle.write("not json at all\n")
    assert verify_checkpoints().problems == [
        "line 2: checkpoint #1: signature does not match (forged or altered)",
        "line 3: checkpoint #2 is signed with an unknown key (key id abc)",
        "line 4: checkpoint #2 is unsigned",
        "line 5: checkpoint #2: signature does not match (forged or altered)",
        "line 6: not a JSON checkpoint",
    ]
    assert "line 2: checkpoint #1: signature does not match" in _verify_fails()
    # Forged lines at the end do not hide the last real checkpoint from the writer.
    assert write_checkpoint().status == "unchanged"


def test_tampered_signature_or_content_detected(db, anchor_file):
    _events(3)
    write_checkpoint()
    line = _lines(anchor_file)[0]
    flipped = ("0" if line["signature"][0] != "0" else "1") + line["signature"][1:]
    moved = {**line, "hash": AuditEvent.objects.get(sequence=2).hash, "sequence": 2}
    anchor_file.write_text(
        json.dumps({**line, "signature": flipped}) + "\n" + json.dumps(moved) + "\n",
        encoding="utf-8",
    )
    assert verify_checkpoints().problems == [
        "line 1: checkpoint #3: signature does not match (forged or altered)",
        "line 2: checkpoint #2: signature does not match (forged or altered)",
    ]


def test_line_cut_short_by_a_crash_stays_apart(db, anchor_file):
    _events(1)
    write_checkpoint()
    with anchor_file.open("a", encoding="utf-8") as handle:
        handle.write('{"sequence": 1, "ha')  # A crash in the middle of a write.
    _events(1)
    assert write_checkpoint().status == "written"
    assert verify_checkpoints().problems == ["line 2: not a JSON checkpoint"]
    assert json.loads(anchor_file.read_text().splitlines()[2])["sequence"] == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_anchor_each_head_once(tmp_path, settings):
    path = tmp_path / "checkpoints.jsonl"
    settings.HUB_AUDIT_CHECKPOINT_PATH, settings.HUB_AUDIT_SIGNING_KEY = str(path), KEY
    _events(3)
    barrier = threading.Barrier(4)
    statuses: list[str] = []

    def run() -> None:
        try:
            barrier.wait(timeout=30)
            for _ in range(3):
                statuses.append(write_checkpoint().status)
                log_event(actor=None, action="test")
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    sequences = [line["sequence"] for line in _lines(path)]
    assert sequences == sorted(set(sequences))  # In head order, each head once.
    assert statuses.count("written") == len(sequences) and len(statuses) == 12
    assert verify_checkpoints().ok and verify_chain().ok
