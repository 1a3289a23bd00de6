"""Connector profiles as data (接入配置): apply, save (versioned, audited), seed.

A profile (``connectors.models.ConnectorProfile``) holds what a department connector class
declares: source units, coordinate system, date layouts and source time zone, decimal
comma, missing markers, header aliases and value maps, district naming and lookups
(``connectors.normalisers.rules``).
The newest version for the uploading department and the resource *replaces* those
declarations (``apply_profile``: a subclass of the connector with the profile's values),
so the connector's Python hooks (``prepare``, ``finalise``) still run. ``seed_profiles``
turns the Python connectors into version-1 profiles.
"""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from connectors.base import Connector
from connectors.models import ConnectorProfile, SourceCRS
from connectors.normalisers.dates import valid_layout
from connectors.normalisers.units import canonical_unit
from connectors.profiles.registry import registered
from connectors.profiles.rule_checks import rule_errors
from hub.catalog.models import DataResource, Department

# The declarations a profile replaces, with their class attribute names.
PROFILE_ATTRIBUTES = (
    "source_units",
    "date_layouts",
    "source_timezone",
    "day_first",
    "decimal_comma",
    "missing_values",
    "header_aliases",
    "value_aliases",
    "district_naming",
    "lookups",
)


def current_profile(resource: DataResource, department: Department | None, signature: str = ""):
    """The newest profile of the department (else the provider) for the resource.

    ``signature`` (a file's header signature, ``connectors.proposal.sample``): the newest
    profile saved for files with those headers wins; profiles saved for other headers are
    never the default.
    """
    dept_ids = [d for d in (getattr(department, "pk", None), resource.provider_id) if d]
    profiles = ConnectorProfile.objects.filter(resource_id=resource.pk).order_by("-version")
    for wanted in ([signature] if signature else []) + [""]:
        for dept_id in dept_ids:
            profile = profiles.filter(department_id=dept_id, header_signature=wanted).first()
            if profile is not None:
                return profile
    return None


def apply_profile(connector: Connector, profile: ConnectorProfile | None) -> Connector:
    """The connector with the profile's declarations in place of its own."""
    if profile is None:
        return connector
    base = type(connector)
    attributes: dict[str, Any] = {
        "source_units": {k: str(v) for k, v in (profile.source_units or {}).items()},
        "date_layouts": tuple(profile.date_layouts or ()),
        "source_timezone": profile.source_timezone,
        "day_first": profile.day_first,
        "decimal_comma": profile.decimal_comma,
        "missing_values": tuple(str(v) for v in profile.missing_values or ()),
        "header_aliases": {k: list(v) for k, v in (profile.header_aliases or {}).items()},
        "value_aliases": {k: dict(v) for k, v in (profile.value_aliases or {}).items()},
        "district_naming": profile.district_naming,
        "lookups": {k: dict(v) for k, v in (profile.lookups or {}).items()},
        "profile_author_id": profile.created_by_id,
        "source_crs": profile.source_crs or Connector.source_crs,
        # Whether the CRS is stated (no "assumed WGS-84" warning): only when the profile says.
        "crs_stated": bool(profile.source_crs),
        "profile_version": profile.version,
        "__module__": base.__module__,
    }
    profiled = type(f"{base.__name__}Profile", (base,), attributes)
    profiled.__qualname__ = f"{base.__qualname__}[profile]"
    return profiled()


