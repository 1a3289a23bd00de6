"""Profile rules applied to a column's raw cells before it is normalised (接入配置规则).

* **value maps** (``value_aliases``) for fields of any type: a cell whose folded text is
  a mapped spelling is replaced by the mapped value (``开机`` → ``是``, ``微量`` → ``0``);
  code and enum fields keep taking them as extra spellings of their codes
  (``connectors.normalisers.schema``);
* **district naming**: district numbers (``01``, ``15``) or statistical division codes
  (``310115000000``) rewritten to GB/T 2260 codes before the district matcher;
* **lookups**: a cell is looked up in a code list (names and aliases → code) or in
  another resource's records (``bridge_name`` → ``bridge_id``); a miss is a row error
  naming the value and where it was looked for.

Cells are compared folded (full width to ASCII, whitespace removed, case folded) and
looked up once per distinct text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.db.models.fields.json import KT
from django.utils.translation import gettext as _

from connectors.base import InputError, RowError
from connectors.normalisers.text import clean, halfwidth

_SPACES = re.compile(r"\s+")
_NUMBER = re.compile(r"^(\d{1,2})(?:\.0+)?$")
# A statistical division code of a Shanghai district (3101xx) or of a county before it
# became one (3102xx: 崇明县 310230 until 2016, in the code list as an alias).
_STATS = re.compile(r"^(310[12]\d{2})(?:\d{3}|\d{6})(?:\.0+)?$")


def fold(text: object) -> str:
    """The comparable form of a cell or a spelling."""
    return _SPACES.sub("", halfwidth(str(text))).casefold()


@dataclass
class Lookup:
    """Folded spelling → value; spellings naming several values are ambiguous."""

    table: dict[str, str]
    ambiguous: dict[str, list[str]]
    source: str  # where the values were looked for, for messages

    @classmethod
    def build(cls, pairs: Iterable[tuple[object, object]], *, source: str) -> Lookup:
        """From (spelling, value) pairs; empty spellings or values are skipped."""
        found: dict[str, set[str]] = {}
        for spelling, value in pairs:
            if spelling is None or value is None:
                continue
            key, text = fold(spelling), str(value).strip()
            if key and text:
                found.setdefault(key, set()).add(text)
        table = {key: next(iter(values)) for key, values in found.items() if len(values) == 1}
        ambiguous = {key: sorted(values) for key, values in found.items() if len(values) > 1}
        return cls(table=table, ambiguous=ambiguous, source=source)


@dataclass
class FieldRules:
    """The rules of one field; empty rules change nothing."""

    value_map: dict[str, str] = field(default_factory=dict)  # folded spelling → value
    district_naming: str = ""
    lookup: Lookup | None = None

    def __bool__(self) -> bool:
        return bool(self.value_map or self.district_naming or self.lookup)


def map_values(series: pd.Series, mapping: dict[str, str]) -> pd.Series:
    """Cells whose folded text is a key of ``mapping`` (folded keys) replaced by its value."""
    if not mapping:
        return series
    text = series.astype(object).where(series.notna(), "").astype(str)
    positions, uniques = pd.factorize(text)
    replaced = np.array([mapping.get(fold(u), u) for u in uniques] + [""], dtype=object)
    return pd.Series(replaced[positions], index=series.index, dtype=object)


def name_districts(series: pd.Series, naming: str) -> pd.Series:
    """District numbers or statistical division codes rewritten to GB/T 2260 codes."""
    if naming not in ("number", "stats"):
        return series
    text = series.astype(object).where(series.notna(), "").astype(str)

    def rewrite(cell: str) -> str:
        bare = halfwidth(cell).strip()
        if naming == "number":
            found = _NUMBER.match(bare)
            return f"3101{int(found.group(1)):02d}" if found else cell
        found = _STATS.match(bare)
        return found.group(1) if found else cell

    positions, uniques = pd.factorize(text)
    replaced = np.array([rewrite(u) for u in uniques] + [""], dtype=object)
    return pd.Series(replaced[positions], index=series.index, dtype=object)


def look_up(
    series: pd.Series, lookup: Lookup, *, column: str, name: str, rows
) -> tuple[pd.Series, np.ndarray, list[RowError]]:
    """(values, failed mask, errors): found cells replaced by their value, missing cells
    left empty, the others empty and failed with an error naming the value."""
    text, missing = clean(series)
    positions, uniques = pd.factorize(text)
    values: list[object] = []
    problems: list[str | None] = []
    for unique in uniques:
        key = fold(unique)
        if key in lookup.table:
            values.append(lookup.table[key])
            problems.append(None)
        elif key in lookup.ambiguous:
            values.append("")
            problems.append(
                _("'%(value)s' 在%(source)s中对应多个值（%(values)s），无法确定")
                % {
                    "value": unique,
                    "source": lookup.source,
                    "values": "、".join(lookup.ambiguous[key][:5]),
                }
            )
        else:
            values.append("")
            problems.append(
                _("查找不到：'%(value)s' 不在%(source)s中")
                % {"value": unique, "source": lookup.source}
            )
    table = np.array([*values, ""], dtype=object)
    result = pd.Series(table[positions], index=series.index, dtype=object)
    is_missing = missing.to_numpy(dtype=bool)
    result[is_missing] = ""
    # Positions of rows whose distinct text failed (factorize codes are -1 for none).
    has_problem = np.array([p is not None for p in problems] + [False], dtype=bool)
    failed = has_problem[positions] & ~is_missing
    errors: list[RowError] = []
    original = series.astype(object).where(series.notna(), "").astype(str).str.strip()
    for index in np.flatnonzero(failed):
        code = positions[index]
        message = problems[code].replace(f"'{uniques[code]}'", f"'{original.iat[index]}'", 1)
        errors.append(RowError(int(rows[index]), column, message, name))
    return result, failed, errors


def apply(
    rules: FieldRules, series: pd.Series, *, column: str, name: str, rows
) -> tuple[pd.Series, np.ndarray, list[RowError]]:
    """A field's raw column after its rules: (cells, lookup-failed mask, errors)."""
    failed = np.zeros(len(series), dtype=bool)
    errors: list[RowError] = []
    series = map_values(series, rules.value_map)
    series = name_districts(series, rules.district_naming)
    if rules.lookup is not None:
        series, failed, errors = look_up(series, rules.lookup, column=column, name=name, rows=rows)
    return series, failed, errors


