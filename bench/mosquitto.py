"""A private Mosquitto broker for the MQTT benchmark and the real-stack tests.

It runs on a free port with the production shape of docs/DEPLOY.md: no anonymous
access, a password file (``mosquitto_passwd``), an ACL giving each department's platform
write access to ``hub/<department>/#`` only and the bridge read access to ``hub/#``,
persistence (queued QoS 1 messages survive a broker restart), and queue limits sized
for a bridge that is down for a while.
"""

from __future__ import annotations

import getpass
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

BRIDGE_USER = "hub-bridge"


def binary() -> str | None:
    return shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def platform_user(department: str) -> str:
    return f"{department}-platform"


class Mosquitto:
    """``start()``, ``stop()`` (SIGTERM: the broker saves its queues), ``kill()``."""

    def __init__(self, workdir: Path, departments: list[str], *, port: int | None = None):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.passwords = {BRIDGE_USER: "bridge-pw-" + str(self.port)}
        for department in departments:
            self.passwords[platform_user(department)] = f"{department}-pw-{self.port}"
        self._configure(departments)

    def _configure(self, departments: list[str]) -> None:
        passwd = self.workdir / "passwd"
        passwd.write_text("")
        for user, password in self.passwords.items():
            subprocess.run(
                ["mosquitto_passwd", "-b", str(passwd), user, password],
                check=True,
                capture_output=True,
            )
        acl = [f"user {BRIDGE_USER}", "topic read hub/#", ""]
        for department in departments:
            acl += [f"user {platform_user(department)}", f"topic write hub/{department}/#", ""]
        (self.workdir / "acl").write_text("\n".join(acl))
        (self.workdir / "mosquitto.conf").write_text(
            "\n".join(
                [
                    "per_listener_settings false",
                    f"listener {self.port} 127.0.0.1",
                    "allow_anonymous false",
                    f"password_file {passwd}",
                    f"acl_file {self.workdir / 'acl'}",
                    "persistence true",
                    f"persistence_location {self.workdir}/",
                    "autosave_interval 60",
                    "max_inflight_messages 1000",
                    "max_queued_messages 1000000",
                    "max_packet_size 1100000",
                    # Run as whoever starts it (as root it would switch to "mosquitto",
                    # which cannot write this private folder).
                    f"user {getpass.getuser()}",
                    f"log_dest file {self.workdir / 'mosquitto.log'}",
                    "log_type error",
                    "log_type warning",
                    "log_type notice",
                    "",
                ]
            )
        )

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def _wait(self, predicate, seconds: float, what: str) -> None:
        deadline, tick = time.monotonic() + seconds, threading.Event()
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(f"mosquitto on {self.port}: timed out waiting for {what}")
            tick.wait(0.05)

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [binary() or "mosquitto", "-c", str(self.workdir / "mosquitto.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._wait(self._answers, 20, "the broker to listen")

    def stop(self) -> None:
        """A clean shutdown: the broker writes its persistent sessions and queues."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)
        self.proc = None
        self._wait(lambda: not self._answers(), 10, "the broker to go away")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def bridge_env(self) -> dict[str, str]:
        """The environment of a bridge process on this broker."""
        return {
            "HUB_MQTT_HOST": "127.0.0.1",
            "HUB_MQTT_PORT": str(self.port),
            "HUB_MQTT_USERNAME": BRIDGE_USER,
            "HUB_MQTT_PASSWORD": self.passwords[BRIDGE_USER],
            "HUB_MQTT_CLIENT_ID": f"hub-bridge-{self.port}",
        }
