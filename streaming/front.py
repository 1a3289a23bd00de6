"""The push front (推送快速通道): ``POST /api/v1/resources/{code}/pushes/`` with an API key,
answered without the full Django + DRF request cycle.

A push costs the hub a request, a permission check, a receipt, an audit entry and a
commit. Through the ordinary view every push paid for all of them alone; here the web
process recognises the key from memory, counts the push against the key's rate, checks
the body, and hands the push to its committer thread (``streaming.committer``), which
stores every push waiting at that moment in one transaction through
``intake.accept_key_pushes``: the key is checked again there, the door
(``uploadable_resource``) is asked once per key and resource, receipts and audit events
are written, and the resource's load is scheduled, exactly as the view does.

The front answers only what it settles: 202 for a new push, 429 when the key is over its
rate, 503 when the database did not commit. Everything else is handed, untouched, to the
ordinary view, which gives the one true answer: no or unknown key (401/403), a body that
is not a non-empty list of at most HUB_PUSH_MAX_ROWS_PER_PUSH objects (400), an
Idempotency-Key breaking its rule (400, ``streaming.idempotency``), a resource the key may
not push to (404, audited as denied), a replayed Idempotency-Key (200) or a conflicting
one (409), session users, other hosts (400), plain HTTP where HTTPS is required
(redirect). The front is off where it would not help (in-process tasks, the
embedded SQLite default) and with ``HUB_PUSH_FRONT=0``.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest
from django.db import close_old_connections
from django.http import JsonResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.locale import LocaleMiddleware
from django.middleware.security import SecurityMiddleware
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_header_parameters
from django.utils.translation import gettext as _
from rest_framework.exceptions import Throttled

from streaming.committer import DELEGATE, UNCOMMITTED, Committer
from streaming.idempotency import key_problem

PUSH_PATH = re.compile(r"/api/v1/resources/(?P<code>[-a-zA-Z0-9_]{1,64})/pushes/")
KEYWORD = "Api-Key"
logger = logging.getLogger(__name__)

# A key recognised once is trusted this long to be the key it was; whether it is still
# usable (revoked, expired, scope) is checked again with every commit.
KEY_CACHE_SECONDS = 60
# How long a request waits for its group's commit before answering 503.
COMMIT_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class KnownKey:
    api_key: Any  # the PartnerApiKey, for its id, prefix and push rate
    until: float


class PushFront:
    """WSGI middleware around the Django application (see the module docstring)."""

    def __init__(self, application) -> None:
        self.application = application
        self.keys: dict[str, KnownKey] = {}
        self.keys_lock = threading.Lock()
        self.committer = Committer(_accept, arriving=lambda: self.arriving)
        self.arriving = 0  # requests between their first byte and their hand-over
        self.arriving_lock = threading.Lock()
        self._enabled: bool | None = None

    def __call__(self, environ: dict, start_response):
        if environ.get("REQUEST_METHOD") == "POST" and self.enabled:
            match = PUSH_PATH.fullmatch(environ.get("PATH_INFO", ""))
            if match is not None and not environ.get("QUERY_STRING"):
                return self.push(environ, start_response, match["code"])
        return self.application(environ, start_response)

    def warm_up(self) -> None:
        """Load what the first push would load while its request waits (the broker's
        client, the receipt INSERT); nothing is connected."""
        from streaming import receipt_insert, services

        services.warm_up()
        receipt_insert.warm_up()

    @property
    def enabled(self) -> bool:
        if self._enabled is None:
            from django.db import connections

            from hub.celery import app

            self._enabled = bool(
                getattr(settings, "HUB_PUSH_FRONT", True)
                and connections["default"].vendor == "postgresql"
                and not app.conf.task_always_eager
            )
        return self._enabled

    def push(self, environ: dict, start_response, code: str):
        """Answer the push here, or hand it to the view (``_push`` returned None)."""
        self._arrive(+1)
        arriving = [True]
        body = b""
        try:
            body = _read_body(environ)
            if body is not None:
                answered = self._push(environ, start_response, code, body, arriving)
                if answered is not None:
                    return answered
        except Exception:
            # Before the hand-over nothing is stored: the view answers (and reports).
            if not arriving[0]:
                raise
            logger.exception("push front: handing the push to the view")
        finally:
            if arriving[0]:
                arriving[0] = False
                self._arrive(-1)
        if body is None:
            return self.application(environ, start_response)
        return self.delegate(environ, start_response, body)

    def _arrive(self, step: int) -> None:
        with self.arriving_lock:
            self.arriving += step

    def _push(self, environ: dict, start_response, code: str, body: bytes, arriving):
        idempotency_key = environ.get("HTTP_IDEMPOTENCY_KEY", "").strip()
        if key_problem(idempotency_key) is not None:
            return None  # the view's 400 names the header
        records, encoded = _records(environ, body)
        api_key = self._key(environ) if records is not None else None
        request = WSGIRequest(environ) if api_key is not None else None
        if request is None or not _plain(request):
            return None
        from streaming.throttling import COUNTED, count_push, key_push_rate

        with translation.override(translation.get_language_from_request(request)):
            wait = count_push(api_key.prefix, key_push_rate(api_key))
            environ[COUNTED] = True
            if wait is not None:
                # The view's own answer (DRF's Throttled), word for word.
                throttled = Throttled(wait)
                response = JsonResponse({"detail": str(throttled.detail)}, status=429)
                response["Retry-After"] = f"{throttled.wait:d}"
                return self.answer(request, response, start_response)
            from streaming.intake import KeyPush

            push = KeyPush(
                api_key_id=api_key.pk,
                code=code,
                records=records,
                idempotency_key=idempotency_key,
                encoded=encoded,
            )
            arriving[0] = False
            self._arrive(-1)
            outcome = self.committer.submit(push, timeout=COMMIT_TIMEOUT_SECONDS)
            if outcome == UNCOMMITTED:
                response = JsonResponse(
                    {"detail": _("暂时无法受理推送，请稍后用同一幂等键重试。")}, status=503
                )
                response["Retry-After"] = "1"
                return self.answer(request, response, start_response)
            if outcome is None or outcome == DELEGATE or getattr(outcome, "replayed", True):
                # Not stored here: denied, replayed or conflicting; the view says which.
                return None
            from streaming.api.serializers import receipt_body

            payload = receipt_body(outcome.receipt, request=request)
            response = JsonResponse(payload, status=202)
            response["Location"] = payload["url"]
            return self.answer(request, response, start_response)

    def delegate(self, environ: dict, start_response, body: bytes):
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return self.application(environ, start_response)

    def answer(self, request: WSGIRequest, response, start_response):
        """The response as the view and the middleware stack would have left it (DRF's
        Allow and Vary, security headers, Content-Language, Content-Length)."""
        response["Allow"] = "POST, OPTIONS"
        patch_vary_headers(response, ("Accept",))
        response["Content-Length"] = str(len(response.content))
        for middleware in _MIDDLEWARE:
            response = middleware.process_response(request, response)
        status = f"{response.status_code} {response.reason_phrase}"
        start_response(status, list(response.items()))
        return response

    def _key(self, environ: dict):
        """The API key the request names, if it is a usable one (from memory when it
        was recognised in the last minute), else None."""
        scheme, _sep, key = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        key = key.strip()
        if scheme != KEYWORD or not key or len(key) > 200:
            return None
        digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()
        known = self.keys.get(digest)
        now = time.monotonic()
        if known is not None and known.until > now:
            return known.api_key
        api_key = _usable_key(key)
        if api_key is None or not api_key.has_scope("push"):
            return None  # the view answers (401, or 403 naming the missing scope)
        with self.keys_lock:
            if len(self.keys) > 10_000:
                self.keys.clear()
            self.keys[digest] = KnownKey(api_key=api_key, until=now + KEY_CACHE_SECONDS)
        return api_key


def _accept(pushes: list) -> list:
    """The group's outcomes: pushes of keys and resources a group commit has learned by
    one statement each (``group_statement``), the others by ``intake.accept_key_pushes``.
    Once some are stored, a failure of the others is theirs alone: the committer must
    not settle the stored ones again."""
    from django.db import InterfaceError, OperationalError, connection

    from streaming.group_statement import NOT_SETTLED, accept_learned
    from streaming.intake import accept_key_pushes

    outcomes = accept_learned(pushes=pushes)
    rest = [index for index, outcome in enumerate(outcomes) if outcome is NOT_SETTLED]
    if len(rest) == len(pushes):
        return accept_key_pushes(pushes=pushes)
    if rest:
        try:
            others = accept_key_pushes(pushes=[pushes[index] for index in rest])
        except (OperationalError, InterfaceError):
            logger.warning("push front: %d pushes not committed", len(rest), exc_info=True)
            connection.close()
            others = [UNCOMMITTED] * len(rest)
        except Exception:
            logger.exception("push front: %d pushes go the ordinary way", len(rest))
            others = [DELEGATE] * len(rest)
        for index, outcome in zip(rest, others, strict=True):
            outcomes[index] = outcome
    return outcomes


def _usable_key(key: str):
    from permissions.models import PartnerApiKey

    close_old_connections()
    try:
        api_key = PartnerApiKey.objects.get_from_key(key)
    except PartnerApiKey.DoesNotExist:
        return None
    finally:
        close_old_connections()
    usable = api_key.user.is_active and api_key.department.is_active
    return api_key if usable and not api_key.has_expired else None


def _read_body(environ: dict) -> bytes | None:
    """The request body when its length is stated and within the upload limit."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    if length <= 0 or length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        return None
    body = environ["wsgi.input"].read(length)
    return body if len(body) == length else None


