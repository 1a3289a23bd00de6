"""Receivers of signals from the layers below."""

from __future__ import annotations

from governance.models import Objection


def forget_deleted_records(sender, *, records, **kwargs) -> None:
    """``records_deleting``: objections keep the record's key (``record_key``) and lose the
    link to the record about to be deleted, in one UPDATE."""
    Objection.objects.filter(record_id__in=records.values("pk")).update(record=None)
