"""Benchmark of the permission layer: masked records page vs its floor, streaming export.

Builds (once, in SQL) 1,000 resources with grants to 50 departments and 1M records in
one resource, then measures in the same run:
- a 100-row records page through the real view (API key auth, throttle, restrict, row
  scope, masking, audit) against the same page with no permission checks (the floor:
  same resource lookup, fields and page query, same JSON rendering);
- queries per request with 1 and with all 1,000 granted resources (constant);
- a CSV export of every record through the real view: rows/s and memory growth.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time

RESOURCE_PREFIX = "bench-perm-"
DEPARTMENTS = 50
DISTRICTS = ["310101", "310104", "310105", "310106", "310107", "310109", "310110", "310112"]


def rss_mb() -> float:
    """Current resident set size of this process (MB)."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def build(rows: int, resources: int) -> None:
    """Create departments, resources, fields, grants and records unless already there."""
    from django.contrib.auth.models import Permission
    from django.db import connection, transaction

    from hub.catalog.models import DataResource
    from hub.catalog.seed import upsert_department
    from hub.records.models import Record

    first = DataResource.objects.filter(code=f"{RESOURCE_PREFIX}0000").first()
    if (
        first is not None
        and DataResource.objects.filter(code__startswith=RESOURCE_PREFIX).count() == resources
        and Record.objects.filter(resource=first).count() == rows
    ):
        return
    departments = [
        upsert_department(code=f"bd{i:02d}", name=f"基准部门{i:02d}", short_name=f"bd{i:02d}")
        for i in range(DEPARTMENTS)
    ]
    view_records = Permission.objects.get(codename="view_records")
    with transaction.atomic(), connection.cursor() as cursor:
        # Foreign keys cascade in Django, not in the database: remove dependents first.
        dependents = [
            ("hub_record", "resource_id"),
            ("hub_fieldspec", "resource_id"),
            ("hub_uploadbatch", "resource_id"),
            ("permissions_accessgrant", "resource_id"),
            ("permissions_accessrequest", "resource_id"),
            ("permissions_resourcegrouppermission", "content_object_id"),
            ("permissions_resourceuserpermission", "content_object_id"),
        ]
        for table, column in dependents:
            cursor.execute(
                f"DELETE FROM {table} WHERE {column} IN "
                "(SELECT id FROM hub_dataresource WHERE code LIKE %s)",
                [RESOURCE_PREFIX + "%"],
            )
        cursor.execute("DELETE FROM hub_dataresource WHERE code LIKE %s", [RESOURCE_PREFIX + "%"])
        cursor.execute(
            """
            INSERT INTO hub_dataresource (code, name, summary, provider_id, domain, keywords,
                format, update_cycle, sharing_type, sharing_conditions, legal_basis, open_type,
                status, key_fields, time_field, district_field, latitude_field,
                longitude_field, grade, accept_valid_rows, created_at, updated_at)
            SELECT %s || lpad(i::text, 4, '0'), 'bench ' || i, 'benchmark', %s, 'fire', '[]',
                'table', 'daily', 'conditional', '审批', '依法', 'closed', 'published',
                '["rid"]', 'observed_at', 'district', '', '', 4, false, now(), now()
            FROM generate_series(0, %s - 1) AS i
            """,
            [RESOURCE_PREFIX, departments[0].pk, resources],
        )
        cursor.execute(
            """
            INSERT INTO hub_fieldspec (resource_id, name, label, description, field_type, unit,
                required, pattern, enum, grade, masking, "order")
            SELECT r.id, f.name, f.name, '', 'string', '', false, '', '[]', f.grade, f.masking,
                f.ord
            FROM hub_dataresource r,
                (VALUES ('rid', 1, 'none', 0), ('district', 1, 'none', 1),
                        ('name', 3, 'person_name', 2), ('phone', 3, 'phone', 3),
                        ('idno', 4, 'id_number', 4), ('level', 1, 'none', 5),
                        ('value', 1, 'none', 6)) AS f(name, grade, masking, ord)
            WHERE r.code LIKE %s
            """,
            [RESOURCE_PREFIX + "%"],
        )
        # Every resource granted to every other department (49,950 grants), row-scoped.
        cursor.execute(
            """
            INSERT INTO permissions_accessgrant (resource_id, department_id, fields, districts,
                clear_fields, expires_at, revoke_reason, created_at)
            SELECT r.id, d.id, '[]', %s, '[]', now() + interval '365 days', '', now()
            FROM hub_dataresource r, hub_department d
            WHERE r.code LIKE %s AND d.code LIKE 'bd%%' AND d.id <> r.provider_id
            """,
            [
                '["' + '","'.join(DISTRICTS[:4]) + '"]',
                RESOURCE_PREFIX + "%",
            ],
        )
        cursor.execute(
            """
            INSERT INTO permissions_resourcegrouppermission (content_object_id, group_id,
                permission_id)
            SELECT g.resource_id, d.group_id, %s
            FROM permissions_accessgrant g JOIN hub_department d ON d.id = g.department_id
            JOIN hub_dataresource r ON r.id = g.resource_id WHERE r.code LIKE %s
            """,
            [view_records.pk, RESOURCE_PREFIX + "%"],
        )
        cursor.execute(
            """
            INSERT INTO hub_record (resource_id, key, data, observed_at, district_code,
                latitude, longitude, content_hash, source_row, created_at, updated_at)
            SELECT r.id, lpad(i::text, 8, '0'),
                jsonb_build_object('rid', lpad(i::text, 8, '0'),
                    'district', (%s::text[])[1 + i %% 8],
                    'name', '张三丰', 'phone', '138' || lpad((i %% 100000000)::text, 8, '0'),
                    'idno', '3101011990' || lpad((i %% 100000000)::text, 8, '0'),
                    'level', i %% 4, 'value', round((i %% 1000)::numeric / 7, 3)),
                now() - (i || ' seconds')::interval, (%s::text[])[1 + i %% 8],
                31.2, 121.4, md5(i::text), i, now(), now()
            FROM hub_dataresource r, generate_series(0, %s - 1) AS i
            WHERE r.code = %s
            """,
            [DISTRICTS, DISTRICTS, rows, f"{RESOURCE_PREFIX}0000"],
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE hub_record; ANALYZE permissions_accessgrant;")
        cursor.execute("ANALYZE permissions_resourcegrouppermission; ANALYZE hub_dataresource;")


def floor_view(*, authenticated: bool, prepared: bool = False):
    """The same page with no permission checks: lookup, fields, page, same JSON shape.

    ``authenticated``: keep the API key authentication and throttle (they identify the
    caller, they are not permission checks); otherwise a bare view. ``prepared``: run the
    lookup and the page query as prepared statements, as the real view runs its
    (permission-bearing) lookup and page statement, to show what preparation alone buys.
    """
    from contextlib import nullcontext

    from django.db.models import prefetch_related_objects
    from rest_framework.permissions import AllowAny
    from rest_framework.response import Response
    from rest_framework.utils.urls import replace_query_param
    from rest_framework.views import APIView

    from hub.api.record_pages import KEY, encode_cursor, read_page
    from hub.api.records import masked_rows
    from hub.catalog.models import DataResource
    from hub.records.models import Record
    from permissions.prepared import prepared_statements

    statements = prepared_statements if prepared else nullcontext

    class FloorView(APIView):
        permission_classes = [AllowAny]
        if not authenticated:
            authentication_classes: list = []
            throttle_classes: list = []

        def get(self, request, code):
            if prepared:
                with statements():
                    resource = DataResource.objects.get(code=code)
                prefetch_related_objects([resource], "fields")
            else:
                resource = DataResource.objects.prefetch_related("fields").get(code=code)
            names = [f.name for f in resource.fields.all()]
            queryset = Record.objects.filter(resource=resource).values("data", "key")
            size = int(request.query_params.get("page_size", 100))
            with statements():
                page = read_page(queryset, KEY, None, size, resource.pk)
            rows = masked_rows([item["data"] for item in page.rows], names, {})
            link = request.build_absolute_uri()
            return Response(
                {
                    "next": page.next
                    and replace_query_param(link, "cursor", encode_cursor(page.next)),
                    "previous": None,
                    "fields": names,
                    "results": rows,
                }
            )

    return FloorView.as_view()


def timed(view, factory, path: str, headers: dict, code: str) -> float:
    request = factory.get(path, {"page_size": 100}, **headers)
    started = time.perf_counter()
    response = view(request, code=code)
    response.render()
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.status_code
    return elapsed


def count_queries(view, factory, path, headers, code) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as context:
        timed(view, factory, path, headers, code)
    return len(context.captured_queries)


def run(args: argparse.Namespace) -> str:
    """Build the data set, measure, and return the report section."""
    from django.core.cache import cache
    from django.test import override_settings
    from rest_framework.test import APIRequestFactory

    from hub.api.records import ResourceRecordsView
    from hub.catalog.models import Department
    from permissions.api_key_services import create_api_key

    rows = args.rows or (20_000 if args.quick else 1_000_000)
    resources = 50 if args.quick else 1000
    iterations = 30 if args.quick else 200
    started = time.perf_counter()
    build(rows, resources)
    build_seconds = time.perf_counter() - started
    cache.clear()
    department = Department.objects.get(code="bd07")
    _key, plaintext = create_api_key(
        department=department,
        name="bench",
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
    )
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {plaintext}"}
    factory = APIRequestFactory()
    code = f"{RESOURCE_PREFIX}0000"
    path = f"/api/v1/resources/{code}/records/"

    real = ResourceRecordsView.as_view()
    floor_auth, floor_bare = floor_view(authenticated=True), floor_view(authenticated=False)
    floor_prepared = floor_view(authenticated=True, prepared=True)
    check = real(factory.get(path, {"page_size": 100}, **headers), code=code)
    body = check.data["results"]
    assert len(body) == 100 and "****" in body[0]["phone"], body[0]
    assert {row["district"] for row in body} <= set(DISTRICTS[:4])
    durable = override_settings(HUB_AUDIT_SYNC_READS=True)
    series: dict[str, list[float]] = {
        "real": [],
        "durable": [],
        "auth": [],
        "bare": [],
        "prepared": [],
    }
    for warm in (True, False):
        # Warm up, then interleave so load drift on the shared host hits all alike.
        for _ in range(10 if warm else iterations):
            cache.clear()
            times = {
                "real": timed(real, factory, path, headers, code),
                "auth": timed(floor_auth, factory, path, headers, code),
                "bare": timed(floor_bare, factory, path, {}, code),
                "prepared": timed(floor_prepared, factory, path, headers, code),
            }
            if not warm:
                for name, value in times.items():
                    series[name].append(value)
    # The durable variant in a loop of its own: its synchronous WAL flush slowed whichever
    # request came next (the real view, first in the loop above) and skewed the ratio.
    with durable:
        for index in range(10 + iterations):
            cache.clear()
            elapsed = timed(real, factory, path, headers, code)
            if index >= 10:
                series["durable"].append(elapsed)
    ms = {name: statistics.median(values) * 1000 for name, values in series.items()}
    floor = floor_bare
    queries_real = count_queries(real, factory, path, headers, code)
    queries_floor = count_queries(floor, factory, path, {}, code)
    queries_auth = count_queries(floor_auth, factory, path, headers, code)
    other = f"{RESOURCE_PREFIX}0001"
    queries_other = count_queries(
        real, factory, f"/api/v1/resources/{other}/records/", headers, other
    )

    # Export: a department granted every row (no row scope), masked fields.
    from permissions.models import AccessGrant

    exporter = Department.objects.get(code="bd08")
    AccessGrant.objects.filter(resource__code=code, department=exporter).update(districts=[])
    _key, export_key = create_api_key(department=exporter, name="bench-export")
    request = factory.get(path, {"format": "csv"}, HTTP_AUTHORIZATION=f"Api-Key {export_key}")
    rss_before = rss_mb()
    rss_peak = rss_before
    started = time.perf_counter()
    response = real(request, code=code)
    size = lines = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        lines += chunk.count(b"\n")
        rss_peak = max(rss_peak, rss_mb())
    export_seconds = time.perf_counter() - started
    exported = lines - 1
    assert exported == rows, (exported, rows)
    command = (
        "DATABASE_URL=postgres://postgres@127.0.0.1:5432/hub_bench "
        ".venv/bin/python -m bench permissions"
    )
    return "\n".join(
        [
            "## Permissions: masked records page and streaming export",
            "",
            f"Command: `{command}`{' --quick' if args.quick else ''}",
            "",
            f"Data: {rows:,} records in one resource, {resources:,} resources, grants of every"
            f" resource to {DEPARTMENTS - 1} departments (row scope: 4 of 8 districts)."
            f" Build {build_seconds:.1f} s (skipped when already present).",
            "",
            "| measure | value |",
            "|---|---|",
            f"| 100-row page, real view: API key, throttle, restrict, row scope, masking, "
            f"audit (default: read events without WAL flush wait) | {ms['real']:.2f} ms"
            f" (median of {iterations}) |",
            f"| same, durable read audit (HUB_AUDIT_SYNC_READS=1) | {ms['durable']:.2f} ms |",
            f"| floor: same page, API key + throttle, no permission checks | {ms['auth']:.2f} ms |",
            f"| bare floor: same page, no authentication, no checks | {ms['bare']:.2f} ms |",
            f"| floor with the real view's statement preparation (lookup, page query) | "
            f"{ms['prepared']:.2f} ms |",
            f"| **ratio real / floor** (default; durable read audit) | "
            f"**{ms['real'] / ms['auth']:.2f}x**; {ms['durable'] / ms['auth']:.2f}x"
            " (target ≤ 1.3x) |",
            f"| ratio real / bare floor (default; durable) | {ms['real'] / ms['bare']:.2f}x; "
            f"{ms['durable'] / ms['bare']:.2f}x |",
            f"| ratio real / prepared floor (default) | {ms['real'] / ms['prepared']:.2f}x |",
            f"| queries per request, real view (resource 0 / resource 1) | "
            f"{queries_real} / {queries_other} |",
            f"| queries per request, floor with API key / bare floor | {queries_auth} /"
            f" {queries_floor} |",
            f"| CSV export of {exported:,} masked rows | {export_seconds:.1f} s = "
            f"**{exported / export_seconds:,.0f} rows/s** ({size / 1e6:.0f} MB) |",
            f"| RSS before / peak during export | {rss_before:.0f} MB / {rss_peak:.0f} MB |",
        ]
    )
