"""The UI is complete in Chinese (the default) and in English.

User-facing strings use Chinese msgids, so the zh-hans UI is complete by construction as
long as no English msgid slips in; the English UI needs every msgid translated in
``locale/en``. Both are checked by extracting the messages from a copy of the source
(so the repository's catalogs are not touched).
"""

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = [
    "hub",
    "connectors",
    "permissions",
    "operations",
    "governance",
    "explorer",
    "streaming",
    "risk",
]
CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef]")
# msgids that are the same in every language (names, codes, units).
LANGUAGE_NEUTRAL = {"SHA-256", "English", "PM2.5", "PM10", "AQI"}

pytestmark = pytest.mark.skipif(
    not shutil.which("xgettext") or not shutil.which("msgfmt"),
    reason="needs GNU gettext (xgettext, msgfmt): apt-get install gettext",
)


def parse_po(path: Path) -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) of each entry; plurals use msgstr[0]."""
    entries, msgid, msgstr, fuzzy, current = [], None, None, False, None

    def flush():
        if msgid:
            entries.append((msgid, msgstr or "", fuzzy))

    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            flush()
            msgid, msgstr, fuzzy, current = None, None, False, None
        elif line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith("msgid "):
            msgid, current = ast.literal_eval(line[6:]), "id"
        elif line.startswith(("msgstr ", "msgstr[0] ")):
            msgstr, current = ast.literal_eval(line.split(" ", 1)[1]), "str"
        elif line.startswith('"'):
            if current == "id":
                msgid += ast.literal_eval(line)
            elif current == "str":
                msgstr += ast.literal_eval(line)
        elif line.startswith(("msgid_plural", "msgstr[")):
            current = None
    return entries


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> list[tuple[str, str, bool]]:
    """Run makemessages for English on a copy of the source and parse the result."""
    work = tmp_path_factory.mktemp("i18n")
    ignore = shutil.ignore_patterns("__pycache__", "migrations", "*.pyc")
    for app in APPS:
        shutil.copytree(ROOT / app, work / app, ignore=ignore)
    shutil.copy(ROOT / "manage.py", work / "manage.py")
    if (ROOT / "locale").exists():
        shutil.copytree(ROOT / "locale", work / "locale")
    else:
        (work / "locale").mkdir()
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "en", "--no-obsolete", "-v0"],
        cwd=work,
        check=True,
        capture_output=True,
        timeout=300,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "hub.settings",
            "PYTHONPATH": str(work),
        },
    )
    return parse_po(work / "locale" / "en" / "LC_MESSAGES" / "django.po")


def test_every_user_facing_msgid_is_chinese(extracted):
    english = sorted(
        msgid
        for msgid, _, _ in extracted
        if not CJK.search(msgid) and msgid not in LANGUAGE_NEUTRAL and re.search("[A-Za-z]", msgid)
    )
    assert english == [], f"msgids shown untranslated in the Chinese UI: {english}"


def test_every_msgid_has_an_english_translation(extracted):
    assert len(extracted) > 300  # the extraction really found the UI
    missing = sorted(msgid for msgid, msgstr, fuzzy in extracted if not msgstr or fuzzy)
    assert missing == [], f"{len(missing)} msgids lack an English translation: {missing[:20]}"


def test_english_translations_contain_no_chinese(extracted):
    leftovers = sorted(msgid for msgid, msgstr, _ in extracted if msgstr and CJK.search(msgstr))
    assert leftovers == [], f"English translations still in Chinese: {leftovers[:20]}"
