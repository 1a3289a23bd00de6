"""The workbook around a sheet's slices (``connectors.readers.xlsx.slices``): one sheet per
slice, beside the original's shared strings and styles under their own relationships, so
calamine finds them as in the original."""

from __future__ import annotations

import shutil
import zipfile
from typing import TYPE_CHECKING
from xml.sax.saxutils import quoteattr

from connectors.readers.xlsx.extent import BLOCK

if TYPE_CHECKING:
    from connectors.readers.xlsx.archive import CheckedWorkbook

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_CONTENT_TYPES = (
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKSHEET = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"


def write_workbook(
    archive: zipfile.ZipFile, book: CheckedWorkbook, out: zipfile.ZipFile, count: int
) -> None:
    """The workbook of the slices, with the original's shared strings and styles under
    their own relationships (so they are found as in the original)."""
    date1904 = ' date1904="1"' if book.date1904 else ""
    sheets = "".join(
        f'<sheet name="s{k}" sheetId="{k + 1}" r:id="hubSlice{k}"/>' for k in range(count)
    )
    out.writestr(
        "xl/workbook.xml",
        f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><workbookPr{date1904}/>'
        f"<sheets>{sheets}</sheets></workbook>",
    )
    relations = [
        f'<Relationship Id="hubSlice{k}" Type="{_WORKSHEET}" Target="worksheets/s{k}.xml"/>'
        for k in range(count)
    ]
    # calamine also finds these two by name, ignoring case.
    copied = {
        name
        for name in archive.namelist()
        if name.lower() in ("xl/sharedstrings.xml", "xl/styles.xml")
    }
    for shared in book.shared_parts:
        relations.append(
            f"<Relationship Id={quoteattr(shared.rel_id)} Type={quoteattr(shared.rel_type)} "
            f"Target={quoteattr(shared.target)}/>"
        )
        copied.add(shared.path)
    ours = {f"xl/worksheets/s{k}.xml" for k in range(count)} | {
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "[Content_Types].xml",
        "_rels/.rels",
    }
    out.writestr(
        "xl/_rels/workbook.xml.rels",
        f'<Relationships xmlns="{_PKG}">{"".join(relations)}</Relationships>',
    )
    out.writestr("[Content_Types].xml", _CONTENT_TYPES)
    out.writestr("_rels/.rels", _ROOT_RELS)
    for path in sorted(copied - ours):
        with archive.open(path) as source, out.open(path, "w") as target:
            shutil.copyfileobj(source, target, BLOCK)