def _strict_constant(name: str):
    raise ValueError(f"{name} is not JSON")  # NaN, Infinity: DRF's parser refuses them


def _records(environ: dict, body: bytes) -> tuple[list[dict] | None, str]:
    """The pushed records when the body is what the view would accept and store as it
    is, with their canonical JSON text (keys sorted: what the receipt's digest hashes and
    its insert carries), else (None, "") (the view answers: 400, 415)."""
    from streaming.api.views import max_push_rows

    refused: tuple[None, str] = (None, "")
    media_type, params = parse_header_parameters(environ.get("CONTENT_TYPE", ""))
    if media_type.lower() != "application/json":
        return refused
    if params.get("charset", "utf-8").lower() not in ("utf-8", "utf8"):
        return refused
    try:
        text = body.decode("utf-8")
        if text.startswith("\ufeff"):
            return refused
        records = json.loads(text, parse_constant=_strict_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return refused
    if isinstance(records, dict) and isinstance(records.get("records"), list):
        records = records["records"]
    if not isinstance(records, list) or not records or len(records) > max_push_rows():
        return refused
    if not all(isinstance(record, dict) for record in records):
        return refused
    try:
        # What PostgreSQL stores: no NUL, no lone surrogate, no infinite number.
        encoded = json.dumps(records, ensure_ascii=False, sort_keys=True, allow_nan=False)
        encoded.encode("utf-8")
    except (ValueError, UnicodeEncodeError, RecursionError):
        return refused
    if "\\u0000" in encoded or "\x00" in encoded:
        return refused
    return records, encoded


def _plain(request: WSGIRequest) -> bool:
    """A request the front may answer: an allowed host, HTTPS where it is required, no
    session cookie (a signed-in browser goes the ordinary way)."""
    try:
        request.get_host()
    except DisallowedHost:
        return False
    if settings.SECURE_SSL_REDIRECT and not request.is_secure():
        return False
    return settings.SESSION_COOKIE_NAME not in request.COOKIES


_MIDDLEWARE = [
    SecurityMiddleware(lambda request: None),
    LocaleMiddleware(lambda request: None),
    XFrameOptionsMiddleware(lambda request: None),
]
