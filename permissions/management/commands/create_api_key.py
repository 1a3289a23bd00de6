"""``python manage.py create_api_key --department CODE --name NAME [--scope read --scope push]``:
print a new key once."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from hub.catalog.models import Department
from permissions.api_key_services import create_api_key
from permissions.models import ApiKeyScope


class Command(BaseCommand):
    help = "Create a partner API key bound to a department's service user; prints it once."

    def add_arguments(self, parser):
        parser.add_argument("--department", required=True, help="Department code")
        parser.add_argument("--name", required=True, help="Name of the partner system")
        parser.add_argument("--days", type=int, default=365, help="Days until expiry (0: never)")
        parser.add_argument(
            "--scope",
            action="append",
            choices=ApiKeyScope.values,
            dest="scopes",
            help="read (GET requests) and/or push (uploads and record pushes to the "
            "department's own resources); repeat for both. Default: read",
        )

    def handle(self, *args, department: str, name: str, days: int, scopes, **options):
        found = Department.objects.filter(code=department).first()
        if found is None:
            raise CommandError(f"unknown department {department!r}")
        expires = timezone.now() + dt.timedelta(days=days) if days else None
        try:
            api_key, key = create_api_key(
                department=found,
                name=name,
                expires_at=expires,
                scopes=scopes or [ApiKeyScope.READ],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"prefix: {api_key.prefix}\n")
        self.stdout.write(f"scopes: {' '.join(api_key.scopes)}\n")
        self.stdout.write(f"key (shown once, store it now): {key}\n")
