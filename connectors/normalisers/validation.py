"""Per-field validation against the FieldSpec: type, required, range, length, pattern, enum.

The checks are vectorised masks; only failing cells are turned into
:class:`~connectors.base.RowError` objects (with the original cell text in the message).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _

from connectors.base import RowError
from connectors.normalisers.dates import is_period
from connectors.normalisers.numbers import is_range
from connectors.normalisers.schema import FieldInfo


def non_capturing(pattern: str) -> str:
    """The pattern with its capturing groups made non-capturing: ``(GP)\\d+`` →
    ``(?:GP)\\d+`` (a match test needs no groups; pandas warns about them). Escapes and
    character classes are left alone; a pattern with back-references is kept as it is."""
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            following = pattern[i + 1 : i + 2]
            if following.isdigit() and not in_class:
                return pattern  # a back-reference needs its group
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            # "[]" or "[^]" starts with a literal "]".
            if pattern[i + 1 : i + 2] == "]":
                out.append("[]")
                i += 2
                continue
            if pattern[i + 1 : i + 3] == "^]":
                out.append("[^]")
                i += 3
                continue
        elif char == "(":
            if pattern.startswith("(?P<", i):
                if "(?P=" in pattern:
                    return pattern
                out.append("(?:")
                i = pattern.index(">", i) + 1
                continue
            if not pattern.startswith("(?", i):
                out.append("(?:")
                i += 1
                continue
        out.append(char)
        i += 1
    return "".join(out)


_COMMA_IN_NUMBER = re.compile(r"\d[,，]\d")


def _number_text(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:g}"


def type_message(info: FieldInfo, value: str, *, unit_problem: bool = False) -> str:
    """The message for a cell whose text could not be read as the field's type.

    ``unit_problem`` marks the field's second kind of problem: an unknown or
    inconvertible unit for numbers, a point outside ±90°/±180° for geopoints.
    """
    kind = info.field_type
    if kind == "geopoint":
        if unit_problem:
            return _(
                "坐标超出范围：'%(value)s'（纬度应在 -90 至 90 之间，经度应在 -180 至 180 之间）"
            ) % {"value": value}
        return _("无法识别的坐标：'%(value)s'（应为“经度,纬度”或 POINT(经度 纬度)）") % {
            "value": value
        }
    if kind in ("integer", "number") and is_range(value):
        return _(
            "无法识别的数值：'%(value)s'（这是一个范围或带误差的值，不是单个数值；请填写实测值）"
        ) % {"value": value}
    if unit_problem and not info.unit:
        # A field without a unit: "（应为 ）" would name none.
        return _("无法识别的数值：'%(value)s'（本字段不带单位，单元格只应写数字）") % {
            "value": value
        }
    if unit_problem:
        return _("无法识别或无法换算的单位：'%(value)s'（应为 %(unit)s）") % {
            "value": value,
            "unit": info.unit,
        }
    if kind == "date":
        if is_period(value):
            return _("无法识别的日期：'%(value)s'（含有时段；日期列只应填写日期）") % {
                "value": value
            }
        return _("无法识别的日期：'%(value)s'") % {"value": value}
    if kind == "datetime":
        if is_period(value):
            return _(
                "无法识别的日期时间：'%(value)s'（这是一个时段，不是时刻；"
                "请填写时段的开始或结束时刻）"
            ) % {"value": value}
        return _("无法识别的日期时间：'%(value)s'") % {"value": value}
    if kind in ("integer", "number") and _COMMA_IN_NUMBER.search(value):
        # Read as thousands it could be 1000 times too large; say what to change.
        return _(
            "无法识别的数值：'%(value)s'（逗号既不能确定为千分位，也不能确定为小数点；"
            "小数点为逗号的文件请在接入配置中将“小数点为逗号”设为“是”）"
        ) % {"value": value}
    if kind == "integer":
        return _("不是整数：'%(value)s'") % {"value": value}
    if kind == "number":
        return _("无法识别的数值：'%(value)s'") % {"value": value}
    if kind == "boolean":
        return _("无法识别的是/否值：'%(value)s'") % {"value": value}
    if info.matcher is not None and info.allowed and len(info.allowed) <= 12:
        return _("不是允许的取值：'%(value)s'（可选：%(allowed)s）") % {
            "value": value,
            "allowed": "、".join(info.allowed),
        }
    return _("不在代码表中的值：'%(value)s'") % {"value": value}


def district_message(value: str) -> str:
    """The message for an unknown district."""
    return _("无法识别的行政区：'%(value)s'") % {"value": value}


def constraint_masks(info: FieldInfo, values: pd.Series) -> list[tuple[np.ndarray, str, dict]]:
    """(mask of failing rows, message template, template values) per constraint.

    Templates also take ``%(value)s``: the original cell text.
    """
    checks: list[tuple[np.ndarray, str, dict]] = []
    unit = info.unit or ""
    if info.field_type in ("number", "integer"):
        numeric = values.astype("float64").to_numpy(na_value=np.nan)
        with np.errstate(invalid="ignore"):
            if info.min_value is not None:
                checks.append(
                    (
                        numeric < info.min_value,
                        _("'%(value)s' 小于最小值 %(limit)s%(unit)s"),
                        {"limit": _number_text(info.min_value), "unit": unit},
                    )
                )
            if info.max_value is not None:
                checks.append(
                    (
                        numeric > info.max_value,
                        _("'%(value)s' 大于最大值 %(limit)s%(unit)s"),
                        {"limit": _number_text(info.max_value), "unit": unit},
                    )
                )
    if info.field_type in ("string", "code") and (info.max_length or info.pattern):
        text = values.astype("str")
        present = values.notna().to_numpy()
        if info.max_length:
            too_long = present & (text.str.len() > info.max_length).to_numpy()
            checks.append(
                (
                    too_long,
                    _("'%(value)s' 超过最大长度 %(limit)d 个字符"),
                    {"limit": info.max_length},
                )
            )
        if info.pattern:
            pattern = non_capturing(info.pattern)
            matches = text.str.contains(pattern, regex=True).to_numpy(dtype=bool)
            checks.append(
                (
                    present & ~matches,
                    _("'%(value)s' 格式不正确（应符合 %(pattern)s）"),
                    {"pattern": info.pattern},
                )
            )
    return checks


def field_errors(
    *,
    info: FieldInfo,
    column: str,
    values: pd.Series,
    text: pd.Series,
    missing: pd.Series,
    bad: pd.Series,
    rows: np.ndarray,
    unit_bad: pd.Series | None = None,
    is_district: bool = False,
) -> tuple[list[RowError], np.ndarray]:
    """All errors of one field in a chunk, and the mask of rows that have one."""
    errors: list[RowError] = []
    failed = np.zeros(len(values), dtype=bool)
    bad_array = bad.to_numpy(dtype=bool)
    unit_array = unit_bad.to_numpy(dtype=bool) if unit_bad is not None else np.zeros_like(bad_array)
    for position in np.flatnonzero(bad_array | unit_array):
        value = str(text.iat[position])
        if is_district and not unit_array[position]:
            message = district_message(value)
        else:
            message = type_message(info, value, unit_problem=bool(unit_array[position]))
        errors.append(RowError(int(rows[position]), column, message, info.name))
    failed |= bad_array | unit_array
    if info.required:
        empty = missing.to_numpy(dtype=bool) & ~failed
        for position in np.flatnonzero(empty):
            errors.append(RowError(int(rows[position]), column, _("必填项为空"), info.name))
        failed |= empty
    for mask, template, extra in constraint_masks(info, values):
        mask = mask & ~failed
        for position in np.flatnonzero(mask):
            message = template % {**extra, "value": str(text.iat[position])}
            errors.append(RowError(int(rows[position]), column, message, info.name))
        failed |= mask
    return errors, failed
