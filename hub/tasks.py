"""Thin Celery entry points of the hub."""

from __future__ import annotations

import os
import socket

from celery import shared_task

from hub.catalog.models import DataResource


@shared_task(name="hub.tasks.healthcheck")
def healthcheck() -> dict:
    """Prove a worker is alive and reads the same database: who ran, and what it saw."""
    return {
        "pid": os.getpid(),
        "hostname": socket.gethostname(),
        "resources": DataResource.objects.count(),
    }
