"""Messages the hub stored as text, shown in the viewer's language.

Batch messages (``UploadBatch.message``) and row errors (``UploadBatch.errors[].message``)
are written as the Chinese msgid with its parameters filled in (``_("已入库：新增 %(i)d，…")
% {...}``, rendered in the source language by the worker). The msgid is the message's
code: :func:`localized` finds the template the text was made from in the translation
catalog, takes the parameters back out of it and renders the same message in the active
language. Text that matches no template (an exception's text, a composed message) is
returned as stored. Loads write in the source language (``connectors.pipeline.load.run_batch``
pins it); text written in English by older eager loads is recognised the same way.

Parameters are data (a column label, a value from the file) and are kept as they are.
"""

from __future__ import annotations

import re
from functools import lru_cache

from django.utils import translation
from django.utils.translation import gettext, trans_real

CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef]")
PLACEHOLDER = re.compile(r"%\((?P<name>\w+)\)(?P<kind>[sdif])")
# A template needs this much fixed text to be recognised (not just "%(value)s").
MIN_LITERAL = 2


def _pattern(msgid: str) -> tuple[re.Pattern, dict[str, str]] | None:
    parts, kinds, pos, seen = [], {}, 0, set()
    for match in PLACEHOLDER.finditer(msgid):
        parts.append(re.escape(msgid[pos : match.start()].replace("%%", "%")))
        name, kind = match["name"], match["kind"]
        if name in seen:
            parts.append(f"(?P={name})")
        else:
            number = r"-?\d+" if kind == "d" else r"-?\d+(?:\.\d+)?" if kind in "if" else ".*?"
            parts.append(f"(?P<{name}>{number})")
            seen.add(name)
        kinds[name] = kind
        pos = match.end()
    parts.append(re.escape(msgid[pos:].replace("%%", "%")))
    literal = PLACEHOLDER.sub("", msgid)
    if len(literal.strip()) < MIN_LITERAL:
        return None
    return re.compile("".join(parts), re.DOTALL), kinds


@lru_cache(maxsize=4)
def _templates(language: str, translated: bool) -> tuple[dict[str, str], tuple]:
    """({plain text: msgid}, [(pattern, kinds, msgid)] longest fixed text first) of the
    ``language`` catalog: its msgids, or (``translated``) its translations."""
    catalog = trans_real.translation(language)._catalog
    plain: dict[str, str] = {}
    patterns = []
    for key in catalog.keys():  # noqa: SIM118 (a TranslationCatalog, not a dict)
        if not isinstance(key, str) or "\x04" in key or not CJK.search(key):
            continue
        text = catalog[key] if translated else key
        if not isinstance(text, str) or not text:
            continue
        if "%(" not in key:
            plain.setdefault(text, key)
            continue
        built = _pattern(text)
        if built is not None:
            patterns.append((len(PLACEHOLDER.sub("", text)), built[0], built[1], key))
    patterns.sort(key=lambda item: -item[0])
    return plain, tuple((p, k, m) for _, p, k, m in patterns)


def template_of(text: str, *, translated: bool = False) -> tuple[str, dict] | None:
    """(msgid, parameters) the stored ``text`` was made from, or None. ``translated``:
    ``text`` is in English (written by a load that ran inside an English request)."""
    plain, patterns = _templates("en", translated)
    if text in plain:
        return plain[text], {}
    for pattern, kinds, msgid in patterns:
        match = pattern.fullmatch(text)
        if match:
            params = {
                name: int(value) if kinds[name] == "d" else value
                for name, value in match.groupdict().items()
            }
            return msgid, params
    return None


@lru_cache(maxsize=4096)
def _localized(text: str, language: str) -> str:
    # Stored text is a msgid filled in (Chinese), or its English rendering when the load ran
    # inside an English request before loads were pinned to the source language.
    found = template_of(text)
    if found is None:
        found = template_of(text, translated=True)
    if found is None:
        return text
    msgid, params = found
    with translation.override(language):
        rendered = gettext(msgid)
        return rendered % params if params else rendered


def localized(text: str | None) -> str:
    """``text`` in the active language when it is a stored hub message, else unchanged."""
    if not text:
        return ""
    language = translation.get_language() or "zh-hans"
    if not language.startswith("zh") and not CJK.search(text):
        return text  # English already, or not a message (codes, numbers)
    return _localized(text, language)


def localized_errors(errors: list[dict]) -> list[dict]:
    """Row errors (``{"row", "column", "message", ...}``) with their messages localised."""
    return [{**error, "message": localized(error.get("message", ""))} for error in errors]
