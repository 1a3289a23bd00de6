"""Scale benchmark: millions of readings and records, reads that must stay flat, disk use.

Generates its data with COPY (never the ORM), on the demo catalog:
- readings (``--rows`` or ``BENCH_SCALE_READINGS``; 10M by default) on the ops benchmark's
  2,000 points (``bench_ops.build``: 20k open alerts with work orders), two metrics, spread
  evenly over the last 13 months, so they fill 14 monthly partitions (PostgreSQL);
- records (``BENCH_SCALE_RECORDS``, 10M by default) spread over ``BENCH_SCALE_RESOURCES``
  bench resources (10), keyed by a station id.
Then measures, through the whole stack with Django's test client (the ops centre for the
ops reads, the provider's staff for the records):
- ``GET /api/v1/ops/alerts/?state=open&limit=50`` and ``GET /api/v1/ops/summary/``
  (target p95 < 100 ms), and one point's latest readings (``/points/<id>/readings/``),
  which reads the partitioned table;
- ``GET /api/v1/resources/<code>/records/`` first page (target p95 < 50 ms) and the page at
  cursors 10%, 50% and 99% deep into the largest resource (flat: about the first page's);
- disk use per table (heap, indexes, bytes per row) and a projection to 100M records and
  1B readings from the measured bytes per row;
- peak RSS of a CSV ingest of ``BENCH_SCALE_CSV_ROWS`` rows (2M by default; 0 skips) with
  its floor, in child processes (``bench.bench_ingest``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import statistics
import subprocess
import sys
import time

from bench.bench_ops import PATHS, make_user, percentile
from bench.bench_ops import build as build_ops

PREFIX = "bench-scale-"
POINT_PREFIX = "BENCH-OPS-"
METRICS = (("pressure", "MPa"), ("temperature", "°C"))
CHUNK = 200_000
MONTHS = 13


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _copy(table: str, columns: str, lines) -> int:
    """COPY text lines into ``table`` in chunks; returns the rows written."""
    from django.db import connection

    written = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg 3 cursor under Django's wrapper
        with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            buffer = io.StringIO()
            for count, line in enumerate(lines, 1):
                buffer.write(line)
                if count % CHUNK == 0:
                    copy.write(buffer.getvalue().encode())
                    buffer = io.StringIO()
                written = count
            copy.write(buffer.getvalue().encode())
    return written


def build_readings(total: int) -> dict:
    """``total`` readings on the ops benchmark's points, oldest first (skipped when there)."""
    from django.db import connection

    from operations.models import MonitoringPoint, Reading
    from operations.services import partitions

    if Reading.objects.filter(record_key__startswith=POINT_PREFIX).count() == total:
        return {"seconds": None}
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE operations_reading, operations_readinghourly")
    points = list(
        MonitoringPoint.objects.filter(external_id__startswith=POINT_PREFIX)
        .order_by("id")
        .values_list("id", "resource_id", "external_id")
    )
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    start = partitions.add_months(partitions.month_start(now), -MONTHS)
    partitions.ensure_partitions(now=now, since=start)
    steps = max(1, total // (len(points) * len(METRICS)))
    step = (now - start) / steps

    def lines():
        written = 0
        for i in range(steps):
            at = start + step * i
            stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
            iso = at.isoformat()
            for point_id, resource_id, external in points:
                key = f"{external}|{stamp}"
                for metric, unit in METRICS:
                    if written == total:
                        return
                    value = (point_id * 7 + i) % 1000 / 100
                    yield (
                        f"{resource_id}\t{key}\t{metric}\t{point_id}\t{value}\t{unit}\t{iso}\t\\N\n"
                    )
                    written += 1

    started = time.perf_counter()
    written = _copy(
        "operations_reading",
        "resource_id, record_key, metric, point_id, value, unit, observed_at, batch_id",
        lines(),
    )
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE operations_reading")
    return {"seconds": seconds, "rows": written}


def build_records(total: int, resources: int) -> dict:
    """``total`` records over ``resources`` bench resources (skipped when there)."""
    from django.db import connection

    from hub.catalog.models import DataResource, Department, FieldSpec
    from hub.records.models import Record

    existing = DataResource.objects.filter(code__startswith=PREFIX)
    if (
        existing.count() == resources
        and Record.objects.filter(resource__in=existing).count() == total
    ):
        return {"seconds": None}
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM hub_record WHERE resource_id IN "
            "(SELECT id FROM hub_dataresource WHERE code LIKE %s)",
            [PREFIX + "%"],
        )
    FieldSpec.objects.filter(resource__code__startswith=PREFIX).delete()
    existing.delete()
    provider = Department.objects.get(code="water")
    made = []
    for i in range(resources):
        resource = DataResource.objects.create(
            code=f"{PREFIX}{i:02d}",
            name=f"规模基准资源{i:02d}",
            summary="benchmark",
            provider=provider,
            domain="water",
            update_cycle="hourly",
            sharing_type="unconditional",
            status="published",
            key_fields=["sid"],
            time_field="observed_at",
            district_field="district",
        )
        for order, (name, kind) in enumerate(
            (("sid", "string"), ("observed_at", "datetime"), ("district", "code"),
             ("level", "number"), ("status", "string"))
        ):  # fmt: skip
            FieldSpec.objects.create(
                resource=resource, name=name, label=name, field_type=kind, order=order
            )
        made.append(resource.pk)
    districts = ["310101", "310104", "310105", "310106", "310107", "310109", "310110", "310112"]
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    per = total // resources

    def lines():
        for r, resource_id in enumerate(made):
            count = per if r < resources - 1 else total - per * (resources - 1)
            for i in range(count):
                at = (now - dt.timedelta(seconds=i * 3)).isoformat()
                district = districts[i % 8]
                data = (
                    f'{{"sid": "S{i:09d}", "observed_at": "{at}", "district": "{district}", '
                    f'"level": {i % 97 / 10}, "status": "正常"}}'
                )
                yield (
                    f"{resource_id}\tS{i:09d}\t{data}\t{at}\t{district}\t31.2\t121.4\t"
                    f"{i:032x}\t{i}\t\\N\n"
                )

    started = time.perf_counter()
    written = _copy(
        "hub_record",
        "resource_id, key, data, observed_at, district_code, latitude, longitude, "
        "content_hash, source_row, batch_id",
        lines(),
    )
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE hub_record")
    return {"seconds": seconds, "rows": written}


