"""Periodic tasks of the sharing workflow (thin: they call services)."""

from __future__ import annotations

from celery import shared_task

from permissions import audit_anchor, services


@shared_task(acks_late=True)
def revoke_expired_grants() -> int:
    """Revoke grants past their expiry (idempotent)."""
    return services.revoke_expired_grants()


@shared_task(acks_late=True)
def flag_overdue_requests() -> int:
    """Flag and escalate access requests past their answer deadline (idempotent)."""
    return services.flag_overdue_requests()


@shared_task(acks_late=True)
def write_audit_checkpoint() -> dict[str, object]:
    """Anchor the audit chain head outside the database when it moved (idempotent)."""
    result = audit_anchor.write_checkpoint()
    return {"status": result.status, "sequence": result.sequence}
