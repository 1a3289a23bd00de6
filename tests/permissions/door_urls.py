"""Every door of the hub, enumerated from the URL resolver and the admin site registry.

A door is a key: ``name`` (with its namespace, ``ops:order``) for a URL pattern outside
the admin, ``admin:<view>`` for a view of the admin site itself, and
``admin:<app_label>.<model>:<view>`` for a page of a registered model admin.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver

MODEL_VIEWS = ("changelist", "add", "change", "history", "delete")


def _patterns(patterns, namespace: str = "", route: str = "") -> Iterator[tuple[str, str]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue  # the admin site's doors come from its registry
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _patterns(pattern.url_patterns, inner, route + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            full = route + str(pattern.pattern)
            yield (f"{namespace}{pattern.name}" if pattern.name else f"route:{full}"), full


def url_doors() -> dict[str, str]:
    """{door key: route} of every URL pattern outside the admin."""
    doors: dict[str, str] = {}
    for key, route in _patterns(get_resolver().url_patterns):
        doors.setdefault(key, route)
    return doors


def admin_site_doors() -> list[str]:
    """The admin site's own views (index, login, the upload pages, ...)."""
    keys = []
    for pattern in admin.site.get_urls():
        if isinstance(pattern, URLPattern):
            keys.append(f"admin:{pattern.name}" if pattern.name else f"admin:route:{pattern}")
    return keys


def admin_model_doors() -> dict[str, list[str]]:
    """{``app_label.model``: [views]} for every registered model admin, custom views too."""
    doors = {}
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        prefix = f"{opts.app_label}_{opts.model_name}_"
        custom = [
            pattern.name.removeprefix(prefix)
            for pattern in model_admin.get_urls()
            if isinstance(pattern, URLPattern)
            and pattern.name
            and pattern.name.removeprefix(prefix) not in MODEL_VIEWS
        ]
        doors[f"{opts.app_label}.{opts.model_name}"] = [*MODEL_VIEWS, *custom]
    return doors
