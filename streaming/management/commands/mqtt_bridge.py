"""``python manage.py mqtt_bridge``: feed MQTT messages into the push path (Procfile ``mqtt``).

The broker and the bridge's credentials come from settings (HUB_MQTT_*, from the
environment), never from the command line, where other users could read a password.
"""

from __future__ import annotations

import signal

from django.conf import settings
from django.core.management.base import BaseCommand

from streaming.bridge import Bridge, BrokerSettings


class Command(BaseCommand):
    help = (
        "Subscribe to hub/{department}/{resource} (QoS 1, persistent session) and accept "
        "signed messages as pushes; acknowledge each after it is stored. See docs/INGEST.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=200, help="messages per transaction")
        parser.add_argument(
            "--linger", type=float, default=0.05, help="seconds to wait to fill a batch"
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
        bridge = Bridge(broker, batch_size=options["batch"], linger=options["linger"])
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: bridge.stop())
        self.stdout.write(f"mqtt bridge: {broker.host}:{broker.port} as {broker.client_id}\n")
        self.stdout.flush()
        bridge.run()
