"""Periodic tasks of the governance app (thin: they call services)."""

from __future__ import annotations

from celery import shared_task

from governance import services
from governance.needs import services as needs


@shared_task(acks_late=True)
def escalate_overdue_objections() -> int:
    """Flag and escalate objections past their answer deadline, each once (idempotent)."""
    return services.escalate_overdue()


@shared_task(acks_late=True)
def flag_overdue_needs() -> int:
    """Flag data needs past their answer deadline or commitment date, each once."""
    return needs.flag_overdue()