def timed(client, path: str, params: dict, runs: int) -> list[float]:
    values = []
    for i in range(runs + 5):
        started = time.perf_counter()
        response = client.get(path, params)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, (path, response.status_code)
        if i >= 5:  # warm-up
            values.append(elapsed)
    return values


def record_series(runs: int) -> dict[str, list[float]]:
    """First page and pages at cursors deep into the largest bench resource."""
    from django.test import Client

    from hub.api.record_pages import KEY, Cursor, encode_cursor
    from hub.catalog.models import DataResource
    from hub.records.models import Record

    resource = DataResource.objects.get(code=f"{PREFIX}00")
    client = Client()
    client.force_login(make_user("bench-scale-provider", "water"))
    path = f"/api/v1/resources/{resource.code}/records/"
    count = Record.objects.filter(resource=resource).count()
    series = {"first page": timed(client, path, {"page_size": 100}, runs)}
    for share in (0.1, 0.5, 0.99):
        key = f"S{int(count * share):09d}"
        token = encode_cursor(Cursor(resource.pk, KEY.name, [key]))
        series[f"cursor at {share:.0%}"] = timed(
            client, path, {"page_size": 100, "cursor": token}, runs
        )
    return series


def ops_series(runs: int) -> dict[str, list[float]]:
    from django.test import Client

    from operations.models import MonitoringPoint

    client = Client()
    client.force_login(make_user("bench-ops-centre", "cityops"))
    series = {name: timed(client, path, params, runs) for name, (path, params) in PATHS.items()}
    point = MonitoringPoint.objects.filter(external_id__startswith=POINT_PREFIX).first()
    series["point readings (200 latest)"] = timed(
        client, f"/api/v1/ops/points/{point.pk}/readings/", {}, runs
    )
    return series


