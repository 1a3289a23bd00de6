"""``manage.py ingest PATH --resource CODE``: load one file synchronously, print a summary.

``--propose`` loads nothing and prints the mapping assistant's proposal as JSON;
``--profile ID`` loads with that connector profile version.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from connectors.pipeline.corrections import CorrectionError, correction_target
from connectors.pipeline.load import TRANSIENT_ERRORS
from connectors.proposal.services import choose_profile
from connectors.selectors import batch_summary
from connectors.services import UploadTooLarge, create_batch, mark_failed, run_batch
from hub.catalog.models import DataResource, Department
from hub.records.models import BatchStatus, UploadBatch

# How long a load interrupted by a database outage waits for the database to record
# the batch as failed (so the same file can be uploaded again at once).
MARK_FAILED_WITHIN = 60.0


def mark_failed_when_reachable(batch_id: int, message: str) -> UploadBatch:
    """Record a failed batch once the database answers again, within MARK_FAILED_WITHIN."""
    deadline = time.monotonic() + MARK_FAILED_WITHIN
    pause = threading.Event()
    while True:
        connection.close()
        try:
            return mark_failed(batch_id=batch_id, message=message)
        except TRANSIENT_ERRORS as exc:
            if time.monotonic() >= deadline:
                raise CommandError(
                    f"batch #{batch_id}: {message}; the database is still unreachable "
                    f"({exc}), the sweeper will load the batch again later"
                ) from exc
        pause.wait(0.5)


def chosen_profile_or_error(resource: DataResource, profile_id: int):
    """The profile ``--profile`` names, which must be one of the resource's."""
    from connectors.models import ConnectorProfile

    profile = (
        ConnectorProfile.objects.select_related("department")
        .filter(pk=profile_id, resource=resource)
        .first()
    )
    if profile is None:
        raise CommandError(f"no profile {profile_id} for resource {resource.code}")
    return profile


class Command(BaseCommand):
    help = (
        "Load a CSV/XLSX/JSON file into a resource (all-or-nothing, or accepting valid "
        "rows) and print a summary. Exit 1: rejected or failed; 2: loaded in part."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--resource", required=True, help="resource code")
        parser.add_argument("--department", help="uploading department code (default provider)")
        parser.add_argument(
            "--sheet",
            default="",
            help="XLSX sheet name or 1-based number (default: first with a header)",
        )
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--accept-valid-rows",
            dest="accept_valid_rows",
            action="store_const",
            const=True,
            help="load the valid rows and keep the rejected ones as a correction batch",
        )
        mode.add_argument(
            "--all-or-nothing",
            dest="accept_valid_rows",
            action="store_const",
            const=False,
            help="load the whole file or nothing (default unless the resource accepts valid rows)",
        )
        parser.add_argument(
            "--propose",
            action="store_true",
            help="load nothing: print the mapping assistant's proposed profile as JSON",
        )
        parser.add_argument(
            "--profile",
            type=int,
            metavar="ID",
            help="load with this connector profile (id) instead of the current one",
        )
        parser.add_argument(
            "--corrects",
            metavar="BATCH",
            help="id of the correction batch this corrected file completes",
        )

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
        if options.get("propose"):
            self._propose(path, target, uploader, options["sheet"])
            return
        profile = None
        if options.get("profile") is not None:
            profile = chosen_profile_or_error(target, options["profile"])
            if not department:
                uploader = profile.department
            elif profile.department_id not in (uploader.pk, target.provider_id):
                raise CommandError(f"profile {profile.pk} is not {uploader.code}'s")
        try:
            corrects = correction_target(resource=target, batch_id=options.get("corrects"))
            upload = create_batch(
                resource=target,
                department=uploader,
                source="",
                file=path,
                original_filename=path.name,
                sheet=options["sheet"],
                accept_valid_rows=options.get("accept_valid_rows"),
                corrects=corrects,
            )
        except (UploadTooLarge, CorrectionError) as exc:
            raise CommandError(exc.message) from exc
        batch = upload.batch
        if profile is not None and not upload.is_duplicate:
            choose_profile(batch=batch, profile=profile)
        if not upload.is_duplicate:
            try:
                batch = run_batch(batch_id=batch.pk)
            except TRANSIENT_ERRORS as exc:
                # E.g. PostgreSQL restarted mid-load: the load was rolled back; say so
                # on the batch instead of leaving it in "parsing".
                batch = mark_failed_when_reachable(batch.pk, f"{type(exc).__name__}: {exc}")
        summary = batch_summary(
            batch, duplicate_of=upload.duplicate_of, duplicate_message=upload.message
        )
        if options["json"]:
            self.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2))
        else:
            self._print(summary)
        if batch.status in (BatchStatus.REJECTED, BatchStatus.FAILED):
            raise SystemExit(1)
        if batch.status == BatchStatus.PARTIAL:
            raise SystemExit(2)  # loaded in part: the rejected rows wait for a correction

    def _propose(self, path: Path, resource: DataResource, department, sheet: str) -> None:
        from connectors.base import InputError
        from connectors.proposal.engine import propose

        try:
            proposal = propose(
                path=path,
                filename=path.name,
                resource=resource,
                department=department,
                sheet=sheet or None,
            )
        except InputError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(json.dumps(proposal.as_dict(), ensure_ascii=False, indent=2))

    def _print(self, summary: dict) -> None:
        self.stdout.write(
            "batch #{batch} {status}: read {rows_read}, inserted {inserted}, updated {updated}, "
            "unchanged {unchanged}, rejected {rejected}".format(**summary)
        )
        if summary.get("message"):
            self.stdout.write(summary["message"])
        for warning in summary.get("warnings", []):
            column = f" [{warning['column']}]" if warning["column"] else ""
            self.stdout.write(f"  warning{column}: {warning['message']}")
        for correction in summary.get("corrections", []):
            self.stdout.write(
                f"  correction batch #{correction}: upload the corrected rows with "
                f"--corrects {correction}"
            )
        for error in summary["errors"][:50]:
            self.stdout.write(f"  row {error['row']} [{error['column']}]: {error['message']}")
