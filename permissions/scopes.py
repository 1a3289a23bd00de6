"""Row and field scopes of access requests: GB/T 2260 district codes and field narrowing.

A request's ``districts`` are codes of the district code list (CodeList ``gb2260-*`` in
the catalog); names are shown to people, codes are stored, and anything else is refused
here, so an approved scope always matches records (``Record.district_code``).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from hub.catalog.models import CodeItem
from hub.catalog.restricted import VIEW

DISTRICT_CODE_LISTS = "gb2260"


def district_names(user) -> dict[str, str]:
    """{code: name} of the districts of the GB/T 2260 code list(s), in the list's order
    (reference data: every active user passes the code items' door)."""
    items = (
        CodeItem.objects.restrict(user, VIEW)
        .filter(code_list__code__startswith=DISTRICT_CODE_LISTS)
        .order_by("order", "code")
        .values_list("code", "name")
    )
    names: dict[str, str] = {}
    for code, name in items:
        names.setdefault(code, name)
    return names


def check_districts(codes: list[str], *, user, label: str = "districts") -> list[str]:
    """The codes, sorted and unique; ValidationError naming the unknown ones (e.g. names)."""
    if not all(isinstance(code, str) for code in codes):
        raise ValidationError({label: _("必须是字符串列表。")})
    unknown = sorted(set(codes) - set(district_names(user)))
    if unknown:
        raise ValidationError(
            {label: _("不是行政区划代码（GB/T 2260）：%(codes)s") % {"codes": ", ".join(unknown)}}
        )
    return sorted(set(codes))


def narrowed(asked: list[str], given: list[str] | None, label: str) -> list[str]:
    """The scope an approval grants: ``given`` when it is within ``asked``.

    ``None`` grants what was asked. An empty ``asked`` means "all", so any ``given`` is
    narrower; an empty ``given`` also means "all", which is wider than a non-empty
    ``asked`` and refused, as is any value that was not asked for.
    """
    if given is None:
        return list(asked)
    given = sorted(set(given))
    if not asked:
        return given
    if not given:
        raise ValidationError({label: _("部分批准至少保留一项。")})
    extra = sorted(set(given) - set(asked))
    if extra:
        raise ValidationError(
            {label: _("只能批准申请范围内的项：%(names)s") % {"names": ", ".join(extra)}}
        )
    return given
