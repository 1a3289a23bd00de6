"""MQTT messages of the push path: topics, envelopes and their signatures (no I/O).

A sensor platform publishes to ``hub/{department}/{resource}`` (QoS 1) a JSON envelope::

    {"key": "<API key prefix>", "sig": "<hex HMAC-SHA256>", "body": "<JSON text>"}

``body`` is the JSON text of ``{"id": "<message id, optional>", "rows": [{...}, ...]}``
and ``sig`` is HMAC-SHA256 over ``topic + "\\n" + body`` (UTF-8) keyed with the hex
SHA-512 of the department's push-scoped API key. The body travels as text so both sides
sign the very same bytes (no JSON canonical form to agree on, floats included), and the
topic is signed so a message cannot be replayed onto another resource.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from hub.records.pushed_text import text_problem
from streaming.idempotency import message_id_problem

TOPIC_ROOT = "hub"
# Department and resource codes are slugs (the catalog's SlugFields).
CODE = re.compile(r"^[-a-zA-Z0-9_]{1,64}$")
SIGNATURE = re.compile(r"^[0-9a-f]{64}$")
MAX_PAYLOAD_BYTES = 1024 * 1024


class MessageError(Exception):
    """A message the bridge rejects for good (acknowledged, logged and audited)."""

    def __init__(self, reason: str, message: str):
        self.reason, self.message = reason, message
        super().__init__(f"{reason}: {message}")


@dataclass(frozen=True)
class Envelope:
    """A parsed message: who claims to sign it, the signed body and its rows."""

    key_prefix: str
    signature: str
    body: str
    rows: list[dict[str, Any]]
    message_id: str


def parse_topic(topic: str, *, root: str = TOPIC_ROOT) -> tuple[str, str]:
    """``hub/{department}/{resource}`` → (department code, resource code)."""
    parts = topic.split("/")
    if len(parts) != 3 or parts[0] != root:
        raise MessageError(
            "bad_topic",
            _("主题必须是 %(root)s/{部门编码}/{资源代码}：%(topic)s")
            % {"root": root, "topic": topic[:200]},
        )
    department, resource = parts[1], parts[2]
    for part in (department, resource):
        if not CODE.match(part):
            raise MessageError("bad_topic", _("主题中的编码无效：%(code)s") % {"code": part[:80]})
    return department, resource


def topic_for(department: str, resource: str, *, root: str = TOPIC_ROOT) -> str:
    return f"{root}/{department}/{resource}"


def signing_secret(api_key: str) -> bytes:
    """What a partner derives from its full API key to sign (the hub stores the same)."""
    return hashlib.sha512(api_key.encode("utf-8")).hexdigest().encode("ascii")


def sign(secret: bytes, topic: str, body: str) -> str:
    message = topic.encode("utf-8") + b"\n" + body.encode("utf-8")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def verify(secret: bytes, topic: str, body: str, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, topic, body), signature)


def envelope(
    api_key: str, topic: str, rows: list[dict[str, Any]], *, message_id: str = ""
) -> bytes:
    """The signed payload of ``rows`` (for partners' clients, the benchmark and tests)."""
    content: dict[str, Any] = {"rows": rows}
    if message_id:
        content["id"] = message_id
    body = json.dumps(content, ensure_ascii=False)
    prefix = api_key.partition(".")[0]
    signature = sign(signing_secret(api_key), topic, body)
    return json.dumps({"key": prefix, "sig": signature, "body": body}).encode("utf-8")


def parse_payload(payload: bytes, *, max_rows: int) -> Envelope:
    """The envelope of a payload, or MessageError naming what is wrong with it."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise MessageError(
            "too_large",
            _("消息超过 %(n)d 字节。") % {"n": MAX_PAYLOAD_BYTES},
        )
    try:
        outer = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MessageError("bad_json", _("消息不是 UTF-8 编码的 JSON。")) from exc
    if not isinstance(outer, dict):
        raise MessageError("bad_envelope", _("消息必须是含 key、sig、body 的 JSON 对象。"))
    prefix, signature, body = outer.get("key"), outer.get("sig"), outer.get("body")
    if not isinstance(prefix, str) or not prefix or len(prefix) > 16:
        raise MessageError("bad_envelope", _("消息缺少 key（接口密钥前缀）。"))
    if not isinstance(signature, str) or not SIGNATURE.match(signature):
        raise MessageError("bad_envelope", _("消息缺少 sig（64 位十六进制 HMAC-SHA256）。"))
    if not isinstance(body, str):
        raise MessageError("bad_envelope", _("消息缺少 body（JSON 文本）。"))
    try:
        content = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise MessageError("bad_json", _("body 不是 JSON 文本。")) from exc
    rows = content.get("rows") if isinstance(content, dict) else None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise MessageError("bad_rows", _("body.rows 必须是记录（JSON 对象）的列表。"))
    if not rows:
        raise MessageError("bad_rows", _("记录列表为空。"))
    if len(rows) > max_rows:
        raise MessageError(
            "too_many_rows",
            _("一条消息最多 %(n)d 条记录。") % {"n": max_rows},
        )
    if (problem := text_problem(rows)) is not None:
        raise MessageError("bad_rows", problem)
    message_id = content.get("id", "")
    if not isinstance(message_id, str | int) or isinstance(message_id, bool):
        raise MessageError("bad_envelope", _("body.id 必须是字符串。"))
    # The id is the message's idempotency key: refused, never cut, when it breaks the rule.
    if (problem := message_id_problem(str(message_id))) is not None:
        raise MessageError("bad_envelope", problem)
    return Envelope(
        key_prefix=prefix,
        signature=signature,
        body=body,
        rows=rows,
        message_id=str(message_id),
    )
