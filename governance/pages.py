"""Helpers of governance's hub pages: the admin's look (header, language menu) and form
errors from a service's ValidationError."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.template.response import TemplateResponse


def page(request: HttpRequest, template: str, title: str, status: int = 200, **context):
    context = {**admin.site.each_context(request), "title": title, **context}
    return TemplateResponse(request, f"governance/{template}", context, status=status)


def apply_errors(form, exc: ValidationError) -> None:
    """A service's refusal as form errors, on the field it names when the form has it."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
