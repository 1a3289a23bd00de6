"""Signed checkpoints of the audit chain head, kept outside the database (审计链锚定).

The hash chain (``permissions.audit``) detects an edited event, but not a chain that was
cut and rewound, or edited and rehashed from that point on: the database alone cannot
prove what it held before. A checkpoint records the head (sequence, hash) at a time,
signed with HMAC-SHA256 under a key the database never sees, and is appended to a file
outside the database (``HUB_AUDIT_CHECKPOINT_PATH``, default
``<MEDIA_ROOT>/audit/checkpoints.jsonl``) and to the ``hub.audit.checkpoint`` logger.
``verify_checkpoints`` then checks that every signed checkpoint still matches the event
at its sequence and that the head is not behind the last one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from permissions.audit import canonical
from permissions.models import AuditChainHead, AuditEvent

try:  # POSIX record locks also work on NFS, where MEDIA_ROOT is often shared.
    import fcntl
except ImportError:  # pragma: no cover - Windows development machines: thread lock only.
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger("hub.audit.checkpoint")

KEY_SALT = "hub.audit.checkpoint.signing-key"
SIGNED_FIELDS = ("sequence", "hash", "time", "key_id")
# POSIX record locks belong to the process, so threads of one process also need this one.
_thread_lock = threading.Lock()


@dataclass(frozen=True)
class Checkpoint:
    """One signed checkpoint of the chain head."""

    sequence: int
    hash: str
    time: str
    key_id: str
    signature: str

    def signed_content(self) -> str:
        return canonical({name: getattr(self, name) for name in SIGNED_FIELDS})

    def to_line(self) -> str:
        return canonical({**json.loads(self.signed_content()), "signature": self.signature})


@dataclass(frozen=True)
class CheckpointResult:
    """Outcome of ``write_checkpoint``: ``status`` is ``written``, ``unchanged``,
    ``empty`` (no event yet), or a refusal, ``behind`` (head behind or diverged from the
    last checkpoint) or ``inconsistent`` (head does not match its event)."""

    status: str
    sequence: int
    hash: str
    checkpoint: Checkpoint | None = None
    path: Path | None = None

    @property
    def written(self) -> bool:
        return self.status == "written"

    @property
    def refused(self) -> bool:
        return self.status in ("behind", "inconsistent")


@dataclass(frozen=True)
class AnchorReport:
    """Result of ``verify_checkpoints``: the problems found, each naming its sequence."""

    path: Path
    exists: bool
    checkpoints: int
    last_sequence: int | None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def checkpoint_path() -> Path:
    """The checkpoint file: ``HUB_AUDIT_CHECKPOINT_PATH`` or under MEDIA_ROOT."""
    configured = getattr(settings, "HUB_AUDIT_CHECKPOINT_PATH", "")
    if configured:
        return Path(configured)
    return Path(settings.MEDIA_ROOT) / "audit" / "checkpoints.jsonl"


def _key_id(key: bytes) -> str:
    return hashlib.sha256(b"hub-audit-key-id:" + key).hexdigest()[:12]


def _derived_key(secret: str) -> bytes:
    # Its own salt: knowing a session or signing value of Django gives nothing here.
    return salted_hmac(KEY_SALT, "audit-checkpoint", secret=secret, algorithm="sha256").digest()


def signing_keys() -> dict[str, bytes]:
    """Verification keys by key id; the first one signs new checkpoints.

    ``HUB_AUDIT_SIGNING_KEY`` when set; otherwise keys derived from SECRET_KEY and its
    SECRET_KEY_FALLBACKS, so a rotated SECRET_KEY still verifies older checkpoints.
    Never read from the database.
    """
    configured = getattr(settings, "HUB_AUDIT_SIGNING_KEY", "")
    if configured:
        keys = [configured.encode("utf-8")]
    else:
        secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
        keys = [_derived_key(secret) for secret in secrets]
    return {_key_id(key): key for key in keys}


def sign(*, sequence: int, hash: str, time: str, key: bytes) -> Checkpoint:
    """A checkpoint of (sequence, hash) at ``time``, signed with ``key``."""
    unsigned = Checkpoint(sequence, hash, time, _key_id(key), "")
    signature = hmac.new(key, unsigned.signed_content().encode("utf-8"), hashlib.sha256)
    return Checkpoint(sequence, hash, time, unsigned.key_id, signature.hexdigest())


def parse_line(line: str, keys: dict[str, bytes]) -> tuple[Checkpoint | None, str]:
    """A checkpoint whose signature verifies, or None and why not."""
    try:
        data = json.loads(line)
    except ValueError:
        return None, "not a JSON checkpoint"
    if not isinstance(data, dict):
        return None, "not a JSON checkpoint"
    sequence = data.get("sequence")
    label = f"checkpoint #{sequence}" if isinstance(sequence, int) else "checkpoint"
    if not data.get("signature"):
        return None, f"{label} is unsigned"
    values = [data.get(name) for name in (*SIGNED_FIELDS, "signature")]
    if (
        not isinstance(sequence, int)
        or isinstance(sequence, bool)
        or sequence < 1
        or not all(isinstance(value, str) for value in values[1:])
    ):
        return None, f"{label} has missing or malformed fields"
    checkpoint = Checkpoint(*values)
    key = keys.get(checkpoint.key_id)
    if key is None:
        return None, f"{label} is signed with an unknown key (key id {checkpoint.key_id})"
    expected = sign(sequence=sequence, hash=checkpoint.hash, time=checkpoint.time, key=key)
    if not hmac.compare_digest(expected.signature, checkpoint.signature):
        return None, f"{label}: signature does not match (forged or altered)"
    return checkpoint, ""


def _read_head() -> tuple[int, str, str | None]:
    """The head (sequence, hash) and the stored hash of the event it points to.

    Locking the head row gives this transaction an id, so on PostgreSQL its commit waits
    for the WAL flush, which also flushes every read event committed before it without
    waiting (``HUB_AUDIT_SYNC_READS`` off): a checkpoint never anchors an event that a
    database crash could still lose. Call it outside a transaction for that to hold.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = on")
        head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
        if head is None or head.sequence == 0:
            return 0, "", None
        stored = AuditEvent.objects.filter(sequence=head.sequence)
        return head.sequence, head.hash, stored.values_list("hash", flat=True).first()


