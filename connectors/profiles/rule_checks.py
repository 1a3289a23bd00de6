"""Checks of a profile's value maps and lookups, as form errors a steward can act on
(``connectors.profiles.versions.profile_errors``; the admin form adds the editor's access)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from django.utils.translation import gettext as _

from connectors.normalisers import dates, numbers
from connectors.normalisers.rules import lookup_access_problem

_RECORD_KEYS = {"resource", "match", "value"}


def _target_problem(spec, value: str) -> str:
    """Why ``value`` cannot be stored in the field ``spec`` ("" when it can)."""
    if spec.code_list_id:
        known = spec.code_list.items.filter(code=value).exists()
        return "" if known else _("不是代码表“%(name)s”中的代码") % {"name": spec.code_list.name}
    if spec.enum:
        allowed = [str(v) for v in spec.enum]
        return "" if value in allowed else _("可选：%(values)s") % {"values": "、".join(allowed)}
    series = pd.Series([value], dtype=object)
    checks = {  # field type → (bad mask of the value, what it should be)
        "number": lambda: (numbers.split_numbers(series)[3], _("不是数值")),
        "integer": lambda: (numbers.parse_integers(series)[2], _("不是整数")),
        "boolean": lambda: (numbers.parse_booleans(series)[2], _("应为 是/否、1/0 或 true/false")),
        "date": lambda: (dates.parse_datetimes(series)[2], _("不是可识别的日期")),
        "datetime": lambda: (dates.parse_datetimes(series)[2], _("不是可识别的日期")),
    }
    check = checks.get(spec.field_type)
    if check is None:
        return ""
    bad, problem = check()
    return problem if bad.any() else ""


def value_map_errors(value_aliases: Any, specs: dict) -> str:
    """The first problem of the value maps (spellings and stored values are texts; a
    stored value must fit its field), or ""."""
    for name, mapping in value_aliases.items():
        spec = specs.get(name)
        if spec is None or not isinstance(mapping, dict):
            continue  # reported by profile_errors
        for spelling, value in mapping.items():
            if not isinstance(value, str) or not str(spelling).strip():
                return _("“%(field)s”的取值映射必须是“文字: 文字”。") % {"field": name}
            problem = _target_problem(spec, value)
            if problem:
                return _("“%(field)s”的取值映射“%(spelling)s → %(value)s”无效：%(problem)s。") % {
                    "field": name,
                    "spelling": spelling,
                    "value": value,
                    "problem": problem,
                }
    return ""


def lookup_errors(lookups: Any, specs: dict, *, user: Any = None) -> str:
    """The first problem of the lookups, or "". With ``user`` (the editor), also whether
    they read the looked-up fields in clear
    (``connectors.normalisers.rules.lookup_access_problem``)."""
    from hub.catalog.models import CodeList, DataResource

    if not isinstance(lookups, dict) or not all(isinstance(v, dict) for v in lookups.values()):
        return _("格式不正确。")
    unknown = sorted(name for name in lookups if name not in specs)
    if unknown:
        return _("未知的字段：%(names)s") % {"names": "、".join(unknown)}
    for name, source in lookups.items():
        context = {"field": name}
        if set(source) == {"code_list"}:
            if not CodeList.objects.filter(code=str(source["code_list"])).exists():
                return _("“%(field)s”的查找：没有代码表“%(code)s”。") % {
                    **context,
                    "code": source["code_list"],
                }
            continue
        if set(source) != _RECORD_KEYS or not all(isinstance(v, str) for v in source.values()):
            return (
                _(
                    '“%(field)s”的查找应为 {"resource": 资源编码, "match": 按其匹配的字段, '
                    '"value": 取其值的字段} 或 {"code_list": 代码表编码}。'
                )
                % context
            )
        resource = DataResource.objects.filter(code=source["resource"]).first()
        if resource is None:
            return _("“%(field)s”的查找：没有资源“%(code)s”。") % {
                **context,
                "code": source["resource"],
            }
        names = set(resource.fields.values_list("name", flat=True))
        for key in ("match", "value"):
            if source[key] not in names:
                return _("“%(field)s”的查找：资源“%(code)s”没有字段“%(name)s”。") % {
                    **context,
                    "code": resource.code,
                    "name": source[key],
                }
        if user is not None:
            problem = lookup_access_problem(user, resource, (source["match"], source["value"]))
            if problem:
                return _("“%(field)s”的查找：%(problem)s") % {**context, "problem": problem}
    return ""


def rule_errors(profile, *, user: Any = None) -> dict[str, str]:
    """Errors of the value maps and lookups of ``profile``, by form field."""
    errors: dict[str, str] = {}
    if not profile.resource_id:
        return errors
    specs = {spec.name: spec for spec in profile.resource.fields.select_related("code_list")}
    if isinstance(profile.value_aliases, dict):
        problem = value_map_errors(profile.value_aliases, specs)
        if problem:
            errors["value_aliases"] = problem
    problem = lookup_errors(profile.lookups, specs, user=user)
    if problem:
        errors["lookups"] = problem
    return errors
