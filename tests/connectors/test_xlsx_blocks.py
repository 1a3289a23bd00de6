"""The archive pass block by block: what it finds in a worksheet and the slices it writes do
not depend on where the blocks begin and end (connectors.readers.xlsx.sheet_scan, slices)."""

from __future__ import annotations

import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.readers.xlsx import extent as xlsx_extent
from connectors.readers.xlsx import sheet_scan
from connectors.readers.xlsx import slices as xlsx_slices

from .test_xlsx_reader import sheet_xml

# Cells as writers write them, and the odd ones each check is there for.
PLAIN = '<c r="{col}{row}" t="inlineStr"><is><t>甲{row}</t></is></c>'
NUMBER = '<c r="{col}{row}"><v>{row}.5</v></c>'
FORMULA = '<c r="{col}{row}"><f>SUM(A1:A{row})</f><v>3</v></c>'
PREFIXED = '<x:c r="{col}{row}"><x:v>1</x:v></x:c>'
NO_REFERENCE = "<c><v>2</v></c>"
BEYOND = '<c r="XFD{row}"><v>1</v></c>'
cells = st.lists(
    st.sampled_from([PLAIN, NUMBER, FORMULA, PREFIXED, NO_REFERENCE, BEYOND]),
    min_size=1,
    max_size=4,
)
rows = st.lists(st.tuples(cells, st.sampled_from(["", ' hidden="1"', ' ht="0"'])), max_size=60)


def body(content: list[tuple[list[str], str]]) -> str:
    out = []
    for number, (row_cells, hidden) in enumerate(content, start=1):
        written = "".join(
            cell.format(col="ABCD"[position], row=number) for position, cell in enumerate(row_cells)
        )
        out.append(f'<row r="{number}"{hidden}>{written}</row>')
    return "".join(out)


def blocks_of(data: bytes, sizes: list[int]) -> list[bytes]:
    """``data`` cut into blocks of the given sizes (repeated), the rest as one block."""
    blocks, at = [], 0
    while at < len(data):
        size = sizes[len(blocks) % len(sizes)]
        blocks.append(data[at : at + size])
        at += size
    return blocks


def scanned(data: bytes, sizes: list[int]) -> sheet_scan.SheetScan:
    """A sheet scanned as the archive pass does: each block after the tail of the last."""
    scan, tail = sheet_scan.SheetScan(), b""
    checks = xlsx_extent.fast_checks(64)
    for block in blocks_of(data, sizes):
        sheet_scan.scan_block(scan, tail + block, len(tail), checks, count_rows=False)
        tail = block[-xlsx_extent.OVERLAP :]
    return scan


@settings(max_examples=150, deadline=None)
@given(content=rows, sizes=st.lists(st.integers(600, 3000), min_size=1, max_size=4))
def test_blocks_find_what_each_pattern_finds_in_the_whole_sheet(content, sizes):
    """One scan for the "<"-led extent check and the formulas while neither was found
    gives each flag as its own pattern over the whole sheet does."""
    data = sheet_xml(body(content) + '<mergeCells><mergeCell ref="A1:B1"/></mergeCells>')
    checks = xlsx_extent.fast_checks(64)
    scan = scanned(data, sizes)
    assert scan.suspect == any(xlsx_extent.matches_any(data, [check]) for check in checks)
    assert scan.has_formulas == xlsx_extent.matches_any(data, [sheet_scan._FORMULA])
    whole = scanned(data, [len(data)])
    assert (scan.hidden_rows, scan.hidden_first, scan.hidden_top) == (
        whole.hidden_rows,
        whole.hidden_first,
        whole.hidden_top,
    )
    assert scan.merges == whole.merges == {((0, 0), (0, 1))}


def test_each_flag_is_found_alone_and_together():
    plain = body([([PLAIN, NUMBER], "")] * 3)
    for extra, suspect, formulas in [
        ("", False, False),
        (FORMULA, False, True),
        (PREFIXED, True, False),
        (FORMULA + PREFIXED, True, True),
        (PREFIXED + FORMULA, True, True),
    ]:
        data = sheet_xml(plain + f'<row r="9">{extra.format(col="A", row=9)}</row>')
        scan = scanned(data, [len(data)])
        assert (scan.suspect, scan.has_formulas) == (suspect, formulas), extra


def written_slices(data: bytes, sizes: list[int]) -> tuple[list[tuple[int, str]], dict]:
    """The cuts and the slice entries a SliceWriter makes of ``data`` fed in blocks (its
    random sentinel text replaced by a fixed one)."""
    writer = xlsx_slices.SliceWriter()
    try:
        for block in blocks_of(data, sizes):
            writer.feed(block)
        writer.feed(b"")
        assert not writer.failed
        writer.out.close()
        writer.handle.flush()
        with zipfile.ZipFile(writer.handle.name) as out:
            sentinel = writer.sentinel.encode()
            entries = {
                name: out.read(name).replace(sentinel, b"SENTINEL") for name in out.namelist()
            }
        return [(cut.row, cut.column) for cut in writer.cuts], entries
    finally:
        writer.close()


@pytest.fixture
def small_slices(monkeypatch):
    monkeypatch.setattr(xlsx_slices, "FIRST_SLICE_BYTES", 3000)
    monkeypatch.setattr(xlsx_slices, "SLICE_BYTES", 9000)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    count=st.integers(60, 400),
    sizes=st.lists(st.integers(1, 5000), min_size=1, max_size=5),
    after=st.sampled_from(["", '<mergeCells><mergeCell ref="A1:B1"/></mergeCells>']),
)
def test_slices_do_not_depend_on_the_blocks(small_slices, count, sizes, after):
    """Blocks written straight on (most of a large sheet's) and blocks joined to the
    held-back bytes first (small ones, cuts, the end of the rows) write the same slices."""
    data = sheet_xml(body([([PLAIN, NUMBER, PLAIN], "")] * count) + after)
    expected = written_slices(data, [len(data)])
    assert written_slices(data, sizes) == expected
    cuts, entries = expected
    assert len(cuts) >= 2
    rows = b"".join(entries[f"xl/worksheets/s{index}.xml"] for index in range(len(cuts)))
    assert rows.count(b"<row ") == count + len(cuts) - 1  # one sentinel row per later slice


def test_most_blocks_of_a_slice_are_written_straight_on(small_slices, monkeypatch):
    taken = []
    original = xlsx_slices.SliceWriter._within_slice

    def spied(self, block):
        taken.append(original(self, block))
        return taken[-1]

    data = sheet_xml(body([([PLAIN, NUMBER, PLAIN], "")] * 300))
    whole = written_slices(data, [len(data)])
    monkeypatch.setattr(xlsx_slices.SliceWriter, "_within_slice", spied)
    assert written_slices(data, [1100]) == whole
    assert sum(taken) > len(taken) / 2
