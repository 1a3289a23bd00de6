"""``python manage.py verify_audit``: check the audit hash chain, name the first broken link."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from permissions.audit import verify_chain


class Command(BaseCommand):
    help = "Verify the audit log's hash chain; exits non-zero at the first broken link."

    def handle(self, *args, **options):
        report = verify_chain()
        if not report.ok:
            raise CommandError(
                f"audit chain broken at event #{report.broken_at}: {report.reason} "
                f"({report.checked} events verified before it)"
            )
        self.stdout.write(f"audit chain intact: {report.checked} events\n")
