"""The binary COPY encoder: what PostgreSQL reads back is exactly what was encoded."""

from __future__ import annotations

import datetime as dt
import json
import struct

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.records import pgbinary

TYPES = {
    "id": "int8",
    "row": "int4",
    "label": "text",
    "doc": "jsonb",
    "at": "timestamptz",
    "value": "float8",
}

texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40
)
moments = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1)).map(
    lambda moment: moment.replace(microsecond=0)
)
records = st.lists(
    st.fixed_dictionaries(
        {
            "id": st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
            "label": st.one_of(st.none(), texts),
            "doc": st.one_of(st.none(), st.dictionaries(texts, texts, max_size=3)),
            "at": st.one_of(st.none(), moments),
            "value": st.one_of(
                st.none(), st.floats(allow_nan=False, allow_infinity=False, width=64)
            ),
        }
    ),
    max_size=30,
)


def _frame(items: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "id": [item["id"] for item in items],
            "row": list(range(len(items))),
            "label": [item["label"] for item in items],
            "doc": [None if item["doc"] is None else json.dumps(item["doc"]) for item in items],
            "at": [
                None if item["at"] is None else item["at"].strftime("%Y-%m-%dT%H:%M:%SZ")
                for item in items
            ],
            "value": [item["value"] for item in items],
        },
        schema={
            "id": pl.Int64,
            "row": pl.Int64,
            "label": pl.String,
            "doc": pl.String,
            "at": pl.String,
            "value": pl.Float64,
        },
    )


def test_layout_of_one_row():
    frame = pl.DataFrame({"n": [7], "s": ["数"]}, schema={"n": pl.Int64, "s": pl.String})
    payload = pgbinary.encode(frame, {"n": "int8", "s": "jsonb"})
    body = payload[len(pgbinary.SIGNATURE) : -len(pgbinary.TRAILER)]
    text = "数".encode()
    assert body == struct.pack(">hiqi", 2, 8, 7, 1 + len(text)) + b"\x01" + text
    assert payload.endswith(b"\xff\xff")


@pytest.mark.postgres
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(items=records)
def test_postgres_reads_back_what_was_encoded(db, items):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS binary_copy (id bigint, row integer, label text,"
            " doc jsonb, at timestamptz, value double precision)"
        )
        cursor.execute("TRUNCATE binary_copy")
        payload = pgbinary.encode(_frame(items), TYPES)
        with cursor.cursor.copy(
            f"COPY binary_copy ({', '.join(TYPES)}) FROM STDIN (FORMAT binary)"
        ) as copy:
            copy.write(payload)
        cursor.execute("SELECT id, row, label, doc, at, value FROM binary_copy ORDER BY row")
        back = cursor.fetchall()
    expected = [
        (
            item["id"],
            position,
            item["label"],
            item["doc"],
            None if item["at"] is None else item["at"].replace(tzinfo=dt.UTC),
            item["value"],
        )
        for position, item in enumerate(items)
    ]
    assert [
        (i, r, label, json.loads(doc) if isinstance(doc, str) else doc, at, value)
        for i, r, label, doc, at, value in back
    ] == expected


def test_values_the_type_cannot_hold_are_refused_not_wrapped():
    too_big = pl.DataFrame({"n": [2**31]}, schema={"n": pl.Int64})
    with pytest.raises(ValueError, match="n: 2147483648 is out of int4 range"):
        pgbinary.encode(too_big, {"n": "int4"})
    fractional = pl.DataFrame({"n": [1.5]})
    with pytest.raises(TypeError, match="n: Float64 is not an integer type"):
        pgbinary.encode(fractional, {"n": "int8"})
    unreadable = pl.DataFrame({"at": ["2025-07-01T06:30:00Z", "yesterday"]})
    with pytest.raises(ValueError, match="at: cannot read 'yesterday' as a time"):
        pgbinary.encode(unreadable, {"at": "timestamptz"})


def test_dates_are_midnight_utc():
    """A date-typed time field arrives as "2025-07-01": PostgreSQL read it as midnight in
    the connection's time zone (UTC), so the binary form says the same."""
    frame = pl.DataFrame({"at": ["2025-07-01", "2025-07-01T00:00:00Z", None]})
    payload = pgbinary.encode(frame, {"at": "timestamptz"})
    body = payload[len(pgbinary.SIGNATURE) : -len(pgbinary.TRAILER)]
    midnight = int(
        (dt.datetime(2025, 7, 1, tzinfo=dt.UTC) - dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        / dt.timedelta(microseconds=1)
    )
    cell = struct.pack(">hiq", 1, 8, midnight)
    assert body == cell + cell + struct.pack(">hi", 1, -1)


def _reference(frame: pl.DataFrame, types: dict[str, str]) -> bytes:
    """The binary COPY format written row by row with struct, as the documentation
    lays it out: the encoder's vectorised passes must give the same bytes."""
    epoch = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    out = [pgbinary.SIGNATURE]
    for row in frame.select(list(types)).iter_rows():
        out.append(struct.pack(">h", len(types)))
        for value, kind in zip(row, types.values(), strict=True):
            if value is None:
                out.append(struct.pack(">i", -1))
            elif kind in ("text", "jsonb"):
                data = (b"\x01" if kind == "jsonb" else b"") + value.encode()
                out.append(struct.pack(">i", len(data)) + data)
            elif kind == "timestamptz":
                moment = dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
                micros = (moment - epoch) // dt.timedelta(microseconds=1)
                out.append(struct.pack(">iq", 8, micros))
            else:
                code = {"int8": ">iq", "int4": ">ii", "float8": ">id"}[kind]
                out.append(struct.pack(code, struct.calcsize(code) - 4, value))
    out.append(pgbinary.TRAILER)
    return b"".join(out)


@settings(max_examples=200, deadline=None)
@given(items=records, order=st.permutations(list(TYPES)))
def test_the_bytes_are_those_of_the_format_row_by_row(items, order):
    """Any column order (fixed-width fields next to each other are joined as one piece),
    nulls anywhere (a NULL is shorter than the field's other cells)."""
    frame = _frame(items)
    types = {name: TYPES[name] for name in order}
    assert pgbinary.encode(frame, types) == _reference(frame, types)