def profile_errors(profile: ConnectorProfile) -> dict[str, str]:
    """What is wrong with a profile's values (field names, units, layouts, time zone)."""
    errors: dict[str, str] = {}
    names = set()
    if profile.resource_id:
        names = set(profile.resource.fields.values_list("name", flat=True))

    def unknown_fields(value: Any) -> list[str]:
        return sorted(k for k in value if k not in names) if names else []

    units = profile.source_units
    if not isinstance(units, dict):
        errors["source_units"] = _("必须是“字段名: 单位”的对象。")
    else:
        bad = unknown_fields(units) or sorted(
            k for k, v in units.items() if not canonical_unit(str(v))
        )
        if bad:
            errors["source_units"] = _("未知的字段或单位：%(names)s") % {"names": "、".join(bad)}
    layouts = profile.date_layouts
    if not isinstance(layouts, list) or not all(isinstance(x, str) and "%" in x for x in layouts):
        errors["date_layouts"] = _("必须是日期格式（如 %Y%m%d%H%M）的列表。")
    else:
        for layout in layouts:
            if not valid_layout(layout):
                errors["date_layouts"] = _("无效的日期格式：%(layout)s") % {"layout": layout}
    if profile.source_timezone:
        try:
            zoneinfo.ZoneInfo(profile.source_timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            errors["source_timezone"] = _("未知的时区：%(tz)s") % {"tz": profile.source_timezone}
    if not isinstance(profile.missing_values, list):
        errors["missing_values"] = _("必须是文字的列表。")
    for name in ("header_aliases", "value_aliases"):
        value = getattr(profile, name)
        inner = list if name == "header_aliases" else dict
        if not isinstance(value, dict) or not all(isinstance(v, inner) for v in value.values()):
            errors[name] = _("格式不正确。")
        elif unknown_fields(value):
            errors[name] = _("未知的字段：%(names)s") % {"names": "、".join(unknown_fields(value))}
    if profile.source_crs and profile.source_crs not in SourceCRS.values:
        errors["source_crs"] = _("未知的坐标系。")
    # Value maps' stored values and lookups' sources (connectors.profiles.rule_checks).
    for name, message in rule_errors(profile).items():
        errors.setdefault(name, message)
    return errors


@transaction.atomic
def save_profile(*, profile: ConnectorProfile, user: Any) -> ConnectorProfile:
    """Save the values of ``profile`` as the next version for its department and resource
    (earlier versions stay unchanged); audited. A lookup must read fields ``user`` reads
    in clear (ValidationError otherwise): the load reads them as the profile's author."""
    from permissions.audit import log_event

    if getattr(user, "pk", None):
        problems = rule_errors(profile, user=user)
        if "lookups" in problems:
            raise ValidationError({"lookups": problems["lookups"]})

    latest = ConnectorProfile.objects.filter(
        department_id=profile.department_id, resource_id=profile.resource_id
    ).aggregate(latest=Max("version"))["latest"]
    profile.pk = None
    profile._state.adding = True
    profile.version = (latest or 0) + 1
    profile.created_by = user if getattr(user, "pk", None) else None
    profile.save()
    log_event(
        actor=user,
        action="profile",
        resource=profile.resource,
        detail={
            "profile": profile.pk,
            "department": profile.department.code,
            "version": profile.version,
        },
    )
    return profile


def seed_profiles(*, user: Any = None) -> list[ConnectorProfile]:
    """Version 1 of a profile for every department connector class and resource it
    feeds (the class's declarations as data); pairs with a profile already are skipped."""
    created = []
    for cls in registered().values():
        department = Department.objects.filter(code=cls.department).first()
        if department is None:
            continue
        for resource in DataResource.objects.filter(code__in=cls.resources):
            exists = ConnectorProfile.objects.filter(department=department, resource=resource)
            if exists.exists():
                continue
            stated = any("source_crs" in vars(k) for k in cls.__mro__[:-2])
            profile = ConnectorProfile(
                department=department,
                resource=resource,
                source_crs=cls.source_crs if stated else "",
                source_units=dict(cls.source_units),
                date_layouts=list(getattr(cls, "date_layouts", ())),
                source_timezone=getattr(cls, "source_timezone", ""),
                day_first=cls.day_first,
                decimal_comma=cls.decimal_comma,
                missing_values=list(getattr(cls, "missing_values", ())),
                header_aliases={k: list(v) for k, v in cls.header_aliases.items()},
                value_aliases={k: dict(v) for k, v in cls.value_aliases.items()},
                district_naming=cls.district_naming,
                lookups={k: dict(v) for k, v in cls.lookups.items()},
                note=_("由接入器 %(code)s v%(version)s 生成")
                % {"code": cls.code, "version": cls.version},
            )
            created.append(save_profile(profile=profile, user=user))
    return created