def disk_use() -> list[dict]:
    """Heap and index bytes of the big tables (partitions summed) and bytes per row."""
    from django.db import connection

    sizes = []
    with connection.cursor() as cursor:
        for table in ("operations_reading", "hub_record", "operations_readinghourly"):
            cursor.execute(
                "SELECT coalesce(sum(pg_table_size(c.oid)), 0)::bigint, "
                "coalesce(sum(pg_indexes_size(c.oid)), 0)::bigint, 0 "
                "FROM pg_class c WHERE c.oid = %s::regclass OR c.oid IN "
                "(SELECT inhrelid FROM pg_inherits WHERE inhparent = %s::regclass)",
                [table, table],
            )
            heap, indexes, rows = cursor.fetchone()
            cursor.execute(f"SELECT count(*) FROM {table}")  # exact, reltuples is an estimate
            rows = cursor.fetchone()[0]
            sizes.append({"table": table, "heap": heap, "indexes": indexes, "rows": rows})
    return sizes


def csv_ingest(rows: int) -> dict | None:
    """Floor and hub ingest of a ``rows``-row CSV in child processes (peak RSS each)."""
    if rows <= 0:
        return None
    from bench import bench_ingest

    root = bench_ingest.ROOT
    path = bench_ingest.OUT / f"bridge-{rows}.csv"
    if not path.exists():
        code = (
            "from bench.bench_ingest import OUT, _bridge_frame; OUT.mkdir(exist_ok=True);"
            f"_bridge_frame({rows}).to_csv(r'{path}', index=False, encoding='utf-8')"
        )
        subprocess.run([sys.executable, "-c", code], cwd=root, check=True)
    resource = "bridge-structural-health"
    # A 10M-row file (770 MB) is over the default upload limit; the child takes the file
    # as an upload would, so lift the limit for it, as a deployment taking such files does.
    limit = int(os.environ.get("HUB_MAX_UPLOAD_BYTES", 0))
    os.environ["HUB_MAX_UPLOAD_BYTES"] = str(max(limit, path.stat().st_size + (1 << 20)))
    _clear(resource)
    floor = bench_ingest._spawn("floor", str(path), "utf-8", "0", "传感器编号,监测时间")
    hub = bench_ingest._spawn("hub", str(path), resource)
    _clear(resource)
    return {"rows": rows, "floor": floor, "hub": hub}


def _clear(code: str) -> None:
    """Remove a resource's records and batches with SQL: the ORM's delete (bench_ingest's
    reset) loads every record into Python first, gigabytes for millions of rows."""
    from django.db import connection, transaction

    from hub.catalog.models import DataResource
    from hub.records.models import UploadBatch
    from hub.records.recordstore import RecordStore

    resource = DataResource.objects.get(code=code)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM hub_record WHERE resource_id = %s", [resource.pk])
    with transaction.atomic():
        RecordStore(resource).forget_fingerprints()
    UploadBatch.objects.filter(resource=resource).delete()
    # VACUUM, not only ANALYZE: with the deleted rows still in the table and statistics
    # saying none are left, the load's plan check finds no safe probe and the whole file
    # takes the staging + ON CONFLICT path, as no steady-state server would.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE hub_record")


def _mb(value: float) -> str:
    return f"{value / 1e6:,.0f} MB" if value < 1e10 else f"{value / 1e9:,.1f} GB"


