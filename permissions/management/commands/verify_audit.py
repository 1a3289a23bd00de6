"""``python manage.py verify_audit``: check the audit hash chain, name the first broken link,
and check the chain against its signed checkpoints (permissions/audit_anchor.py)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from permissions.audit import verify_chain
from permissions.audit_anchor import verify_checkpoints

# Truncating the table fails every checkpoint: name the first ones, count the rest.
SHOWN_PROBLEMS = 20


class Command(BaseCommand):
    help = (
        "Verify the audit log's hash chain and its signed checkpoints; exits non-zero at the "
        "first broken link or at any checkpoint the chain no longer matches."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoints",
            type=Path,
            help="Checkpoint file to verify against (default: HUB_AUDIT_CHECKPOINT_PATH), "
            "e.g. the copy kept on the log host",
        )

    def handle(self, *args, checkpoints: Path | None = None, **options):
        failures: list[str] = []
        report = verify_chain()
        if not report.ok:
            failures.append(
                f"audit chain broken at event #{report.broken_at}: {report.reason} "
                f"({report.checked} events verified before it)"
            )
        anchor = verify_checkpoints(path=checkpoints)
        if checkpoints is not None and not anchor.exists:
            raise CommandError(f"checkpoint file {checkpoints} does not exist")
        if anchor.problems:
            shown = anchor.problems[:SHOWN_PROBLEMS]
            more = len(anchor.problems) - len(shown)
            failures.append(
                f"audit checkpoints ({anchor.path}) do not match the chain:\n  "
                + "\n  ".join(shown)
                + (f"\n  … and {more} more" if more else "")
            )
        if failures:
            raise CommandError("\n".join(failures))
        self.stdout.write(f"audit chain intact: {report.checked} events\n")
        if anchor.exists:
            last = f", last #{anchor.last_sequence}" if anchor.checkpoints else ""
            self.stdout.write(
                f"audit checkpoints intact: {anchor.checkpoints} signed checkpoints{last} "
                f"({anchor.path})\n"
            )
        else:
            self.stderr.write(
                f"warning: no checkpoint file at {anchor.path}: truncation and rewind "
                "cannot be detected until audit_checkpoint has run\n"
            )