def compile_rules(resource, connector, specs) -> dict[str, FieldRules]:
    """The rules of every field of ``resource`` under ``connector``; lookups are read
    from the database now (once per file)."""
    rules: dict[str, FieldRules] = {}
    for spec in specs:
        mapping = connector.value_aliases.get(spec.name, {})
        coded = bool(spec.code_list_id or spec.enum)
        district = bool(spec.code_list_id) and spec.code_list.code.startswith("gb2260")
        source = connector.lookups.get(spec.name)
        found = FieldRules(
            # Code fields take their value aliases as spellings of codes (schema.py).
            value_map={} if coded else {fold(k): str(v) for k, v in mapping.items()},
            district_naming=connector.district_naming if district else "",
            lookup=_resolve(source, name=spec.name, connector=connector) if source else None,
        )
        if found:
            rules[spec.name] = found
    return rules


def _resolve(source: dict, *, name: str, connector) -> Lookup:
    """Read a lookup's pairs from its code list or its resource's records."""
    from hub.catalog.models import CodeList, DataResource

    if source.get("code_list"):
        code_list = CodeList.objects.filter(code=source["code_list"]).order_by("-version").first()
        if code_list is None:
            raise InputError(
                _("接入配置的查找（%(field)s）引用的代码表“%(code)s”不存在。")
                % {"field": name, "code": source["code_list"]}
            )
        pairs: list[tuple[object, object]] = []
        for code, item_name, aliases in code_list.items.values_list("code", "name", "aliases"):
            pairs += [(code, code), (item_name, code), *((alias, code) for alias in aliases or [])]
        return Lookup.build(pairs, source=_("代码表“%(name)s”") % {"name": code_list.name})
    resource = DataResource.objects.filter(code=source.get("resource", "")).first()
    if resource is None:
        raise InputError(
            _("接入配置的查找（%(field)s）引用的资源“%(code)s”不存在。")
            % {"field": name, "code": source.get("resource", "")}
        )
    match, value = source["match"], source["value"]
    records = _readable_records(resource, connector.profile_author_id, (match, value), name)
    # Only the two fields leave the database, as text (KT: ->> on PostgreSQL).
    pairs = (
        records.annotate(_match=KT(f"data__{match}"), _value=KT(f"data__{value}"))
        .values_list("_match", "_value")
        .iterator(chunk_size=5000)
    )
    labels = dict(resource.fields.values_list("name", "label"))
    where = _("“%(resource)s”的“%(field)s”") % {
        "resource": resource.name,
        "field": labels.get(match, match),
    }
    return Lookup.build(pairs, source=where)


def _readable_records(resource, author_id: int | None, names: tuple[str, ...], field: str):
    """The records the profile's author reads, their two lookup fields in clear.

    A profile saved by no user (seeded, or by a command an operator ran) reads them all.
    """
    from django.contrib.auth import get_user_model

    from hub.records.models import Record

    if author_id is None:
        return Record.objects.filter(resource=resource)
    user = get_user_model().objects.filter(pk=author_id, is_active=True).first()
    problem = lookup_access_problem(user, resource, names)
    if problem:
        raise InputError(
            _("接入配置的查找（%(field)s）无法使用：%(problem)s")
            % {"field": field, "problem": problem}
        )
    from permissions.selectors import VIEW_RECORDS

    return Record.objects.restrict(user, VIEW_RECORDS, resource=resource)


def lookup_access_problem(user, resource, names: Iterable[str]) -> str:
    """Why ``user`` may not look values up in ``resource``'s fields ``names`` ("" if they
    may): both fields must be among the records they read, and in clear (a masked field
    would become an oracle of its clear values)."""
    from permissions.record_access import record_access

    access = record_access(user, resource) if user is not None else None
    if access is None:
        return _("无权读取资源“%(name)s”的记录。") % {"name": resource.name}
    visible = set(access.field_names)
    hidden = [n for n in names if n not in visible or n in access.maskers]
    if hidden:
        return _("资源“%(name)s”的字段 %(fields)s 对您不可见或已脱敏。") % {
            "name": resource.name,
            "fields": "、".join(hidden),
        }
    return ""
