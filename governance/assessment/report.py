"""The 考核 report as an XLSX workbook, in the layout a 考核 office sends.

Sheets: 汇总 (rank, department, score, every indicator's sub-score and weight), then one
sheet per indicator (its figures per department), then 说明 (formulas and weights).
Always in Chinese (the office's language, whatever the reader's interface language).

Byte-stable: the same figures give the same bytes. openpyxl stamps the document's
creation time and each zip entry's time; both are pinned (to the end of the period) and
the package is rewritten with fixed entry times, so two downloads can be compared with
``cmp`` and a report can be checksummed.
"""

from __future__ import annotations

import io
import zipfile

from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from governance.assessment.registry import RATE
from governance.assessment.selectors import Assessment

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP_TIME = (2000, 1, 1, 0, 0, 0)
PERCENT = "0.00%"


def filename(table: Assessment) -> str:
    return f"assessment-{table.period.label}.xlsx"


def _title(sheet, text: str, width: int) -> None:
    sheet.append([text])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(width, 1))
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")


def _header(sheet, headers: list[str]) -> None:
    sheet.append(headers)
    row = sheet.max_row
    for column in range(1, len(headers) + 1):
        sheet.cell(row=row, column=column).font = Font(bold=True)
        width = max(10, 2 * len(headers[column - 1]) + 2)
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = sheet.cell(row=row + 1, column=1)


def _score(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


def build(table: Assessment) -> bytes:
    """The workbook's bytes."""
    with translation.override("zh-hans"):
        return _stable(_workbook(table))


def _workbook(table: Assessment) -> bytes:
    book = Workbook()
    period = table.period
    summary = book.active
    summary.title = _("汇总")
    headers = [_("排名"), _("部门代码"), _("部门"), _("综合得分")]
    for item in table.indicators:
        headers.append(_("%(indicator)s得分") % {"indicator": item.label})
    _title(
        summary, _("政务数据共享考核汇总表（%(period)s）") % {"period": period.title}, len(headers)
    )
    summary.append(
        [
            _("考核期"),
            f"{period.start_date:%Y-%m-%d} — {period.last_date:%Y-%m-%d}",
            _("权重"),
            _("；").join(f"{item.label} {table.weights[item.code]:g}" for item in table.indicators),
        ]
    )
    _header(summary, headers)
    for row in table.rows:
        line = [row.rank, row.code, row.name, row.score]
        line += [_score(row.figures[item.code].score) for item in table.indicators]
        summary.append(line)
    for item in table.indicators:
        sheet = book.create_sheet(str(item.label)[:31])
        headers = [_("部门代码"), _("部门"), *[str(c.label) for c in item.columns], _("指标得分")]
        _title(sheet, f"{item.label}（{period.title}）", len(headers))
        _header(sheet, headers)
        for row in table.rows:
            figures = row.figures[item.code]
            sheet.append(
                [
                    row.code,
                    row.name,
                    *[figures.values.get(c.key) for c in item.columns],
                    _score(figures.score),
                ]
            )
            for index, column in enumerate(item.columns, start=3):
                if column.kind == RATE:
                    sheet.cell(row=sheet.max_row, column=index).number_format = PERCENT
    notes = book.create_sheet(_("说明"))
    notes.column_dimensions["A"].width = 100
    for line in _notes(table):
        notes.append([line])
    stamp = table.period.end.replace(tzinfo=None)
    book.properties.created = stamp
    book.properties.modified = stamp
    book.properties.creator = "City Data Hub"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _notes(table: Assessment) -> list[str]:
    return [
        _("综合得分 = 100 × Σ(权重 × 指标得分) ÷ Σ权重，只计本期有考核对象的指标。"),
        _("本期无任何可考核指标的部门不计分、不排名。"),
        _("资源编目与发布：指标得分 = 期末已发布资源 ÷ 期末在册资源。"),
        _("数据按时更新：按更新周期设检查点，检查点前一个周期内有成功入库即为按时。"),
        _("数据按时更新的指标得分 = 各资源按时率的平均值。"),
        _(
            "共享申请按时答复：本期收到的申请中，在答复期限（工作日）内批准或附理由拒绝的比例；未到期的不计。"
        ),
        _("数据异议按时办结：本期收到的异议中，在答复期限内更正或驳回的比例；未到期的不计。"),
        _("上传数据质量：指标得分 = 1 − 拒绝行数 ÷ 读取行数。"),
        _("数据需求按时响应：本期分派的需求中，在答复期限内答复的比例；未到期的不计。"),
        _(
            "数据来源：平台原始记录（资源目录、上传批次、共享申请、数据异议、审计日志），每次导出时重新计算。"
        ),
    ]


def _stable(data: bytes) -> bytes:
    """The same package with every entry's time pinned (openpyxl uses the clock)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()
