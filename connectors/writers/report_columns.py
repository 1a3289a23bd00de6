"""Recognising a corrected error report uploaded as the file it reports on.

The error report (``connectors.writers.reports``) is the original file with two columns of its
own: the source row number first and the error summary last. A steward fixes the red
cells and uploads the report itself; those two columns are then not data of the
resource. They are recognised by their titles (in every language of the hub, so a report
written in Chinese and one read by an English-speaking steward are both known), ignored,
and named in a warning (``notices.REPORT_COLUMN``), never dropped silently.

The report quotes text that a spreadsheet program would run as a formula with a leading
apostrophe (``connectors.writers.spreadsheet.safe_text``): in a recognised report that apostrophe
is taken off again, so such a value loads as it was in the original file.
"""

from __future__ import annotations

from functools import cache

import pandas as pd
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from connectors.writers.spreadsheet import FORMULA_START, PLAIN_NUMBER


@cache
def _titles() -> tuple[frozenset[str], frozenset[str]]:
    """The report's first and last column titles in every configured language."""
    first, last = set(), set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            first.add(_("源文件行号"))
            last.add(_("错误说明"))
    return frozenset(first), frozenset(last)


def positions(headers: list[str], ignored: list[str] | None = None) -> list[int]:
    """Positions of an error report's own columns in ``headers`` (empty for any other
    file). Both must be there: the first column titled as the source row number and the
    last titled as the errors. ``ignored``: only headers the resource does not know."""
    if len(headers) < 3:
        return []
    first, last = _titles()
    head, tail = str(headers[0]).strip(), str(headers[-1]).strip()
    if head not in first or tail not in last:
        return []
    if ignored is not None and not {headers[0], headers[-1]} <= set(ignored):
        return []
    return [0, len(headers) - 1]


def unquote(frame: pd.DataFrame) -> pd.DataFrame:
    """Cells of a recognised report without the apostrophe ``safe_text`` put before text
    starting like a formula ("'=A1" → "=A1"); other cells unchanged."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if series.dtype != object:
            continue
        # Few cells start with an apostrophe: find them vectorised, fix them one by one.
        marked = series.map(lambda value: isinstance(value, str) and value.startswith("'"))
        if marked.any():
            out[column] = series.where(~marked, series[marked].map(unquote_text))
    return out


def unquote_text(value: object) -> object:
    """One cell of :func:`unquote`: the inverse of ``safe_text`` on text."""
    if not isinstance(value, str) or not value.startswith("'"):
        return value
    rest = value[1:]
    if rest.startswith(FORMULA_START) and not PLAIN_NUMBER.match(rest):
        return rest
    return value
