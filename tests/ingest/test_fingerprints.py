"""Source-row fingerprints: re-uploaded rows already stored are not normalised again,
and never at the cost of a wrong count, a missed change or a missed duplicate."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors import services
from connectors.pipeline import fingerprints, parsing
from hub.catalog.models import CodeItem
from hub.records import recordstore
from hub.records.models import BatchStatus, Record, RowFingerprints
from tests.ingest.helpers import gas_csv


@pytest.fixture
def normalised(monkeypatch):
    """How many rows went through normalising, per call (one call a chunk)."""
    calls: list[int] = []
    real = parsing.normalise_chunk

    def spy(raw, *args, **kwargs):
        calls.append(len(raw.frame))
        return real(raw, *args, **kwargs)

    monkeypatch.setattr(parsing, "normalise_chunk", spy)
    return calls


@pytest.fixture
def load(gas, housing, tmp_path):
    def run(text: str, name: str):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        upload = services.create_batch(
            resource=gas, department=housing, file=path, original_filename=name
        )
        return services.run_batch(batch_id=upload.batch.pk)

    return run


def _counts(batch):
    return (batch.status, batch.rows_read, batch.inserted, batch.updated, batch.unchanged)


def test_a_load_keeps_a_fingerprint_and_key_per_row(gas, load):
    batch = load(gas_csv(12), "a.csv")
    stored = RowFingerprints.objects.get(resource=gas)
    assert (stored.batch_id, stored.rows) == (batch.pk, 12)
    memo = fingerprints.RowMemo.load(gas)
    assert memo.stored_context == stored.context
    assert sorted(memo._keys.to_list()) == [f"GP{i:06d}|2025-07-01T06:30:00Z" for i in range(12)]


def test_same_rows_under_new_bytes_are_not_normalised_again(gas, load, normalised):
    first = load(gas_csv(40), "a.csv")
    normalised.clear()
    again = load(gas_csv(40) + "\n", "again.csv")
    assert _counts(again) == (BatchStatus.LOADED, 40, 0, 0, 40)
    assert normalised == []
    # Unchanged records keep the lineage of the batch that wrote them.
    assert set(Record.objects.values_list("batch_id", flat=True)) == {first.pk}
    # The new load's fingerprints replace the old ones.
    assert RowFingerprints.objects.get(resource=gas).batch_id == again.pk


def test_a_changed_row_alone_is_normalised_and_updated(gas, load, normalised):
    load(gas_csv(40), "a.csv")
    normalised.clear()
    batch = load(gas_csv(40, changed=17), "changed.csv")
    assert _counts(batch) == (BatchStatus.LOADED, 40, 0, 1, 39)
    assert normalised == [1]
    record = Record.objects.get(key="GP000017|2025-07-01T06:30:00Z")
    assert record.data["pressure"] == 0.36 and record.batch_id == batch.pk
    # The next upload of the first file finds 39 rows and changes row 17 back.
    normalised.clear()
    back = load(gas_csv(40) + "\n\n", "back.csv")
    assert _counts(back) == (BatchStatus.LOADED, 40, 0, 1, 39)
    assert normalised == [1]
    assert Record.objects.get(key="GP000017|2025-07-01T06:30:00Z").data["pressure"] == 0.35


def test_new_rows_after_known_ones_are_inserted(gas, load, normalised):
    load(gas_csv(20), "a.csv")
    normalised.clear()
    batch = load(gas_csv(25), "more.csv")
    assert _counts(batch) == (BatchStatus.LOADED, 25, 5, 0, 20)
    assert normalised == [5]
    assert Record.objects.filter(resource=gas).count() == 25


def test_a_known_row_repeated_is_a_duplicate_key(gas, load):
    load(gas_csv(10), "a.csv")
    lines = gas_csv(10).splitlines()
    text = "\n".join([*lines, lines[3]]) + "\n"  # row 12 repeats row 4
    batch = load(text, "dup.csv")
    assert batch.status == BatchStatus.REJECTED and batch.rejected == 1
    assert batch.errors[0]["row"] == 12
    assert "GP000002|2025-07-01T06:30:00Z" in batch.errors[0]["message"]
    assert "第 4 行" in batch.errors[0]["message"]
    # A rejected upload leaves the fingerprints of the last load as they were.
    assert RowFingerprints.objects.get(resource=gas).rows == 10


def test_a_known_row_and_a_new_row_with_its_key_are_duplicates(gas, load):
    load(gas_csv(10), "a.csv")
    changed = gas_csv(1, start=5, changed=5).splitlines()[1]  # same key as row 7
    batch = load(gas_csv(10) + changed + "\n", "dup.csv")
    assert batch.status == BatchStatus.REJECTED
    assert [(e["row"], "第 7 行" in e["message"]) for e in batch.errors] == [(12, True)]


def test_a_known_row_with_extra_cells_is_still_an_error(gas, load):
    load(gas_csv(10), "a.csv")
    lines = gas_csv(10).splitlines()
    lines[4] += ",surplus"
    batch = load("\n".join(lines) + "\n", "long.csv")
    assert batch.status == BatchStatus.REJECTED
    assert [e["row"] for e in batch.errors] == [5]
    assert "多出 1 个单元格" in batch.errors[0]["message"]


@pytest.mark.parametrize(
    "change",
    ["code list", "field", "header order"],
)
def test_another_parse_context_normalises_every_row(gas, load, normalised, change):
    load(gas_csv(10), "a.csv")
    text = gas_csv(10)
    if change == "code list":
        item = CodeItem.objects.get(code_list__code__startswith="gb2260", code="310101")
        item.aliases = [*(item.aliases or []), "老黄浦"]
        item.save()
    elif change == "field":
        gas.fields.filter(name="pressure").update(max_value=50)
    else:
        lines = text.splitlines()
        swap = [
            ",".join([*line.split(",")[1:2], line.split(",")[0], *line.split(",")[2:]])
            for line in lines
        ]
        text = "\n".join(swap) + "\n"
    normalised.clear()
    batch = load(text + "\n", "again.csv")
    assert normalised == [10]
    assert _counts(batch) == (BatchStatus.LOADED, 10, 0, 0, 10)


def test_records_written_elsewhere_drop_the_fingerprints(gas, load, normalised):
    load(gas_csv(10), "a.csv")
    assert recordstore.RecordStore(gas).delete(keys=["GP000004|2025-07-01T06:30:00Z"]) == 1
    normalised.clear()
    batch = load(gas_csv(10) + "\n", "again.csv")
    assert normalised == [10]
    assert _counts(batch) == (BatchStatus.LOADED, 10, 1, 0, 9)


def test_a_load_too_large_to_remember_keeps_none(gas, load, monkeypatch):
    load(gas_csv(10), "a.csv")
    monkeypatch.setattr(fingerprints, "MAX_ROWS", 15)
    batch = load(gas_csv(20), "b.csv")
    assert batch.status == BatchStatus.LOADED
    assert not RowFingerprints.objects.filter(resource=gas).exists()


def test_fingerprints_see_every_cell():
    import pandas as pd

    frame = pd.DataFrame({0: ["a", "a", "a", ""], 1: ["b", "b ", "c", "ab"]}, dtype="str")
    prints = fingerprints.row_fingerprints(frame)
    assert prints.shape == (4, 2) and prints.dtype.name == "uint64"
    assert len({tuple(row) for row in prints.tolist()}) == 4
    again = fingerprints.row_fingerprints(frame.iloc[[2, 0]].reset_index(drop=True))
    assert again.tolist() == [prints[2].tolist(), prints[0].tolist()]


def test_deleting_records_in_the_admin_drops_the_fingerprints(gas, load, make_user, client):
    load(gas_csv(10), "a.csv")
    record = Record.objects.get(key="GP000004|2025-07-01T06:30:00Z")
    client.force_login(make_user("housing", superuser=True))
    response = client.post(f"/admin/records/record/{record.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not RowFingerprints.objects.filter(resource=gas).exists()
    batch = load(gas_csv(10) + "\n", "again.csv")
    assert _counts(batch) == (BatchStatus.LOADED, 10, 1, 0, 9)


def test_deleting_selected_records_in_the_admin_drops_the_fingerprints(
    gas, load, make_user, client
):
    load(gas_csv(10), "a.csv")
    keys = [f"GP00000{i}|2025-07-01T06:30:00Z" for i in (2, 5)]
    selected = [str(pk) for pk in Record.objects.filter(key__in=keys).values_list("pk", flat=True)]
    client.force_login(make_user("housing", superuser=True))
    response = client.post(
        "/admin/records/record/",
        {"action": "delete_selected", "_selected_action": selected, "post": "yes"},
    )
    assert response.status_code == 302
    assert Record.objects.filter(resource=gas).count() == 8
    assert not Record.objects.filter(key__in=keys).exists()
    assert not RowFingerprints.objects.filter(resource=gas).exists()


def test_the_write_lock_is_taken_before_the_fingerprints_are_read(gas, load, monkeypatch):
    steps = []
    real_begin, real_load = recordstore.RecordStore.begin_load, fingerprints.RowMemo.load.__func__

    def begin(store):
        steps.append("lock")
        return real_begin(store)

    def read(cls, resource):
        steps.append("read")
        return real_load(cls, resource)

    monkeypatch.setattr(recordstore.RecordStore, "begin_load", begin)
    monkeypatch.setattr(fingerprints.RowMemo, "load", classmethod(read))
    load(gas_csv(3), "a.csv")
    assert steps == ["lock", "read"]


@pytest.mark.postgres
def test_begin_load_holds_the_resources_advisory_lock(gas):
    from django.db import connection, transaction

    from hub.records.recordstore_postgres import LOCK_CLASS

    with transaction.atomic():
        recordstore.RecordStore(gas).begin_load()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND pid = pg_backend_pid() AND classid = %s AND objid = %s",
                [LOCK_CLASS, gas.pk],
            )
            assert cursor.fetchone()[0] == 1


_cell = st.text(alphabet=st.sampled_from(list("ab1,. 中—\n")), max_size=4)


@settings(max_examples=80, deadline=None)
@given(rows=st.lists(st.lists(_cell, min_size=3, max_size=3), min_size=1, max_size=12))
def test_rows_have_equal_fingerprints_exactly_when_their_cells_are_equal(rows):
    import pandas as pd

    frame = pd.DataFrame(rows, dtype="str")
    prints = [tuple(p) for p in fingerprints.row_fingerprints(frame).tolist()]
    for i, row in enumerate(rows):
        for j, other in enumerate(rows):
            assert (prints[i] == prints[j]) == (row == other)
    # A row's fingerprint does not depend on its neighbours or position.
    reversed_prints = fingerprints.row_fingerprints(frame.iloc[::-1].reset_index(drop=True))
    assert [tuple(p) for p in reversed_prints.tolist()] == prints[::-1]


def test_a_row_blank_but_for_extra_cells_is_an_error_among_known_rows(gas, load):
    load(gas_csv(10), "a.csv")
    batch = load(gas_csv(10) + ",,,,,,,,surplus\n", "extra.csv")
    assert batch.status == BatchStatus.REJECTED
    assert [e["row"] for e in batch.errors] == [12]
    assert "多出 1 个单元格" in batch.errors[0]["message"]


def test_a_code_list_change_seen_only_by_folded_spellings_changes_the_context(gas, load):
    text = gas_csv(5).replace("黄浦区", "黄浦级")  # matched through the folded spelling
    assert load(text, "a.csv").status == BatchStatus.LOADED
    xuhui = CodeItem.objects.get(code_list__code__startswith="gb2260", code="310104")
    xuhui.aliases = [*(xuhui.aliases or []), "黄浦"]  # "黄浦" is now ambiguous
    xuhui.save()
    again = load(text + "\n", "b.csv")
    assert again.status == BatchStatus.REJECTED
    assert "黄浦级" in again.errors[0]["message"]


def test_fingerprints_are_kept_in_source_order(gas, load):
    load(gas_csv(6), "a.csv")
    load(gas_csv(6, changed=3), "b.csv")  # row 5 normalised between known rows
    keys = fingerprints.RowMemo.load(gas)._keys.to_list()
    assert keys == [f"GP{i:06d}|2025-07-01T06:30:00Z" for i in range(6)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_deleting_records_waits_for_a_load_that_read_the_fingerprints(gas, load):
    from tests.locking import race

    load(gas_csv(5), "a.csv")
    key = "GP000002|2025-07-01T06:30:00Z"
    outcome = {}

    def reupload():
        outcome["batch"] = load(gas_csv(5, changed=4), "b.csv")

    def delete_through_the_store():
        recordstore.RecordStore(gas).delete(keys=[key])

    assert race(reupload, delete_through_the_store) == []
    assert (outcome["batch"].updated, outcome["batch"].unchanged) == (1, 4)
    assert not Record.objects.filter(key=key).exists()
    assert not RowFingerprints.objects.filter(resource=gas).exists()
    again = load(gas_csv(5, changed=4) + "\n", "c.csv")
    assert (again.inserted, again.unchanged) == (1, 4)
    assert Record.objects.filter(key=key).exists()


@pytest.mark.postgres
def test_fingerprints_are_stored_without_a_second_compression(gas, load):
    """The stored stream is lz4 already: PostgreSQL keeps it out of line as it comes
    (storage EXTERNAL) instead of trying its own compression on every load."""
    from django.db import connection

    load(gas_csv(5), "a.csv")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attstorage FROM pg_attribute"
            " WHERE attrelid = 'hub_rowfingerprints'::regclass AND attname = 'data'"
        )
        assert cursor.fetchone() == ("e",)
    assert len(fingerprints.RowMemo.load(gas)._keys) == 5
