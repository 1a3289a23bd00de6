"""Requests no view can use are refused before any view runs."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _

from hub.api.exceptions import API_PREFIX

NUL = "\x00"


class RejectNulMiddleware:
    """400 for a NUL character in the path or a query parameter (name or value).

    PostgreSQL text cannot hold NUL, so such a value would fail in the database (a 500);
    no valid parameter contains one. The response names the parameter.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offending = nul_parameters(request)
        if offending:
            message = _("参数中含有空字符（NUL）。")
            if request.path.startswith(API_PREFIX):
                return JsonResponse({name: [message] for name in offending}, status=400)
            return HttpResponseBadRequest(f"{message} {', '.join(offending)}")
        return self.get_response(request)


def nul_parameters(request: HttpRequest) -> list[str]:
    """Names of the query parameters holding NUL (``path`` for the path itself)."""
    found = ["path"] if NUL in request.path else []
    for name, values in request.GET.lists():
        if NUL in name or any(NUL in value for value in values):
            found.append(name.replace(NUL, "\\x00"))
    return found
