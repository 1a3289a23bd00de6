"""``python manage.py mqtt_bridge``: feed MQTT messages into the push path (Procfile ``mqtt``).

The broker and the bridge's credentials come from settings (HUB_MQTT_*, from the
environment), never from the command line, where other users could read a password.
"""

from __future__ import annotations

import gc
import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from streaming.bridge import Bridge, BrokerSettings
from streaming.bridge_processes import Supervisor
from streaming.mqtt_service import warm_up


class Command(BaseCommand):
    help = (
        "Subscribe to hub/{department}/{resource} (QoS 1, persistent session) and accept "
        "signed messages as pushes; acknowledge each after it is stored. See docs/INGEST.md."
    )
    # Started again by its supervisor after a crash: no seconds spent on system checks
    # (``manage.py check --deploy`` belongs to the deploy).
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=200, help="messages per transaction")
        parser.add_argument(
            "--linger", type=float, default=0.05, help="seconds to wait to fill a batch"
        )
        parser.add_argument(
            "--processes",
            type=int,
            default=1,
            help="bridges forked from this process and kept running: one serves the "
            "session, the others stand by and take it over when it dies (default 1)",
        )

    def handle(self, *args, **options):
        broker = BrokerSettings(
            host=settings.HUB_MQTT_HOST,
            port=settings.HUB_MQTT_PORT,
            client_id=settings.HUB_MQTT_CLIENT_ID,
            username=settings.HUB_MQTT_USERNAME,
            password=settings.HUB_MQTT_PASSWORD,
            tls_ca=settings.HUB_MQTT_TLS_CA,
        )
        if options["processes"] < 1:
            raise CommandError("--processes must be at least 1")

        def make() -> Bridge:
            return Bridge(broker, batch_size=options["batch"], linger=options["linger"])

        self.stdout.write(f"mqtt bridge: {broker.host}:{broker.port} as {broker.client_id}\n")
        self.stdout.flush()
        # What the first batch would load, loaded now; then the start-up's objects are
        # left out of later garbage collections: the first full one, which walks them
        # all, otherwise fell on a standby's first batch right after a takeover.
        warm_up()
        gc.collect()
        gc.freeze()
        if options["processes"] > 1:
            Supervisor(make, processes=options["processes"]).run()
            return
        bridge = make()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: bridge.stop())
        bridge.run()
