"""How a file's number columns read commas, decided once for the whole file.

A comma is a decimal separator ("0,75") or a thousands separator ("1,250"); "1,250"
alone cannot tell. The profile's 小数点为逗号 (``Connector.decimal_comma``) decides when
it is set; a ";"-delimited CSV, where the comma is free to be the decimal separator, reads
the decimal commas of a column with comma cells ("12,500" → 12.5, "1.234,5" → 1234.5),
unless the profile says otherwise; a column without any but with "0.082" keeps its dots
as decimal points (a later comma there is unreadable). Otherwise each number column decides
from the first rows that have comma cells (the file's first chunk, up to 25k rows, else
the first chunk with any): thousands when every comma cell can be one, else none of them
is read. The decision holds for the rest of the file, so a column is never read two ways:
a later "0,5" under a column read as thousands is a row error naming the earlier cell
(stored rows of a partial acceptance keep one reading).

Nothing about it is silent where the file, not the profile, chose a reading its cells do
not prove: a ";" file's column read with decimal commas, or one read with thousands
commas although none of its comma cells proves it ("1,250" beside "3.25", not "12,345.6"
or "1,234,567"), is noted (``notices.DECIMAL_COMMA`` / ``notices.THOUSANDS_COMMA``, with
the first cell read and its value). So is a ";" file's column without comma cells whose
every dot stands before exactly three digits ("2.000", "12.250"): its dots are read as
decimal points, although each could group thousands (``notices.AMBIGUOUS_DOT``, with the
value the other reading gives). A ","-delimited file's thousands are not noted: they are
what the comma means there, and "1,200 张" in most Chinese sheets would be noted every
time; nor are its dots ("1.500" MPa is a decimal point there).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _

from connectors.base import Connector, RowError
from connectors.normalisers import numbers
from connectors.normalisers.headers import ColumnMatch
from connectors.normalisers.schema import Schema
from connectors.readers.base import RawChunk
from hub.records import notices
from hub.records.notices import Notice

NUMBER_TYPES = ("number", "integer")


class FileCommas:
    """The comma reading of each number column of one file."""

    def __init__(self, connector: Connector, delimiter: str | None = None):
        stated = connector.decimal_comma
        self.semicolon = stated is None and delimiter == ";"
        if stated is True:
            self.fixed = "decimal"
        elif stated is False:
            self.fixed = "thousands"
        else:
            self.fixed = ""
        # field -> (mode, cell text, source row) of the cell that decided
        self.decided: dict[str, tuple[str, str, int]] = {}
        # field -> (notice code, its parameters): readings to note, until noted
        self.unnoted: dict[str, tuple[str, dict]] = {}

    def mode(self, field: str, series: pd.Series, rows: np.ndarray) -> str:
        """The reading of ``field``, decided by ``series`` when not decided before."""
        if self.fixed:
            return self.fixed
        if field not in self.decided:
            evidence = numbers.semicolon_evidence if self.semicolon else numbers.comma_evidence
            kind, position = evidence(series)
            if not kind:
                return "auto"
            self.decided[field] = (kind, str(series.iat[position]), int(rows[position]))
            if self.semicolon:
                self._to_note(field, kind, series, rows)
        return self.decided[field][0]

    def _to_note(self, field: str, kind: str, series: pd.Series, rows: np.ndarray) -> None:
        """Keep a notice for a ";" file's column whose comma reading the cells do not prove:
        decimal commas, thousands without a cell only thousands can read, or dots read as
        decimal points where each could be a thousands separator."""
        if kind == "unreadable":
            self._note_dots(field, series, rows)
            return
        if kind == "decimal":
            code = notices.DECIMAL_COMMA
        elif kind == "thousands" and not numbers.proven_thousands(series):
            code = notices.THOUSANDS_COMMA
        else:
            return
        values = numbers.split_numbers(series, commas=kind)[0].to_numpy(dtype="float64")
        read = numbers.comma_cells(series) & np.isfinite(values)
        if not read.any():
            return  # every comma cell is a row error: nothing was read silently
        first = int(np.flatnonzero(read)[0])
        self.unnoted[field] = (
            code,
            {
                "row": int(rows[first]),
                "example": str(series.iat[first]).strip(),
                "value": np.format_float_positional(values[first], trim="-"),
            },
        )

    def _note_dots(self, field: str, series: pd.Series, rows: np.ndarray) -> None:
        """A column without comma cells whose dots all stand before exactly three digits
        ("2.000", "12.250") keeps them as decimal points (2, not 2000): noted with the
        other reading, which 小数点为逗号 = 是 would give."""
        position = numbers.ambiguous_dots(series)
        if position < 0:
            return
        cell = series.iloc[position : position + 1]
        read = numbers.split_numbers(cell, commas="unreadable")[0].iat[0]
        other = numbers.split_numbers(cell, commas="decimal")[0].iat[0]
        if not (np.isfinite(read) and np.isfinite(other)):
            return  # a row error: nothing was read silently
        self.unnoted[field] = (
            notices.AMBIGUOUS_DOT,
            {
                "row": int(rows[position]),
                "example": str(series.iat[position]).strip(),
                "value": np.format_float_positional(read, trim="-"),
                "other": np.format_float_positional(other, trim="-"),
            },
        )

    def notices(self, field: str, column: str) -> list[Notice]:
        """The notice of ``field``'s comma reading (named by its file header ``column``),
        once per file."""
        noted = self.unnoted.pop(field, None)
        return [Notice(noted[0], column, noted[1])] if noted else []

    def observe(self, raw: RawChunk, matches: list[ColumnMatch], schema: Schema) -> None:
        """Decide the number columns with comma cells from a whole chunk (the first one,
        before it is split for the load's quick start)."""
        if self.fixed or not len(raw.frame):
            return
        infos = schema.by_name()
        for match in matches:
            if infos[match.field].field_type in NUMBER_TYPES:
                series = raw.frame.iloc[:, match.position].reset_index(drop=True)
                self.mode(match.field, series, raw.source_rows)

    def first_decides(
        self, chunks: Iterator[RawChunk], matches: list[ColumnMatch], schema: Schema
    ) -> Iterator[RawChunk]:
        """The chunks, the first observed before it is yielded."""
        first = True
        for raw in chunks:
            if first:
                self.observe(raw, matches, schema)
                first = False
            yield raw

    def contradictions(
        self, field: str, series: pd.Series, rows: np.ndarray, column: str
    ) -> tuple[list[RowError], np.ndarray]:
        """Errors for comma cells that cannot be thousands under a column that earlier rows
        decided to read as thousands, and their mask."""
        none = np.zeros(len(series), dtype=bool)
        decided = self.decided.get(field)
        if self.fixed or decided is None or decided[0] != "thousands":
            return [], none
        _mode, example, row = decided
        if not len(rows) or row >= int(rows[0]):
            return [], none  # decided by these rows: they do not contradict themselves
        mask = numbers.undecidable_commas(series)
        errors = [
            RowError(
                int(rows[position]),
                column,
                _(
                    "'%(value)s' 中的逗号只能是小数点，但本列前面的行已按千分位读取逗号"
                    "（第 %(row)d 行 '%(example)s'）：同一文件中一列只能有一种读法。"
                    "若逗号是小数点，请在接入配置中将“小数点为逗号”设为“是”后重新导入。"
                )
                % {"value": series.iat[position], "row": row, "example": example},
                field,
            )
            for position in np.flatnonzero(mask)
        ]
        return errors, mask
