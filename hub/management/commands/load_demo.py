"""``python manage.py load_demo``: load the demo city, idempotently."""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from hub.demo import print_logins

DEMO_APPS = ("hub", "connectors", "permissions", "operations", "risk")


class Command(BaseCommand):
    help = "Load the demo city (departments, districts, resources, users, sample data)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Run even when DEBUG is off (not for production)."
        )
        parser.add_argument(
            "--catalog-only", action="store_true", help="Load only the hub's catalog and users."
        )

    def handle(self, *args, force: bool, catalog_only: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError("load_demo creates demo users; pass --force to run with DEBUG off.")
        # Each app may have a ``demo`` module with ``load(stdout)``; they run in app order.
        for config in apps.get_app_configs():
            if config.name not in DEMO_APPS or (catalog_only and config.name != "hub"):
                continue
            module_name = f"{config.name}.demo"
            if find_spec(module_name) is None:
                continue
            import_module(module_name).load(self.stdout)
        print_logins(self.stdout)