def run(args: argparse.Namespace) -> str:
    from django.db import connection

    from operations.services import partitions

    quick = args.quick
    readings = args.rows or env_int("BENCH_SCALE_READINGS", 200_000 if quick else 10_000_000)
    records = env_int("BENCH_SCALE_RECORDS", 200_000 if quick else 10_000_000)
    resources = env_int("BENCH_SCALE_RESOURCES", 10)
    csv_rows = env_int("BENCH_SCALE_CSV_ROWS", 20_000 if quick else 2_000_000)
    runs = 20 if quick else 100
    started = time.perf_counter()
    build_ops(20_000, 2_000)
    built_readings = build_readings(readings)
    built_records = build_records(records, resources)
    build_seconds = time.perf_counter() - started
    ops = ops_series(runs)
    pages = record_series(runs)
    sizes = disk_use()
    ingest = csv_ingest(csv_rows)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        database = cursor.fetchone()[0]
    months = len(partitions.month_partitions())

    def row(name: str, values: list[float], target: float | None) -> str:
        p95 = percentile(values, 0.95) * 1000
        verdict = "" if target is None else ("met" if p95 < target else "NOT met")
        limit = f"< {target:.0f} ms" if target else ""
        return (
            f"| {name} | {statistics.median(values) * 1000:.1f} | {p95:.1f} | {limit} | {verdict} |"
        )

    def rate(built: dict) -> str:
        if built["seconds"] is None:
            return "already present"
        per_second = built["rows"] / built["seconds"]
        return f"COPY {built['rows']:,} rows in {built['seconds']:.0f} s ({per_second:,.0f} rows/s)"

    lines = [
        "## Scale: readings and records by the million",
        "",
        f"Command: `make bench BENCH_ARGS=scale` (readings {readings:,}, records "
        f"{records:,} over {resources} resources, CSV {csv_rows:,} rows"
        f"{', --quick' if quick else ''}). Build {build_seconds:.0f} s: readings "
        f"{rate(built_readings)}; records {rate(built_records)}. {months} month partitions. "
        f"{runs} requests per series after 5 warm-up, Django test client, PostgreSQL.",
        "",
        "| read | p50 ms | p95 ms | target | result |",
        "| --- | ---: | ---: | --- | --- |",
        row("alerts API (ops centre, 20k open alerts)", ops["alerts"], 100),
        row("/ops/ summary (ops centre)", ops["summary"], 100),
        row("大屏 data (ops centre)", ops["screen"], None),
        row("one point's 200 latest readings", ops["point readings (200 latest)"], None),
    ]
    for name, values in pages.items():
        lines.append(
            row(f"records API, {name} (100 rows)", values, 50 if name == "first page" else None)
        )
    lines += [
        "",
        "| table | rows | heap | indexes | bytes/row (heap + indexes) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    per_row = {}
    for size in sizes:
        per_row[size["table"]] = (size["heap"] + size["indexes"]) / max(size["rows"], 1)
        shown = f"{per_row[size['table']]:.0f}" if size["rows"] else "—"
        lines.append(
            f"| {size['table']} | {size['rows']:,} | {_mb(size['heap'])} | "
            f"{_mb(size['indexes'])} | {shown} |"
        )
    lines += [
        "",
        f"Database total: {_mb(database)}. Projection from the measured bytes per row: "
        f"100M records ≈ {_mb(per_row['hub_record'] * 1e8)}, "
        f"1B readings ≈ {_mb(per_row['operations_reading'] * 1e9)} "
        f"(≈ {_mb(per_row['operations_reading'] * 1e9 / MONTHS)} per month over {MONTHS} months).",
    ]
    if ingest:
        floor, hub = ingest["floor"], ingest["hub"]
        lines += [
            "",
            f"CSV ingest of {ingest['rows']:,} rows (bridge CSV, children): floor "
            f"{floor['seconds']:.1f} s, hub {hub['seconds']:.1f} s, ratio "
            f"{hub['seconds'] / floor['seconds']:.2f}×, hub peak RSS "
            f"{hub['peak_rss_mb']:.0f} MB (target < 600 MB), status {hub['status']}, "
            f"inserted {hub['inserted']:,}.",
        ]
    lines.append("")
    return "\n".join(lines)
