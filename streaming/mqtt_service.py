"""The MQTT door of the push path: verify a message, then accept it as a push.

Each message goes through the same checks and the same service as an HTTP push: the
signing key must be a usable push-scoped key of the topic's department, the resource
must be one that key may upload to (``uploadable_resource``, the HTTP push's door), and
the rows are stored as receipts loaded by the same micro-batches (``intake.accept_pushes``,
``accept_push`` for a whole batch of messages at once).
A message is its own idempotency key (its ``id``, else the digest of topic and body), so
a QoS 1 redelivery is a replay, not a second push; a replay that slips past it (another
id) is still harmless: the record store upserts on the natural key.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from django.db import InterfaceError, OperationalError, transaction

from connectors.api.views import uploader_department
from connectors.selectors import uploadable_resource
from hub.catalog.restricted import write_service
from permissions.audit import log_event
from permissions.authentication import signing_key
from permissions.models import ApiKeyScope
from streaming import intake, mqtt, receipt_insert, services
from streaming.intake import PushRequest

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


def warm_up() -> None:
    """Load before serving (and before ``--processes`` forks its bridges) what the first
    batch of messages would load while the broker's messages wait: a standby that takes
    a session over serves at once (bench/README-mqtt.md, session 15)."""
    services.warm_up()
    receipt_insert.warm_up()
    max_rows()


def max_rows() -> int:
    from streaming.api.views import max_push_rows

    return max_push_rows()


@write_service
def accept_messages(*, messages: list[tuple[str, bytes]]) -> list[MessageOutcome]:
    """Accept (topic, payload) messages in one transaction, one outcome each, in order.

    Rejections are final (the bridge acknowledges them): logged and audited with their
    reason. A lost database connection rolls everything back and propagates: nothing of
    the batch is acknowledged, the broker delivers it again. Any other failure of one
    message is rejected (reason ``error``) so one poison message cannot stall the rest.
    """
    context = {"keys": {}, "resources": {}, "limit": max_rows()}
    outcomes: list[MessageOutcome | None] = [None] * len(messages)
    valid: list[tuple[int, str, PushRequest]] = []
    with transaction.atomic():
        for index, (topic, payload) in enumerate(messages):
            try:
                valid.append((index, topic, _verify(topic, payload, context)))
            except Rejected as exc:
                outcomes[index] = _reject(topic, exc.code, exc.prefix, exc.key, exc.reason,
                                          exc.message)  # fmt: skip
            except (OperationalError, InterfaceError):
                raise
            except Exception as exc:  # a poison message must not block the queue forever
                logger.exception("mqtt message on %s failed", topic[:200])
                outcomes[index] = _reject(topic, "", "", None, "error", type(exc).__name__)
        for (index, topic, push), result in zip(valid, _accept(valid), strict=True):
            outcomes[index] = _outcome(topic, push, result)
    return outcomes  # type: ignore[return-value]


def _accept(valid: list[tuple[int, str, PushRequest]]) -> list:
    """The pushes accepted together; should that fail for another reason than the
    database, each alone (in its savepoint), so only the culprit is rejected."""
    pushes = [push for _, _, push in valid]
    try:
        with transaction.atomic():
            return intake.accept_pushes(pushes=pushes, source="mqtt")
    except (OperationalError, InterfaceError):
        raise
    except Exception:
        logger.exception("mqtt batch of %d failed: accepting one by one", len(pushes))
    results: list = []
    for push in pushes:
        try:
            with transaction.atomic():
                results.extend(intake.accept_pushes(pushes=[push], source="mqtt"))
        except (OperationalError, InterfaceError):
            raise
        except Exception as exc:
            results.append(exc)
    return results


def _outcome(topic: str, push: PushRequest, result) -> MessageOutcome:
    user, prefix, code = push.user, push.api_key_prefix, push.resource.code
    if isinstance(result, services.PushConflict):
        return _reject_as(topic, code, prefix, user, "conflict", result.message)
    if isinstance(result, Exception):
        return _reject_as(topic, code, prefix, user, "error", type(result).__name__)
    return MessageOutcome(
        status="replayed" if result.replayed else "accepted",
        receipt=result.receipt.pk,
        rows=result.receipt.row_count,
    )


class Rejected(Exception):
    def __init__(self, error: mqtt.MessageError, *, code: str, prefix: str, key=None):
        self.reason, self.message = error.reason, error.message
        self.code, self.prefix, self.key = code, prefix, key
        super().__init__(error.reason)


def _verify(topic: str, payload: bytes, context: dict) -> PushRequest:
    """The push a message asks for, or Rejected with the reason."""
    key = None
    prefix, code = "", ""
    try:
        department_code, code = mqtt.parse_topic(topic)
        envelope = mqtt.parse_payload(payload, max_rows=context["limit"])
        prefix = envelope.key_prefix
        if prefix not in context["keys"]:  # read once per batch
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
        if (key.pk, code) not in context["resources"]:
            context["resources"][key.pk, code] = uploadable_resource(key.user, code)
        resource = context["resources"][key.pk, code]
        if resource is None:
            raise mqtt.MessageError("unknown_resource", "no such resource of the department")
    except mqtt.MessageError as exc:
        raise Rejected(exc, code=code, prefix=prefix, key=key) from exc
    digest = hashlib.sha256(f"{topic}\n{envelope.body}".encode()).hexdigest()
    return PushRequest(
        resource=resource,
        department=uploader_department(key.user, resource),
        records=envelope.rows,
        user=key.user,
        api_key_prefix=prefix,
        idempotency_key=f"mqtt:{envelope.message_id or digest}",
    )


def _reject(topic, code, prefix, key, reason: str, message: str) -> MessageOutcome:
    user = key.user if key is not None else None
    return _reject_as(topic, code, prefix, user, reason, message)


def _reject_as(topic, code, prefix, user, reason: str, message: str) -> MessageOutcome:
    logger.warning("mqtt message on %s rejected (%s): %s", topic[:200], reason, message)
    log_event(
        actor=user,
        action="upload",
        resource=code[:64],
        api_key_prefix=prefix[:16],
        outcome="denied",
        detail={"source": "mqtt", "reason": reason, "topic": topic[:200]},
    )
    return MessageOutcome(status="rejected", reason=reason, message=message)
