"""``manage.py ingest PATH --resource CODE``: load one file synchronously, print a summary."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from connectors.selectors import batch_summary
from connectors.services import UploadTooLarge, create_batch, run_batch
from hub.models import BatchStatus, DataResource, Department


class Command(BaseCommand):
    help = "Load a CSV/XLSX/JSON file into a resource (all-or-nothing) and print a summary."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--resource", required=True, help="resource code")
        parser.add_argument("--department", help="uploading department code (default provider)")
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")

    def handle(self, *args, path: Path, resource: str, department: str | None, **options):
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        target = DataResource.objects.select_related("provider").filter(code=resource).first()
        if target is None:
            raise CommandError(f"unknown resource: {resource}")
        uploader = target.provider
        if department:
            uploader = Department.objects.filter(code=department).first()
            if uploader is None:
                raise CommandError(f"unknown department: {department}")
        try:
            batch = create_batch(
                resource=target,
                department=uploader,
                source="",
                file=path,
                original_filename=path.name,
            )
        except UploadTooLarge as exc:
            raise CommandError(exc.message) from exc
        duplicate_of = getattr(batch, "duplicate_of", None)
        if not duplicate_of:
            batch = run_batch(batch_id=batch.pk)
            batch.duplicate_of = None
        summary = batch_summary(batch)
        if options["json"]:
            self.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2))
        else:
            self._print(summary)
        if batch.status in (BatchStatus.REJECTED, BatchStatus.FAILED):
            raise SystemExit(1)

    def _print(self, summary: dict) -> None:
        self.stdout.write(
            "batch #{batch} {status}: read {rows_read}, inserted {inserted}, updated {updated}, "
            "unchanged {unchanged}, rejected {rejected}".format(**summary)
        )
        if summary.get("message"):
            self.stdout.write(summary["message"])
        for error in summary["errors"][:50]:
            self.stdout.write(f"  row {error['row']} [{error['column']}]: {error['message']}")