def _last_line(handle: Any) -> bytes:
    """The file's last line (without its newline), read backwards from the end."""
    position = handle.seek(0, os.SEEK_END)
    tail = b""
    while position > 0:
        step = min(4096, position)
        position -= step
        handle.seek(position)
        tail = handle.read(step) + tail
        if b"\n" in tail.rstrip(b"\n"):
            break
    return tail.rstrip(b"\n").rsplit(b"\n", 1)[-1]


def _last_checkpoint(handle: Any, keys: dict[str, bytes]) -> Checkpoint | None:
    """The last signed checkpoint: the last line, or (when that line is not a valid
    checkpoint, e.g. forged) the highest valid one anywhere in the file."""
    last, _ = parse_line(_last_line(handle).decode("utf-8", "replace"), keys)
    if last is not None:
        return last
    handle.seek(0)
    valid = (parse_line(raw.decode("utf-8", "replace"), keys)[0] for raw in handle)
    return max(filter(None, valid), key=lambda c: c.sequence, default=None)


def write_checkpoint(*, path: Path | None = None) -> CheckpointResult:
    """Append a signed checkpoint of the chain head when it moved since the last one.

    Not itself an audit event: logging it would move the head and make every run write.
    The file is locked while the head is read and the line appended, so concurrent runs
    write in head order and never twice for one head; the line is fsynced before return.
    """
    target = path or checkpoint_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    keys = signing_keys()
    key_id = next(iter(keys))
    with _thread_lock, open(target, "a+b") as handle:
        if fcntl is not None:
            fcntl.lockf(handle, fcntl.LOCK_EX)
        try:
            sequence, head_hash, event_hash = _read_head()
            if sequence == 0:
                return CheckpointResult("empty", 0, "", path=target)
            last = _last_checkpoint(handle, keys)
            if last is not None and (last.sequence, last.hash) == (sequence, head_hash):
                return CheckpointResult("unchanged", sequence, head_hash, last, target)
            if last is not None and sequence <= last.sequence:
                logger.error(
                    "audit chain head #%s is behind or diverged from checkpoint #%s: "
                    "not anchoring it (run verify_audit)",
                    sequence,
                    last.sequence,
                )
                return CheckpointResult("behind", sequence, head_hash, last, target)
            if event_hash != head_hash:
                logger.error(
                    "audit chain head #%s does not match its event: not anchoring it "
                    "(run verify_audit)",
                    sequence,
                )
                return CheckpointResult("inconsistent", sequence, head_hash, None, target)
            now = timezone.now().isoformat(timespec="seconds")
            checkpoint = sign(sequence=sequence, hash=head_hash, time=now, key=keys[key_id])
            line = checkpoint.to_line()
            size = handle.seek(0, os.SEEK_END)
            # A line cut short by a crash stays a line of its own (reported by verify).
            separator = b"\n" if size and not _ends_with_newline(handle) else b""
            handle.write(separator + line.encode("utf-8") + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
            if size == 0:
                _fsync_directory(target.parent)
        finally:
            if fcntl is not None:
                fcntl.lockf(handle, fcntl.LOCK_UN)
    logger.info("audit checkpoint %s", line, extra={"checkpoint": line})
    return CheckpointResult("written", sequence, head_hash, checkpoint, target)


def _ends_with_newline(handle: Any) -> bool:
    handle.seek(-1, os.SEEK_END)
    ends = handle.read(1) == b"\n"
    handle.seek(0, os.SEEK_END)
    return ends


def _fsync_directory(directory: Path) -> None:
    """Make a new file's directory entry durable too (POSIX only)."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms that cannot open directories
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def iter_checkpoints(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of every non-empty line of a checkpoint file."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, text in enumerate(handle, start=1):
            if text.strip():
                yield number, text.strip()


def verify_checkpoints(*, path: Path | None = None, chunk_size: int = 1000) -> AnchorReport:
    """Check every checkpoint against the chain and report each problem found.

    A checkpoint must be signed with a known key; the event at its sequence must exist
    (deletion, truncation, rewind) with the anchored hash (edit and rehash); the head must
    not be behind the last checkpoint, nor differ from it at the same sequence.
    """
    source = path or checkpoint_path()
    if not source.exists():
        return AnchorReport(source, False, 0, None)
    keys = signing_keys()
    problems: list[str] = []
    anchored: list[tuple[int, Checkpoint]] = []
    for number, text in iter_checkpoints(source):
        checkpoint, reason = parse_line(text, keys)
        if checkpoint is None:
            problems.append(f"line {number}: {reason}")
        else:
            anchored.append((number, checkpoint))
    for start in range(0, len(anchored), chunk_size):
        chunk = anchored[start : start + chunk_size]
        stored = dict(
            AuditEvent.objects.filter(
                sequence__in={checkpoint.sequence for _, checkpoint in chunk}
            ).values_list("sequence", "hash")
        )
        for number, checkpoint in chunk:
            where = f"checkpoint #{checkpoint.sequence} (line {number})"
            if checkpoint.sequence not in stored:
                problems.append(
                    f"{where}: event #{checkpoint.sequence} is missing "
                    "(deleted, truncated or rewound)"
                )
            elif stored[checkpoint.sequence] != checkpoint.hash:
                problems.append(
                    f"{where}: event #{checkpoint.sequence} does not have the anchored hash "
                    "(edited and rehashed)"
                )
    last = max((checkpoint for _, checkpoint in anchored), key=lambda c: c.sequence, default=None)
    if last is not None:
        head = AuditChainHead.objects.filter(pk=1).first()
        head_sequence = head.sequence if head else 0
        if head_sequence < last.sequence:
            problems.append(
                f"chain head #{head_sequence} is behind checkpoint #{last.sequence} "
                "(events removed and head rewound)"
            )
        elif head_sequence == last.sequence and head.hash != last.hash:
            problems.append(f"chain head #{head_sequence} differs from checkpoint #{last.sequence}")
    return AnchorReport(
        source, True, len(anchored), last.sequence if last else None, problems=problems
    )
