"""How each door of the matrix is requested: its URL(s) in the door world and its method.

A door may be requested in several variants (``ops-point-detail[in]``, ``[out]``): an
object in the district grantee's district and one outside it, or a resource of another
sharing type. Doors whose objects the world does not hold are requested with an id that
does not exist (``MISSING``): the 404 (or the admin's redirect) of a missing object.
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse

from tests.permissions.door_world import IN, NONE_RESOURCE, RESOURCE, World

MISSING = 987654
# Doors answered only to POST: requested with an empty form. Most refuse it (400, or the
# page again with an error); approving an access request needs no field, so the provider's
# callers approve it in full (200), everyone else gets 403/404.
POST_ONLY = {
    "resource-push",
    "access-request-approve",
    "access-request-refuse",
    "access-request-withdraw",
    "access:withdraw",
    "objection-correct",
    "objection-reject",
    "notification-read",
    "need-route",
    "need-link",
    "need-commit",
    "need-refuse",
    "need-close",
    "ops-work-order-transition",
    "ops-work-order-dispatch-to",
    "ops-work-order-urge",
    "operations:order-move",
    "set_language",
    "admin:logout",
}
# URL pattern -> {variant: kwargs builder}
PK_VARIANTS = {
    "batch-detail": {"": "batch"},
    "batch-error-report": {"": "batch"},
    "access-request-detail": {"": "request"},
    "access-request-approve": {"": "request"},
    "access-request-refuse": {"": "request"},
    "access-request-withdraw": {"": "request"},
    "access:decide": {"": "request"},
    "access:withdraw": {"": "request"},
    "ops-point-detail": {"in": "point_in", "out": "point_out"},
    "ops-point-readings": {"in": "point_in", "out": "point_out"},
    "ops-alert-detail": {"in": "alert_in", "out": "alert_out"},
    "ops-work-order-detail": {"in": "order_in", "out": "order_out"},
    "ops-work-order-transition": {"in": "order_in", "out": "order_out"},
    "ops-work-order-dispatch-to": {"in": "order_in", "out": "order_out"},
    "ops-work-order-urge": {"in": "order_in", "out": "order_out"},
    "operations:order": {"in": "order_in", "out": "order_out"},
    "operations:order-move": {"in": "order_in", "out": "order_out"},
}
CODE_VARIANTS = {
    "resource-detail": {"": RESOURCE, "none": NONE_RESOURCE},
    "resource-schema": {"": RESOURCE, "none": NONE_RESOURCE},
    "resource-records": {"": RESOURCE, "none": NONE_RESOURCE},
    "resource-upload": {"": RESOURCE},
    "resource-template": {"": RESOURCE},
    "resource-push": {"": RESOURCE},
    "explorer:resource": {"": RESOURCE, "none": NONE_RESOURCE},
    "access:request": {"": RESOURCE},
    "governance:objection-new": {"": RESOURCE, "none": NONE_RESOURCE},
    "department-detail": {"": "fire"},
    "risk-district-history": {"": IN},
}
UNNAMED = {"favicon": "/favicon.ico"}


def _name(key: str, variant: str) -> str:
    return f"{key}[{variant}]" if variant else key


def url_requests(key: str, world: World) -> dict[str, str]:
    """{cell name: URL} of one URL-pattern door."""
    if key in PK_VARIANTS:
        return {
            _name(key, variant): reverse(key, kwargs={"pk": world.ids[id_key]})
            for variant, id_key in PK_VARIANTS[key].items()
        }
    if key in CODE_VARIANTS:
        return {
            _name(key, variant): reverse(key, kwargs={"code": code})
            for variant, code in CODE_VARIANTS[key].items()
        }
    if key == "operations:order-move":
        return {
            _name(key, side): reverse(
                key, kwargs={"pk": world.ids[f"order_{side}"], "move": "accept"}
            )
            for side in ("in", "out")
        }
    try:
        return {key: reverse(key)}
    except Exception:  # a pattern with parameters of an object the world does not hold
        return {key: reverse(key, kwargs={"pk": MISSING})}


# Admin model -> {variant: id in the world}; models absent here get MISSING.
ADMIN_OBJECTS = {
    "catalog.dataresource": {"": "resource", "none": "none"},
    "catalog.department": {"": "department"},
    "records.record": {"in": "record_in", "out": "record_out"},
    "records.uploadbatch": {"": "batch"},
    "permissions.accessrequest": {"": "request"},
    "permissions.accessgrant": {"": "grant"},
    "operations.rule": {"": "rule", "none": "none_rule"},
    "operations.resourcemapping": {"": "mapping"},
    "operations.monitoringpoint": {"in": "point_in", "out": "point_out"},
    "operations.event": {"in": "event_in", "out": "event_out"},
    "operations.alert": {"in": "alert_in", "out": "alert_out"},
    "operations.workorder": {"in": "order_in", "out": "order_out"},
    "auth.user": {"": "user"},
    "auth.group": {"": "group"},
}
OBJECT_VIEWS = ("change", "history", "delete", "password_change")


def admin_model_requests(label: str, view: str, world: World) -> dict[str, str]:
    app_label, model_name = label.split(".")
    name = f"admin:{app_label}_{model_name}_{view}"
    key = f"admin:{label}:{view}"
    if view not in OBJECT_VIEWS:
        return {key: reverse(name)}
    objects = ADMIN_OBJECTS.get(label, {"": None})
    return {
        _name(key, variant): reverse(name, args=[world.ids[id_key] if id_key else MISSING])
        for variant, id_key in objects.items()
    }


def admin_site_requests(key: str, world: World) -> dict[str, str]:
    view = key.removeprefix("admin:")
    if view == "app_list":
        return {key: reverse("admin:app_list", kwargs={"app_label": "operations"})}
    if view.startswith("connectors_"):
        extra = {"batch_id": world.ids["batch"]} if view != "connectors_upload" else {}
        return {
            _name(key, variant): reverse(f"admin:{view}", kwargs={"code": code, **extra})
            for variant, code in (("", RESOURCE), ("none", NONE_RESOURCE))
        }
    if view == "view_on_site":
        return {key: f"/admin/r/{MISSING}/{MISSING}/"}
    if view.startswith("route:"):
        return {key: "/admin/no-such-page/"}
    if view == "autocomplete":
        query = "app_label=operations&model_name=rule&field_name=resource&term="
        return {key: f"{reverse('admin:autocomplete')}?{query}"}
    return {key: reverse(f"admin:{view}")}


def registered_admin_labels() -> list[str]:
    return [f"{m._meta.app_label}.{m._meta.model_name}" for m in admin.site._registry]
