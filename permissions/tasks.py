"""Periodic tasks of the sharing workflow (thin: they call services)."""

from __future__ import annotations

from celery import shared_task

from permissions import services


@shared_task(acks_late=True)
def revoke_expired_grants() -> int:
    """Revoke grants past their expiry (idempotent)."""
    return services.revoke_expired_grants()


@shared_task(acks_late=True)
def flag_overdue_requests() -> int:
    """Flag and escalate access requests past their answer deadline (idempotent)."""
    return services.flag_overdue_requests()
