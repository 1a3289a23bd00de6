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
        return self.decided[field][0]

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
