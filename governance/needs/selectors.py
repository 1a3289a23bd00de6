"""Reads of data needs: the caller's list (filed, routed to them, or all for the
authority) and one need, through the need's door."""

from __future__ import annotations

from django.db.models import QuerySet

from governance.needs.models import DataNeed
from hub.catalog.restricted import VIEW
from permissions.selectors import UserLike


def need_list(*, user: UserLike) -> QuerySet[DataNeed]:
    """The needs the user may see, newest first."""
    return (
        DataNeed.objects.restrict(user, VIEW)
        .select_related("department", "provider", "resource", "access_request", "filed_by")
        .order_by("-created_at", "-id")
    )


def need_get(*, user: UserLike, pk: int) -> DataNeed:
    """One need, or ``DataNeed.DoesNotExist`` when the user may not see it."""
    return need_list(user=user).get(pk=pk)


def may(*, user: UserLike, need: DataNeed, action: str) -> bool:
    """Whether the user may ``action`` (route, answer, close) this need."""
    return DataNeed.objects.filter(pk=need.pk).restrict(user, action).exists()
