"""The MQTT door of the push path: verify a message, then accept it as a push.

Each message goes through the same checks and the same service as an HTTP push: the
signing key must be a usable push-scoped key of the topic's department, the resource
must be one that key may upload to (``uploadable_resource``, the HTTP push's door), and
the rows are stored by ``accept_push`` as a receipt loaded by the same micro-batches.
A message is its own idempotency key (its ``id``, else the digest of topic and body), so
a QoS 1 redelivery is a replay, not a second push; a replay that slips past it (another
id) is still harmless: the record store upserts on the natural key.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from django.db import InterfaceError, OperationalError, transaction

from connectors.api.views import uploader_department
from connectors.selectors import uploadable_resource
from hub.catalog.restricted import write_service
from permissions.audit import log_event
from permissions.authentication import signing_key
from permissions.models import ApiKeyScope
from streaming import mqtt, services

logger = logging.getLogger(__name__)

__all__ = ["MessageOutcome", "accept_messages"]


@dataclass(frozen=True)
class MessageOutcome:
    """What became of one message: accepted, replayed (a redelivery) or rejected."""

    status: str
    receipt: int | None = None
    rows: int = 0
    reason: str = ""
    message: str = ""


def max_rows() -> int:
    from streaming.api.views import max_push_rows

    return max_push_rows()


@write_service
def accept_messages(*, messages: list[tuple[str, bytes]]) -> list[MessageOutcome]:
    """Accept (topic, payload) messages in one transaction, one outcome each, in order.

    Rejections are final (the bridge acknowledges them): logged and audited with their
    reason. A database error rolls everything back and propagates: nothing of the
    batch is acknowledged, the broker delivers it again.
    """
    keys: dict[str, Any] = {}  # prefix -> (key, secret) | None, read once per batch
    resources: dict[tuple[int, str], Any] = {}
    limit = max_rows()
    outcomes = []
    context = {"keys": keys, "resources": resources, "limit": limit}
    with transaction.atomic():
        for topic, payload in messages:
            try:
                with transaction.atomic():  # one message's savepoint
                    outcome = _accept_one(topic, payload, context)
            except (OperationalError, InterfaceError):
                raise
            except Exception as exc:  # a poison message must not block the queue forever
                logger.exception("mqtt message on %s failed", topic[:200])
                outcome = _reject(topic, "", "", None, "error", type(exc).__name__)
            outcomes.append(outcome)
    return outcomes


def _accept_one(topic: str, payload: bytes, context: dict) -> MessageOutcome:
    key = None
    prefix, code = "", ""
    try:
        department_code, code = mqtt.parse_topic(topic)
        envelope = mqtt.parse_payload(payload, max_rows=context["limit"])
        prefix = envelope.key_prefix
        if prefix not in context["keys"]:
            context["keys"][prefix] = signing_key(prefix)
        found = context["keys"][prefix]
        if found is None:
            raise mqtt.MessageError("unknown_key", "unknown, revoked or expired key")
        key, secret = found
        if not mqtt.verify(secret, topic, envelope.body, envelope.signature):
            raise mqtt.MessageError("bad_signature", "signature does not match")
        if key.department.code != department_code:
            raise mqtt.MessageError("wrong_department", "topic of another department")
        if not key.has_scope(ApiKeyScope.PUSH):
            raise mqtt.MessageError("no_push_scope", "key without the push scope")
        cached = (key.pk, code)
        if cached not in context["resources"]:
            context["resources"][cached] = uploadable_resource(key.user, code)
        resource = context["resources"][cached]
        if resource is None:
            raise mqtt.MessageError("unknown_resource", "no such resource of the department")
        digest = hashlib.sha256(f"{topic}\n{envelope.body}".encode()).hexdigest()
        accepted = services.accept_push(
            resource=resource,
            department=uploader_department(key.user, resource),
            records=envelope.rows,
            user=key.user,
            api_key_prefix=prefix,
            idempotency_key=f"mqtt:{envelope.message_id or digest}",
        )
    except mqtt.MessageError as exc:
        return _reject(topic, code, prefix, key, exc.reason, exc.message)
    except services.PushConflict as exc:
        return _reject(topic, code, prefix, key, "conflict", exc.message)
    return MessageOutcome(
        status="replayed" if accepted.replayed else "accepted",
        receipt=accepted.receipt.pk,
        rows=accepted.receipt.row_count,
    )


def _reject(topic, code, prefix, key, reason: str, message: str) -> MessageOutcome:
    logger.warning("mqtt message on %s rejected (%s): %s", topic[:200], reason, message)
    log_event(
        actor=key.user if key is not None else None,
        action="upload",
        resource=code[:64],
        api_key_prefix=prefix[:16],
        outcome="denied",
        detail={"source": "mqtt", "reason": reason, "topic": topic[:200]},
    )
    return MessageOutcome(status="rejected", reason=reason, message=message)
