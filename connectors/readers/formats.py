"""Open any supported upload: the reader is chosen by content (magic bytes); the file
name only breaks ties and a mismatch is a warning."""

from __future__ import annotations

from pathlib import Path

from django.utils.translation import gettext as _

from connectors.base import InputError
from connectors.readers.base import SAMPLE_BYTES, Scorer, Table, max_upload_bytes, sniff_kind
from connectors.readers.csvfile import open_csv
from connectors.readers.jsonfile import open_json
from connectors.readers.xlsx.reader import open_xlsx
from hub.records.notices import EXTENSION_MISMATCH, Notice


def open_table(
    *, path: Path, filename: str, scorer: Scorer, chunk_rows: int, sheet: str | int | None
) -> Table:
    """Open any supported file; raises InputError for whole-file problems."""
    size = path.stat().st_size
    if size == 0:
        raise InputError(_("文件为空。"))
    if size > max_upload_bytes():
        raise InputError(
            _("文件过大：%(size)d MB，最大允许 %(max)d MB。")
            % {"size": size // 2**20, "max": max_upload_bytes() // 2**20}
        )
    with path.open("rb") as handle:
        head = handle.read(SAMPLE_BYTES)
    kind = sniff_kind(head, filename)
    if kind == "xls":
        raise InputError(_("不支持旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 后上传。"))
    if kind == "xlsx":
        table = open_xlsx(path=path, scorer=scorer, chunk_rows=chunk_rows, sheet=sheet)
    elif kind == "json":
        table = open_json(path=path, scorer=scorer, chunk_rows=chunk_rows)
    else:
        table = open_csv(path=path, head=head, scorer=scorer, chunk_rows=chunk_rows)
    suffix = Path(filename).suffix.lower().lstrip(".")
    expected = {"xlsx": ("xlsx", "xlsm"), "csv": ("csv", "txt", "tsv"), "json": ("json",)}
    if suffix and suffix not in expected[kind]:
        table.warnings.append(
            Notice(EXTENSION_MISMATCH, "", {"suffix": suffix, "kind": kind.upper()})
        )
    return table
