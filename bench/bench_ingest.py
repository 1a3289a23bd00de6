"""Ingest benchmark: the hub's pipeline against its floor, measured in the same run.

Cases (files generated into bench/out/, git-ignored):

* ``csv``   1M-row, 9-column bridge monitoring CSV (UTF-8, clean) → bridge-structural-health
* ``gbk``   the same size of messy gas pressure data in GBK (title row, Chinese dates,
            kPa, district names, ``—`` for missing) → gas-pipeline-pressure
* ``xlsx``  100k-row XLSX of bridge monitoring data

The floor of a file is pandas ``read_csv`` plus a PostgreSQL COPY of the same rows into
a keyed JSONB table (key text primary key, data jsonb), JSON built with polars. Every
case runs in its own child process; peak RSS comes from ``os.wait4``'s rusage.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
ROOT = HERE.parent

BRIDGE_HEADER = [
    "桥梁编号",
    "传感器编号",
    "监测时间",
    "所属区",
    "应变",
    "挠度",
    "一阶频率",
    "纬度",
    "经度",
]
DISTRICT_CODES = ["310101", "310104", "310105", "310106", "310107", "310109", "310110"]
DISTRICT_NAMES = ["黄浦区", "徐汇", "长宁区", "静安区", "普陀区", "虹口区", "杨浦"]


def _bridge_frame(rows: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    per_sensor = 1000
    i = np.arange(rows)
    sensor = i // per_sensor
    minutes = (i % per_sensor) * 10
    times = pd.Timestamp("2025-07-01 00:00:00") + pd.to_timedelta(minutes, unit="min")
    return pd.DataFrame(
        {
            BRIDGE_HEADER[0]: pd.Series(sensor // 20).map("BR{:05d}".format),
            BRIDGE_HEADER[1]: pd.Series(sensor).map("S{:06d}".format),
            BRIDGE_HEADER[2]: times.strftime("%Y-%m-%d %H:%M:%S"),
            BRIDGE_HEADER[3]: np.array(DISTRICT_CODES)[sensor % len(DISTRICT_CODES)],
            BRIDGE_HEADER[4]: rng.uniform(-800, 800, rows).round(2),
            BRIDGE_HEADER[5]: rng.uniform(-40, 40, rows).round(2),
            BRIDGE_HEADER[6]: rng.uniform(0.5, 8, rows).round(3),
            BRIDGE_HEADER[7]: (31.0 + (sensor % 500) / 1000).round(6),
            BRIDGE_HEADER[8]: (121.2 + (sensor % 700) / 1000).round(6),
        }
    )


def _gas_messy_frame(rows: int, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    per_point = 1000
    i = np.arange(rows)
    point = i // per_point
    minutes = (i % per_point) * 5
    times = pd.Timestamp("2025-07-01 00:00:00") + pd.to_timedelta(minutes, unit="min")
    temperature = rng.uniform(5, 30, rows).round(1).astype(str)
    temperature[i % 17 == 0] = "—"
    return pd.DataFrame(
        {
            "测点编号": pd.Series(point).map("GP{:06d}".format),
            "采集时间": times.strftime("%Y年%-m月%-d日 %H时%M分"),
            "行政区": np.array(DISTRICT_NAMES)[point % len(DISTRICT_NAMES)],
            "压力(kPa)": rng.uniform(100, 400, rows).round(2),
            "温度(°C)": temperature,
            "压力等级": np.where(point % 3 == 0, "中压", "中压A"),
            "纬度": (31.0 + (point % 500) / 1000).round(6),
            "经度": (121.2 + (point % 700) / 1000).round(6),
            "备注": "",
        }
    )


def generate(rows: int, xlsx_rows: int) -> dict[str, Path]:
    """Write the three benchmark files (skipped when present with the same sizes)."""
    OUT.mkdir(exist_ok=True)
    files = {
        "csv": OUT / f"bridge-{rows}.csv",
        "gbk": OUT / f"gas-messy-gbk-{rows}.csv",
        "xlsx": OUT / f"bridge-{xlsx_rows}.xlsx",
    }
    if not files["csv"].exists():
        _bridge_frame(rows).to_csv(files["csv"], index=False, encoding="utf-8")
    shuffled = files["csv"].with_name(f"{files['csv'].stem}-shuffled.csv")
    if not shuffled.exists():
        _variant(files["csv"], "shuffled", change_one=False, shuffle=True)
    if not files["gbk"].exists():
        with files["gbk"].open("w", encoding="gbk", newline="") as handle:
            handle.write("2025年7月燃气管网压力监测日报\n")
            _gas_messy_frame(rows).to_csv(handle, index=False)
    if not files["xlsx"].exists():
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("监测数据")
        frame = _bridge_frame(xlsx_rows, seed=3)
        sheet.append(BRIDGE_HEADER)
        for row in frame.itertuples(index=False):
            sheet.append(list(row))
        book.save(files["xlsx"])
    return files


def _variant(path: Path, suffix: str, *, change_one: bool, shuffle: bool = False) -> Path:
    """The same rows under another SHA-256: a trailing newline, one value changed, or
    the data rows in another order."""
    target = path.with_name(f"{path.stem}-{suffix}{path.suffix}")
    data = path.read_bytes()
    if shuffle:
        header, *rows = data.rstrip(b"\n").split(b"\n")
        order = np.random.default_rng(7).permutation(len(rows))
        target.write_bytes(b"\n".join([header, *(rows[i] for i in order)]) + b"\n")
    elif change_one:
        # The last data line's last field (a coordinate) gets one more digit.
        body = data.rstrip(b"\n")
        cut = body.rfind(b"\n")
        target.write_bytes(body[: cut + 1] + body[cut + 1 :] + b"1\n")
    else:
        target.write_bytes(data + b"\n")
    return target


# --- child processes -------------------------------------------------------------------


def child_floor(path: str, encoding: str, skiprows: int, key_columns: str) -> dict:
    """Floor: pandas read_csv + COPY of the rows into (key text primary key, data jsonb)."""
    import polars as pl
    import psycopg

    url = os.environ["DATABASE_URL"]
    keys = key_columns.split(",")
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_floor")
        conn.execute("CREATE TABLE bench_floor (key text PRIMARY KEY, data jsonb)")
        conn.commit()
        started = time.perf_counter()
        frame = pd.read_csv(path, encoding=encoding, skiprows=skiprows, dtype=str)
        typed = pl.from_pandas(frame)
        payload = typed.select(
            pl.concat_str([pl.col(k) for k in keys], separator="|").alias("key"),
            pl.struct(typed.columns).struct.json_encode().alias("data"),
        ).write_csv(include_header=False)
        with (
            conn.cursor() as cursor,
            cursor.copy("COPY bench_floor FROM STDIN (FORMAT csv)") as copy,
        ):
            copy.write(payload.encode("utf-8"))
        conn.commit()
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE bench_floor")
        conn.commit()
    return {"seconds": elapsed, "rows": len(frame)}


def child_hub(path: str, resource: str) -> dict:
    """The hub end to end: create_batch (stream + SHA-256) and run_batch, synchronously."""
    import django

    django.setup()
    from connectors.services import create_batch, run_batch
    from hub.catalog.models import DataResource

    target = DataResource.objects.select_related("provider").get(code=resource)
    started = time.perf_counter()
    upload = create_batch(
        resource=target, department=target.provider, file=path, original_filename=Path(path).name
    )
    batch, duplicate_of = upload.batch, upload.duplicate_of
    if not upload.is_duplicate:
        batch = run_batch(batch_id=batch.pk)
    elapsed = time.perf_counter() - started
    return {
        "seconds": elapsed,
        "status": batch.status,
        "duplicate_of": duplicate_of,
        "rows_read": batch.rows_read,
        "inserted": batch.inserted,
        "updated": batch.updated,
        "unchanged": batch.unchanged,
        "rejected": batch.rejected,
        "errors": batch.errors[:3],
        "message": batch.message,
        "timings": batch.timings,
    }


def _settle() -> None:
    """Start each measured child from a checkpoint: a 1M-row COPY writes about 0.7 GB of
    WAL, and without this the next child (the hub right after its floor, or the next
    case) paid for the checkpoint the previous one made due (max_wal_size). The
    checkpoint's pages, and the reset's VACUUM, are then flushed from the OS cache too
    (``os.sync``): else the kernel writes them back while the next child runs."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
    os.sync()


