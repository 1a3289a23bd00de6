"""Warnings of a load (提示), stored on the batch as code + column + parameters and
rendered in the viewer's language (CLI, ``--json``, batch API, admin).

Nothing a load assumes or corrects stays silent: ignored columns, an extension that does
not match the content, an assumed unit or coordinate system, swapped coordinates
corrected, values converted from a unit written in the cell, commas read as decimal
points (or thousands separators) because a ";" file's delimiter decided, dots read as
decimal points where each could group thousands, rows and
mapped columns a steward hid in Excel, or a sheet whose rows are hidden by default
(loaded as usual, but said).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

IGNORED_COLUMN = "ignored_column"
EXTENSION_MISMATCH = "extension_mismatch"
ASSUMED_UNIT = "assumed_unit"
ASSUMED_CRS = "assumed_crs"
SWAPPED_COORDINATES = "swapped_coordinates"
CONVERTED_VALUES = "converted_values"
REPORT_COLUMN = "report_column"
SKIPPED_ROWS = "skipped_rows"
NEGATIVE_PARENTHESES = "negative_parentheses"
DECIMAL_COMMA = "decimal_comma"
THOUSANDS_COMMA = "thousands_comma"
AMBIGUOUS_DOT = "ambiguous_dot"
HIDDEN_ROWS = "hidden_rows"
HIDDEN_COLUMN = "hidden_column"
HIDDEN_BY_DEFAULT = "hidden_by_default"

TEMPLATES = {
    IGNORED_COLUMN: _("该列不属于本资源，已忽略。"),
    REPORT_COLUMN: _("文件是更正后的错误报告：报告自带的这一列已忽略，其余各列按原文件读取。"),
    EXTENSION_MISMATCH: _("文件扩展名为 .%(suffix)s，但内容是 %(kind)s，已按 %(kind)s 读取。"),
    ASSUMED_UNIT: _("表头未注明单位，按 %(unit)s 读取。"),
    ASSUMED_CRS: _("未注明坐标系，按 %(crs)s 读取。"),
    SWAPPED_COORDINATES: _("%(rows)d 行的纬度与经度填反，已对调（首个为第 %(first)d 行）。"),
    SKIPPED_ROWS: _("%(rows)d 行是表尾注释或合计行，未作为数据读取（首个为第 %(first)d 行）。"),
    NEGATIVE_PARENTHESES: _(
        "%(rows)d 个值写在括号中，已按负数读取（首个为第 %(first)d 行）；"
        "如括号另有含义，请改写后重新导入。"
    ),
    CONVERTED_VALUES: _(
        "%(rows)d 个值带有单位 %(units)s，已换算为 %(unit)s（首个为第 %(first)d 行）。"
    ),
    DECIMAL_COMMA: _(
        "逗号按小数点读取（如第 %(row)d 行 '%(example)s' 读作 %(value)s）：文件以分号分隔，"
        "接入配置未指定“小数点为逗号”。如不对，请在接入配置中设置“小数点为逗号”。"
    ),
    THOUSANDS_COMMA: _(
        "逗号按千分位读取（如第 %(row)d 行 '%(example)s' 读作 %(value)s）：本列有以点为小数点的值，"
        "接入配置未指定“小数点为逗号”。如逗号是小数点，请在接入配置中将“小数点为逗号”设为“是”。"
    ),
    AMBIGUOUS_DOT: _(
        "点按小数点读取（如第 %(row)d 行 '%(example)s' 读作 %(value)s，而不是 %(other)s）："
        "文件以分号分隔，本列每个带点的值点后都恰好是三位数字，点也可能是千分位；"
        "接入配置未指定“小数点为逗号”。如点是千分位，请在接入配置中将“小数点为逗号”设为“是”；"
        "如读法正确，请设为“否”。"
    ),
    HIDDEN_ROWS: _(
        "Excel 中隐藏的 %(rows)d 行已照常导入（第一行：第 %(first)d 行）；"
        "如这些行不应导入，请删除后重新上传。"
    ),
    HIDDEN_COLUMN: _(
        "该列在 Excel 中是隐藏的（%(letter)s 列），已照常导入；如该列不应导入，请删除后重新上传。"
    ),
    HIDDEN_BY_DEFAULT: _(
        "本工作表的行默认隐藏（Excel 的 zeroHeight 设置或默认行高为 0）：文件中未写出的行"
        "在 Excel 中隐藏，它们不含数据；含数据的行已照常导入，但其中没有自身行高的行在 Excel "
        "或其他软件中可能不显示，行数无法确切得知。如有不应导入的行，请删除后重新上传。"
    ),
}
# Codes whose parameters add up over the chunks of a file.
COUNTED = (SWAPPED_COORDINATES, CONVERTED_VALUES, SKIPPED_ROWS, NEGATIVE_PARENTHESES)
CRS_NAMES = {"wgs84": "WGS-84", "cgcs2000": "CGCS2000", "gcj02": "GCJ-02", "bd09": "BD-09"}


@dataclass
class Notice:
    """One warning: a code of TEMPLATES, the column (file header) it is about, parameters."""

    code: str
    column: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"code": self.code, "column": self.column, "params": self.params}

    @property
    def message(self) -> str:
        return render_message(self.code, self.params)

    def __str__(self) -> str:
        return self.message


def render_message(code: str, params: dict[str, Any]) -> str:
    """The message of a stored warning in the active language."""
    template = TEMPLATES.get(code)
    if template is None:
        return str(params.get("message", code))
    try:
        return str(template) % params
    except (KeyError, TypeError, ValueError):
        return str(template)


def rendered(stored: Iterable[dict]) -> list[dict]:
    """Stored warnings (``UploadBatch.warnings``) as ``{code, column, message}``."""
    return [
        {
            "code": item.get("code", ""),
            "column": item.get("column", ""),
            "message": render_message(item.get("code", ""), item.get("params") or {}),
        }
        for item in stored or []
    ]


def merge(notices: Iterable[Notice]) -> list[Notice]:
    """One notice per (code, column), counts of chunk-level notices added up, the first
    row kept; in first-seen order."""
    merged: dict[tuple[str, str], Notice] = {}
    for notice in notices:
        key = (notice.code, notice.column)
        seen = merged.get(key)
        if seen is None:
            merged[key] = Notice(notice.code, notice.column, dict(notice.params))
        elif notice.code in COUNTED:
            seen.params["rows"] = seen.params.get("rows", 0) + notice.params.get("rows", 0)
            seen.params["first"] = min(seen.params.get("first", 0), notice.params.get("first", 0))
            if "units" in notice.params and notice.params["units"] not in seen.params["units"]:
                seen.params["units"] = "、".join(
                    sorted({*seen.params["units"].split("、"), *notice.params["units"].split("、")})
                )
    return list(merged.values())
