"""Field masking (脱敏) by masking rule and grade.

A field is masked when it has a masking rule, or when its grade is L3 or higher (重要/核心
data without a specific rule is hidden entirely). Callers receive clear values only for
fields their access allows in clear (provider, superuser, or a grant's ``clear_fields``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub.catalog.models import FieldSpec, Grade, MaskingRule

HIDDEN = "******"


def mask_phone(value: str) -> str:
    """13812345678 → 138****5678 (keeps the carrier prefix and last four digits)."""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_id_number(value: str) -> str:
    """310101199001011234 → 310101********1234 (keeps region code and last four)."""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_person_name(value: str) -> str:
    """张三丰 → 张** (keeps the family name's first character)."""
    if not value:
        return value
    return value[0] + "*" * (len(value) - 1)


def mask_address(value: str) -> str:
    """Keeps the first six characters (district, street), hides the rest."""
    if len(value) <= 6:
        return value[:2] + "*" * max(len(value) - 2, 0)
    return value[:6] + "****"


def mask_hide(value: str) -> str:
    """Hides the whole value."""
    return HIDDEN


MASKERS: dict[str, Callable[[str], str]] = {
    MaskingRule.PHONE: mask_phone,
    MaskingRule.ID_NUMBER: mask_id_number,
    MaskingRule.PERSON_NAME: mask_person_name,
    MaskingRule.ADDRESS: mask_address,
    MaskingRule.HIDE: mask_hide,
}


def masker_for(field: FieldSpec) -> Callable[[str], str] | None:
    """The masking function a field needs for callers without clear access, or None."""
    if field.masking in MASKERS:
        return MASKERS[field.masking]
    if field.grade >= Grade.L3:
        return mask_hide
    return None


def apply_mask(masker: Callable[[str], str], value: Any) -> Any:
    """Mask one value; None stays None, other types are masked as text."""
    if value is None:
        return None
    return masker(str(value))