def _spawn(*argv: str) -> dict:
    """Run one case in a child process, from a checkpoint; return its JSON plus its own
    peak RSS (MB)."""
    _settle()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.bench_ingest", *argv], cwd=ROOT, stdout=out
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode()
    if proc.returncode != 0:
        raise RuntimeError(f"bench child {argv} failed with {proc.returncode}: {text[-2000:]}")
    result = json.loads(text.strip().splitlines()[-1])
    result["peak_rss_mb"] = usage.ru_maxrss / 1024  # kilobytes on Linux
    return result


def _reset(resource: str) -> None:
    from django.db import connection

    from hub.catalog.models import DataResource
    from hub.records.models import Record, UploadBatch
    from hub.records.recordstore import RecordStore

    RecordStore(DataResource.objects.get(code=resource)).delete()
    UploadBatch.objects.filter(resource__code=resource).delete()
    # Earlier runs leave a million dead rows and bloated indexes behind; measure every
    # case on a vacuumed table with fresh statistics, as a steady-state server would be.
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {Record._meta.db_table}")
        cursor.execute(f"VACUUM ANALYZE {UploadBatch._meta.db_table}")


# --- the report ------------------------------------------------------------------------


def run(args: argparse.Namespace) -> str:
    """Generate the files, run every case and return the Markdown section."""
    from hub.demo import load_catalog

    load_catalog()
    rows = args.rows or (20_000 if args.quick else 1_000_000)
    xlsx_rows = max(1_000, rows // 10)
    # Generated in a child: Linux carries a parent's peak RSS over fork/exec into the
    # child's ru_maxrss, so a parent that built 1M-row frames would inflate every case.
    subprocess.run(
        [sys.executable, "-m", "bench.bench_ingest", "generate", str(rows), str(xlsx_rows)],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    files = generate(rows, xlsx_rows)
    cases = [
        ("CSV (UTF-8, clean, 9 columns)", "csv", "bridge-structural-health", "utf-8", 0, 1.5, None),
        ("Messy GBK CSV", "gbk", "gas-pipeline-pressure", "gb18030", 1, 1.7, None),
        ("XLSX", "xlsx", "bridge-structural-health", None, 0, None, 40_000),
    ]
    lines = [
        "## Ingest (connectors → record store)",
        "",
        f"Rows: {rows:,} per CSV, {xlsx_rows:,} in the XLSX. PostgreSQL at DATABASE_URL; "
        "every case in its own child process (peak RSS from `os.wait4`).",
        "",
        "| case | rows | floor (s) | hub (s) | ratio | rows/s | peak RSS (MB) | target | result |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    details = []
    for title, name, resource, encoding, skip, max_ratio, min_rate in cases:
        path = files[name]
        _reset(resource)
        keys = "传感器编号,监测时间" if name != "gbk" else "测点编号,采集时间"
        floor = (
            _spawn("floor", str(path), encoding, str(skip), keys) if encoding is not None else None
        )
        hub = _spawn("hub", str(path), resource)
        ratio = hub["seconds"] / floor["seconds"] if floor else None
        rate = hub["rows_read"] / hub["seconds"] if hub["seconds"] else 0
        if max_ratio:
            target = f"≤ {max_ratio}× floor, < 600 MB"
            ok = ratio is not None and ratio <= max_ratio
        else:
            target = f"≥ {min_rate:,} rows/s, < 600 MB"
            ok = rate >= min_rate
        ok = ok and hub["peak_rss_mb"] < 600 and hub["status"] == "loaded"
        lines.append(
            f"| {title} | {hub['rows_read']:,} | {floor['seconds']:.2f} | "
            if floor
            else f"| {title} | {hub['rows_read']:,} | – | "
        )
        lines[-1] += (
            f"{hub['seconds']:.2f} | {f'{ratio:.2f}×' if ratio else '–'} | {rate:,.0f} | "
            f"{hub['peak_rss_mb']:.0f} | {target} | {'met' if ok else 'MISSED'} |"
        )
        details.append(
            f"- {title}: status {hub['status']}, inserted {hub['inserted']:,}, "
            f"rejected {hub['rejected']:,}; phases {hub['timings']}"
            + (f"; floor peak RSS {floor['peak_rss_mb']:.0f} MB" if floor else "")
            + (f"; first errors {hub['errors']}" if hub["errors"] else "")
        )
        if name == "csv":
            same = _spawn("hub", str(path), resource)
            details.append(
                f"- Identical file again: {same['seconds']:.2f} s, no-op "
                f"(duplicate of batch #{same['duplicate_of']})."
            )
            unchanged = _spawn("hub", str(_variant(path, "again", change_one=False)), resource)
            target_ok = unchanged["seconds"] < 4 and unchanged["unchanged"] == rows
            details.append(
                f"- Re-upload, same rows under a new SHA-256: {unchanged['seconds']:.2f} s, "
                f"inserted {unchanged['inserted']}, updated {unchanged['updated']}, "
                f"unchanged {unchanged['unchanged']:,} (target < 4 s: "
                f"{'met' if target_ok else 'MISSED'}); phases {unchanged['timings']}; "
                f"peak RSS {unchanged['peak_rss_mb']:.0f} MB."
            )
            changed = _spawn("hub", str(_variant(path, "changed", change_one=True)), resource)
            one_updated = (changed["updated"], changed["inserted"]) == (1, 0) and changed[
                "unchanged"
            ] == rows - 1
            details.append(
                f"- Re-upload with one changed row: {changed['seconds']:.2f} s, "
                f"updated {changed['updated']}, inserted {changed['inserted']}, "
                f"unchanged {changed['unchanged']:,} (target 1 updated: "
                f"{'met' if one_updated else 'MISSED'})."
            )
            # The first file's rows shuffled: fingerprints are looked up out of order, and
            # the row changed just before is changed back.
            # (Written by the generating child: a 1M-row shuffle here would raise this
            # process's peak RSS, which Linux carries into the next children's figures.)
            shuffled = _spawn("hub", str(path.with_name(f"{path.stem}-shuffled.csv")), resource)
            details.append(
                f"- Re-upload of the first file's rows in another order: "
                f"{shuffled['seconds']:.2f} s, updated {shuffled['updated']}, inserted "
                f"{shuffled['inserted']}, unchanged {shuffled['unchanged']:,}; phases "
                f"{shuffled['timings']}; peak RSS {shuffled['peak_rss_mb']:.0f} MB."
            )
    command = (
        "DATABASE_URL=postgres://postgres@127.0.0.1:5432/hub_bench .venv/bin/python -m bench ingest"
    )
    if args.quick:
        command += " --quick"
    lines += ["", *details, "", f"Command: `{command}`"]
    return "\n".join(lines)


def _child_main(argv: list[str]) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hub_bench")
    kind, *rest = argv
    if kind == "generate":
        result = {name: str(path) for name, path in generate(int(rest[0]), int(rest[1])).items()}
    elif kind == "floor":
        result = child_floor(rest[0], rest[1], int(rest[2]), rest[3])
    else:
        result = child_hub(rest[0], rest[1])
    print(json.dumps(result, ensure_ascii=False, default=str))


if __name__ == "__main__":
    _child_main(sys.argv[1:])
