"""Run the benchmarks: ``python -m bench [name ...]``.

Every module ``bench/bench_<name>.py`` exposes ``run(args: argparse.Namespace) -> str``,
which measures its floor in the same run and returns a Markdown section of the report.
Benchmarks need PostgreSQL (DATABASE_URL); the report goes to stdout and bench/out/.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent


# Run only when named (``make bench BENCH_ARGS=scale``): it builds tens of millions of rows.
ON_REQUEST = {"scale"}


def available() -> list[str]:
    return sorted(
        m.name.removeprefix("bench_")
        for m in pkgutil.iter_modules([str(HERE)])
        if m.name.startswith("bench_")
    )


def ensure_database(url: str) -> None:
    """Create the benchmark's PostgreSQL database when it does not exist yet."""
    import dj_database_url
    import psycopg
    from psycopg import sql

    config = dj_database_url.parse(url)
    if not config["ENGINE"].endswith("postgresql"):
        raise SystemExit("benchmarks need PostgreSQL: set DATABASE_URL=postgres://…")
    params = {
        "host": config.get("HOST") or "127.0.0.1",
        "port": config.get("PORT") or 5432,
        "user": config.get("USER") or "postgres",
        "password": config.get("PASSWORD") or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**params) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default all): {available()}")
    parser.add_argument("--rows", type=int, default=None, help="override the row count")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hub_bench")
    sys.path.insert(0, str(HERE.parent))
    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from bench.isolation import purge_broker

    names = args.names or [name for name in available() if name not in ON_REQUEST]
    sections = []
    failed = []
    for name in names:
        module = importlib.import_module(f"bench.bench_{name}")
        # Each benchmark starts on an empty broker: tasks another one enqueued (a loaded
        # batch's sync) must not run inside its measurement (bench/isolation.py).
        dropped = purge_broker()
        if dropped:
            print(f"[bench] {name}: dropped {dropped} queued task(s)", file=sys.stderr)
        started = time.perf_counter()
        try:
            sections.append(module.run(args))
        except Exception as exc:  # one failure must not lose the report
            failed.append(name)
            sections.append(f"## {name}: FAILED\n\n`{type(exc).__name__}: {exc}`")
            traceback.print_exc()
        print(f"[bench] {name} done in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    purge_broker()
    report = "\n\n".join(sections)
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    (out / "report.md").write_text(report + "\n", encoding="utf-8")
    print(report)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
