"""The MQTT bridge process (``manage.py mqtt_bridge``): broker messages → pushes.

One paho-mqtt client with a persistent session (``clean_session=False``, a fixed client
id) subscribes to ``hub/+/+`` at QoS 1, so what is published while the bridge is down
waits in the broker. Messages are taken in small batches (up to ``batch_size`` or
``linger`` seconds), accepted in one transaction by ``mqtt_service.accept_messages`` and
acknowledged (PUBACK, manual) only after that transaction committed: a bridge killed
before its commit gets the batch again, one killed after it gets replays, which the
messages' idempotency keys turn into no-ops.

Several bridges may run with the same settings: one serves the session, the others stand
by and the first to find it free takes it over (``streaming.leadership``), so a killed
bridge leaves the broker unread for a poll interval instead of a process start.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass

import paho.mqtt.client as paho
from django.db import InterfaceError, OperationalError, connections

from streaming.leadership import Leadership
from streaming.mqtt import TOPIC_ROOT
from streaming.mqtt_service import accept_messages

logger = logging.getLogger(__name__)

# How often a serving bridge makes sure it still holds the session's lock (and at once
# when the broker drops its connection: a standby may have taken the session over).
CHECK_LEADERSHIP_EVERY = 1.0
STALE_LEADERSHIP = 3 * CHECK_LEADERSHIP_EVERY


@dataclass(frozen=True)
class BrokerSettings:
    host: str = "127.0.0.1"
    port: int = 1883
    client_id: str = "hub-bridge"
    username: str = ""
    password: str = ""
    tls_ca: str = ""
    keepalive: int = 30
    root: str = TOPIC_ROOT


class Bridge:
    """Subscribe, accept in batches, acknowledge after commit; ``stop()`` to end."""

    def __init__(
        self,
        broker: BrokerSettings,
        *,
        batch_size: int = 200,
        linger: float = 0.05,
        leadership: Leadership | None = None,
    ):
        self.broker, self.batch_size, self.linger = broker, batch_size, linger
        self.leadership = leadership or Leadership(broker.client_id)
        self.inbox: queue.Queue[paho.MQTTMessage] = queue.Queue()
        self.stopping = threading.Event()
        self.connection_lost = threading.Event()
        self.serving = threading.Event()
        # When this process last saw that it holds the session's lock (monotonic).
        self.confirmed_at = 0.0
        self.refused = threading.Event()
        self.counts: Counter[str] = Counter()
        client = paho.Client(
            paho.CallbackAPIVersion.VERSION2,
            client_id=broker.client_id,
            clean_session=False,
            protocol=paho.MQTTv311,
            manual_ack=True,
        )
        if broker.username:
            client.username_pw_set(broker.username, broker.password or None)
        if broker.tls_ca:
            client.tls_set(ca_certs=broker.tls_ca)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        self.client = client

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        # paho reconnects on its own thread; a bridge whose lock check is overdue (its
        # database is unreachable: a standby may serve by now) must not take the session.
        if time.monotonic() - self.confirmed_at > STALE_LEADERSHIP:
            logger.warning("mqtt bridge: lock not confirmed lately: not taking the session")
            self.refused.set()  # the main loop checks the lock and connects afresh
            client.disconnect()
            return
        if reason_code.is_failure:
            logger.error("mqtt broker refused the bridge: %s", reason_code)
            return
        client.subscribe(f"{self.broker.root}/+/+", qos=1)
        logger.info(
            "mqtt bridge connected to %s:%s (session present: %s)",
            self.broker.host,
            self.broker.port,
            flags.session_present,
        )

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        # From here on the broker queues this session's messages while it is away.
        granted = [code.value for code in reason_codes]
        if any(code >= 0x80 for code in granted):
            logger.error("mqtt bridge: subscription to %s/+/+ refused", self.broker.root)
        else:
            logger.info("mqtt bridge subscribed to %s/+/+ (QoS %s)", self.broker.root, granted)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connection_lost.set()
        if self.serving.is_set() and not self.stopping.is_set():
            logger.warning("mqtt bridge disconnected (%s): reconnecting", reason_code)

    def _on_message(self, client, userdata, message: paho.MQTTMessage) -> None:
        self.inbox.put(message)

    def run(self) -> None:
        """Serve the session whenever this process holds its lock, until ``stop()``."""
        try:
            while self.leadership.wait(self.stopping):
                logger.info(
                    "mqtt bridge: serving the session %s (process %s)",
                    self.broker.client_id,
                    os.getpid(),
                )
                self._serve()
        finally:
            self.leadership.release()

    def _serve(self) -> None:
        # connect_async + loop_start: the network thread retries the first connection
        # too, so a broker that is down at start-up delays the bridge, never ends it.
        self.connection_lost.clear()
        self.serving.set()
        self.confirmed_at = time.monotonic()  # the lock was just taken
        self.refused.clear()
        self.client.connect_async(self.broker.host, self.broker.port, self.broker.keepalive)
        self.client.loop_start()
        reported = checked = time.monotonic()
        try:
            while not self.stopping.is_set():
                batch = self._take()
                if batch and not self.handle(batch):
                    break
                if (
                    self.connection_lost.is_set()
                    or time.monotonic() - checked > CHECK_LEADERSHIP_EVERY
                ):
                    self.connection_lost.clear()
                    checked = time.monotonic()
                    if not self.leadership.held():
                        logger.warning("mqtt bridge: the session's lock is lost: standing by")
                        break
                    self.confirmed_at = time.monotonic()
                if self.refused.is_set():
                    break  # serve again: the lock is taken again (it is still ours) first
                if time.monotonic() - reported > 60 and self.counts:
                    logger.info("mqtt bridge: %s", dict(self.counts))
                    reported = time.monotonic()
        finally:
            self.serving.clear()
            self.client.disconnect()
            self.client.loop_stop()
            # Unacknowledged messages of this connection: the broker delivers them again
            # to whoever serves the session next (their ids were this connection's).
            while not self.inbox.empty():
                self.inbox.get_nowait()

    def stop(self) -> None:
        self.stopping.set()

    def _take(self) -> list[paho.MQTTMessage]:
        try:
            batch = [self.inbox.get(timeout=0.5)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + self.linger
        while len(batch) < self.batch_size:
            remaining = deadline - time.monotonic()
            try:
                batch.append(self.inbox.get(timeout=remaining) if remaining > 0 else
                             self.inbox.get_nowait())  # fmt: skip
            except queue.Empty:
                break
        return batch

    def handle(self, batch: list[paho.MQTTMessage]) -> bool:
        """Accept the batch (retrying while the database is away), then acknowledge it.
        False when told to stop, or the session's lock is lost, first: nothing
        acknowledged, the broker keeps it."""
        delay = 1.0
        while True:
            try:
                outcomes = accept_messages(messages=[(m.topic, m.payload) for m in batch])
                break
            except (OperationalError, InterfaceError):
                logger.warning("database unavailable: batch of %d kept unacknowledged", len(batch))
                connections.close_all()  # reconnect on the next attempt
                if self.stopping.wait(delay) or not self.leadership.held():
                    return False
                delay = min(30.0, delay * 2)
        for message in batch:
            self.client.ack(message.mid, message.qos)
        self.counts.update(outcome.status for outcome in outcomes)
        return True
