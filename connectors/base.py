"""The connector interface: what a parsed upload looks like, and the class a
department subclasses.

Parsing (:mod:`connectors.pipeline.parsing`: ``parse_file`` for files,
``parse_records`` for JSON pushed by the API) yields :class:`ParsedChunk` objects: a
typed frame with one column per field of the resource, the source row numbers, a
validity mask and the row errors. Whole file problems raise :class:`InputError`.
Department specifics live in :class:`Connector` subclasses registered in
:mod:`connectors.profiles.registry`. This module imports nothing else of the app, so
every layer of it can use these types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pandas as pd
import polars as pl

if TYPE_CHECKING:
    from hub.records.notices import Notice


@dataclass(frozen=True)
class RowError:
    """One problem with one cell (or row) of the source, as the user sees it."""

    row: int  # 1-based source row number, header row counted
    column: str  # the original header text, or the field label if the column is missing
    message: str  # translated, names the bad value
    field: str = ""  # canonical field name, if known

    def as_dict(self) -> dict[str, object]:
        """Plain JSON-able form, for UploadBatch.errors."""
        return {
            "row": self.row,
            "column": self.column,
            "message": self.message,
            "field": self.field,
        }


@dataclass
class KnownRows:
    """Source rows found among the fingerprints of the resource's last load: their
    records are stored already, so they were not normalised."""

    source_rows: np.ndarray
    keys: pl.Series  # the natural keys of their stored records
    fingerprints: np.ndarray  # (n, 2) uint64
    raw: pd.DataFrame  # original cells under the original headers, for the error report

    def __len__(self) -> int:
        return len(self.source_rows)


@dataclass
class ParsedChunk:
    """A normalised, validated slice of the source.

    ``frame`` has one column per field (schema order) with the dtypes documented in
    docs/CONNECTORS.md; ``source_rows``/``valid`` align with it; ``raw`` holds the original
    cell strings under the original headers (same index) for the error report.
    ``warnings`` (hub.records.notices.Notice): the file's (ignored columns, assumptions)
    on the first chunk, each chunk's own (swapped coordinates, converted values).
    """

    frame: pd.DataFrame
    source_rows: np.ndarray
    valid: np.ndarray
    errors: list[RowError]
    raw: pd.DataFrame
    warnings: list[Notice] = field(default_factory=list)
    # Rows of the source whose records are stored already (connectors.pipeline.fingerprints):
    # not in ``frame``; counted unchanged unless their keys repeat.
    known: KnownRows | None = None
    # (n, 2) uint64 fingerprints of the rows in ``frame``, when a load keeps them.
    fingerprints: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def valid_frame(self) -> pd.DataFrame:
        """Only the rows without errors."""
        return self.frame[self.valid]


class InputError(Exception):
    """A whole-file problem: empty, truncated, wrong type, bomb, no header, missing columns."""

    def __init__(self, message: str, *, row: int | None = None, column: str | None = None):
        super().__init__(str(message))
        self.message = str(message)
        self.row = row
        self.column = column


class Connector:
    """Department-specific knowledge about a source; subclass and register one per source.

    Everything generic (FieldSpecs, admin aliases, unit registry, code lists) is applied
    without a subclass; a connector only declares what differs in its department's files.
    """

    code: ClassVar[str] = "generic"
    version: ClassVar[str] = "1.0"
    department: ClassVar[str] = ""
    resources: ClassVar[tuple[str, ...]] = ()
    # canonical field name -> header variants met in the wild (besides FieldSpec.label)
    header_aliases: ClassVar[dict[str, list[str]]] = {}
    # field -> unit the source uses when the header does not say
    source_units: ClassVar[dict[str, str]] = {}
    source_crs: ClassVar[str] = "wgs84"  # "wgs84" | "gcj02" | "bd09" | "cgcs2000"
    day_first: ClassVar[bool] = False
    # numbers written with a decimal comma ("0,75", "1.234,5"): the profile's 小数点为逗号;
    # None decides by the file (a ";"-delimited CSV: decimal comma; connectors.pipeline.commas)
    decimal_comma: ClassVar[bool | None] = None
    # field -> extra value aliases for code/enum fields (source text -> canonical value)
    value_aliases: ClassVar[dict[str, dict[str, str]]] = {}
    # strftime layouts tried before the built-in ones, for datetime and date fields
    date_layouts: ClassVar[tuple[str, ...]] = ()
    # IANA zone of naive times in the files ("": Asia/Shanghai)
    source_timezone: ClassVar[str] = ""
    # cell texts meaning "no value" besides the built-in markers
    missing_values: ClassVar[tuple[str, ...]] = ()
    # How districts are written besides names and codes: "" | "number" | "stats"
    # (connectors.models.DistrictNaming)
    district_naming: ClassVar[str] = ""
    # field -> lookup source: {"resource", "match", "value"} or {"code_list"}
    # (connectors.normalisers.rules); resolved once per file
    lookups: ClassVar[dict[str, dict[str, str]]] = {}
    # set by a profile (connectors.profiles.versions): its version, whether it states the CRS,
    # and who saved it (lookups read another resource's records as that user)
    profile_version: ClassVar[int | None] = None
    crs_stated: ClassVar[bool | None] = None
    profile_author_id: ClassVar[int | None] = None

    def prepare(self, raw: pd.DataFrame) -> pd.DataFrame:
        """Hook for truly department-specific fixes of the raw string frame (default: none).

        ``raw`` has the original headers as columns and strings as values; return a frame
        with the same index.
        """
        return raw

    def finalise(self, chunk: ParsedChunk) -> ParsedChunk:
        """Hook after normalisation and validation (default: none)."""
        return chunk

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.code} v{self.version}>"
