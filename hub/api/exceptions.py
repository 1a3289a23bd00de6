"""One error policy for the REST API: bad input is a 400 naming the parameter, never a 500.

``api_exception_handler`` is DRF's ``EXCEPTION_HANDLER``: Django ``ValidationError`` and the
errors bad values raise deeper down (``ValueError``/``OverflowError`` from parsing, the
database's ``DataError``) become 400s. The ``handler400/403/404/500`` views answer JSON under
``/api/`` when Django itself answers (no route, a crash outside DRF), with DEBUG off.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework.exceptions import ValidationError
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)

# Raised by parsing and by the database when a value is out of its type's range.
BAD_VALUE_ERRORS = (DataError, OverflowError, ValueError)
API_PREFIX = "/api/"


def api_exception_handler(exc: Exception, context: dict):
    """DRF's handler after turning bad-input exceptions into ``ValidationError``."""
    return drf_exception_handler(as_api_exception(exc, context), context)


def as_api_exception(exc: Exception, context: dict) -> Exception:
    """The DRF exception a Django or value error stands for; other exceptions unchanged."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        return ValidationError(detail)
    if isinstance(exc, BAD_VALUE_ERRORS):
        request = context.get("request")
        names = sorted(request.query_params) if request is not None else []
        # A value reached code that could not use it: a 400, but logged with its trace so
        # the missing validation is found and added where the parameter is parsed.
        logger.warning("bad input reached %s: %r", getattr(request, "path", "?"), exc, exc_info=exc)
        message = _("参数值无效。")
        return ValidationError({name: [message] for name in names} or {"detail": message})
    return exc


def _is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def bad_request(request, exception=None, template_name: str = "400.html"):
    """``handler400``: JSON under /api/, Django's page elsewhere."""
    if _is_api(request):
        return JsonResponse({"detail": _("请求无效。")}, status=400)
    return defaults.bad_request(request, exception, template_name=template_name)


def page_not_found(request, exception=None, template_name: str = "404.html"):
    """``handler404``: JSON under /api/ (the same body as DRF's 404), Django's page elsewhere."""
    if _is_api(request):
        return JsonResponse({"detail": _("未找到。")}, status=404)
    return defaults.page_not_found(request, exception, template_name=template_name)


def permission_denied(request, exception=None, template_name: str = "403.html"):
    """``handler403``: JSON under /api/, the hub's friendly 403 page elsewhere."""
    if _is_api(request):
        return JsonResponse({"detail": _("您没有执行该操作的权限。")}, status=403)
    return defaults.permission_denied(request, exception, template_name=template_name)


def server_error(request, template_name: str = "500.html"):
    """``handler500``: JSON under /api/, Django's page elsewhere; never a traceback."""
    if _is_api(request):
        return JsonResponse({"detail": _("服务器内部错误。")}, status=500)
    return defaults.server_error(request, template_name=template_name)
