"""``python manage.py audit_checkpoint``: anchor the audit chain head outside the database."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from permissions.audit_anchor import write_checkpoint


class Command(BaseCommand):
    help = (
        "Append a signed checkpoint of the audit chain head to the checkpoint file when the "
        "head moved; exits non-zero when the head is behind or does not match the last one."
    )

    def handle(self, *args, **options):
        result = write_checkpoint()
        if result.refused:
            raise CommandError(
                f"audit chain head #{result.sequence} not anchored ({result.status}); "
                "run verify_audit"
            )
        if result.written:
            self.stdout.write(f"checkpoint #{result.sequence} written to {result.path}\n")
        elif result.status == "unchanged":
            self.stdout.write(f"head #{result.sequence} already anchored in {result.path}\n")
        else:
            self.stdout.write("audit chain is empty: nothing to anchor\n")
