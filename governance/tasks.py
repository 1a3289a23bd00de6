"""Periodic tasks of the governance app (thin: they call services)."""

from __future__ import annotations

from celery import shared_task

from governance import services


@shared_task(acks_late=True)
def escalate_overdue_objections() -> int:
    """Flag and escalate objections past their answer deadline, each once (idempotent)."""
    return services.escalate_overdue()
