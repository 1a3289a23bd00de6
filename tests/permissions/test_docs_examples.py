"""The shell examples of the docs run as written: curl requests go to the Django test
client, ``manage.py`` lines to ``call_command``, against the demo catalog.

Each ``sh`` block of a page is read in order: ``VAR=value`` lines set variables,
``VAR=$(curl … | python3 -c …)`` runs the request and the Python line on its answer,
``create_api_key`` provides the real key (the page's ``KEY="…"`` placeholder is then kept
out). A request must answer 2xx: no 401 (bad auth such as ``curl -u``), 403, 404 or 5xx.
"""

from __future__ import annotations

import io
import json
import re
import shlex
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from hypothesis import given
from hypothesis import strategies as st

from hub.records.models import UploadBatch

ROOT = Path(__file__).resolve().parents[2]
RUN = ("docs/INGEST.md", "docs/API.md", "docs/TUTORIAL.md")
BLOCK = re.compile(r"^```(?:sh|bash)\n(.*?)^```", re.S | re.M)
ASSIGN = re.compile(r"^([A-Z_][A-Z0-9_]*)=(.*)$", re.S)
SUBSTITUTION = re.compile(r"^([A-Z_][A-Z0-9_]*)=\$\((.*)\)$", re.S)
VARIABLE = re.compile(r"\$\{?([A-Z_][A-Z0-9_]*)\}?")
# `make run` starts the server (the test client stands in for it); the screenshot script
# replays the tutorial in a browser (tests/e2e).
SKIPPED = ("make ", ".venv/bin/python docs/screenshots/")


def commands(markdown: str) -> list[str]:
    """The commands of a page's sh blocks: comment lines dropped, ``\\`` continuations
    joined, and a quoted string left open on one line continued on the next."""
    found = []
    for block in BLOCK.findall(markdown):
        pending = ""
        for line in block.splitlines():
            if not pending and (not line.strip() or line.lstrip().startswith("#")):
                continue
            pending += line + "\n"
            try:
                shlex.split(pending, comments=True)
            except ValueError:  # an open quote: the command goes on
                continue
            if line.rstrip().endswith("\\"):  # a continuation outside quotes
                pending = pending.rstrip()[:-1] + " "
                continue
            found.append(pending.strip())
            pending = ""
        assert not pending, f"unterminated command: {pending!r}"
    return found


@given(
    st.lists(
        st.text(
            # Line and paragraph separators other than \n would split lines differently.
            st.characters(blacklist_categories=["Cs", "Cc", "Zl", "Zp"])
            | st.sampled_from("\n\\'\"#$ `"),
            max_size=30,
        ),
        max_size=4,
    )
)
def test_commands_keep_quoted_words_whole(words):
    """Quoted words, even spanning lines or ending in a backslash, come back whole: one
    command per line of the block."""
    block = "```sh\n" + "".join(f"echo {shlex.quote(word)}\n" for word in words) + "```\n"
    parsed = [shlex.split(command, comments=True) for command in commands(block)]
    assert parsed == [["echo", word] for word in words]


def test_commands_join_continuations_and_open_quotes():
    block = "```sh\n# note\nA=1\ncurl -d '[1,\n 2]' \\\n  x   # trailing\n\n```\n"
    assert commands(block) == ["A=1", "curl -d '[1,\n 2]'    x   # trailing"]


class Shell:
    """Runs one page's commands in order, keeping its variables and downloaded files."""

    def __init__(self, client, tmp_path: Path):
        self.client, self.tmp = client, tmp_path
        self.env: dict[str, str] = {}
        self.fixed: set[str] = set()  # set by running a command, not by a placeholder
        self.responses: list = []

    def expand(self, text: str) -> str:
        return VARIABLE.sub(lambda m: self.env[m.group(1)], text)

    def run(self, command: str) -> None:
        if command.startswith(SKIPPED):
            return
        substitution = SUBSTITUTION.match(command)
        if substitution:
            name, inner = substitution.groups()
            request, _bar, consumer = inner.partition("|")
            body = self.curl(shlex.split(request, comments=True))
            argv = shlex.split(consumer, comments=True)
            assert argv[0] in ("python3", "python"), consumer
            done = subprocess.run(
                [sys.executable, *argv[1:]], input=body, capture_output=True, check=True
            )
            self.env[name] = done.stdout.decode().strip()
            self.fixed.add(name)
            return
        words = [self.expand(word) for word in shlex.split(command, comments=True)]
        assignment = ASSIGN.match(words[0]) if len(words) == 1 else None
        if assignment:
            name, value = assignment.groups()
            if name not in self.fixed:
                self.env[name] = value
            return
        if words[0] == "curl":
            self.curl(words)
        elif words[0].endswith("python") and words[1] == "manage.py":
            self.manage(words[2:])
        else:
            pytest.fail(f"the docs test does not know how to run {command!r}")

    def manage(self, argv: list[str]) -> None:
        out = io.StringIO()
        with redirect_stdout(out):
            try:
                call_command(*argv, stdout=out)
            except SystemExit as exc:  # ingest: exit 1 for a rejected batch, as documented
                assert argv[0] == "ingest" and exc.code == 1, (argv, exc.code)
        printed = re.search(r"store it now\): (\S+)", out.getvalue())
        if argv[0] == "create_api_key":
            self.env["KEY"] = printed.group(1)
            self.fixed.add("KEY")

    def curl(self, words: list[str]) -> bytes:
        words = [self.expand(word) for word in words]
        headers: dict[str, str] = {}
        data, form, output, method, url = None, {}, None, None, None
        args = iter(words[1:])
        for word in args:
            if word in ("-H", "--header"):
                name, _colon, value = next(args).partition(":")
                headers[name.strip()] = value.strip()
            elif word in ("-d", "--data", "--data-raw"):
                data = next(args)
            elif word in ("-F", "--form"):
                name, _eq, value = next(args).partition("=")
                form[name] = self.upload(value[1:]) if value.startswith("@") else value
            elif word in ("-o", "--output"):
                output = next(args)
            elif word in ("-X", "--request"):
                method = next(args)
            elif word in ("-u", "--user"):
                pytest.fail(f"the API has no basic authentication: {' '.join(words)}")
            elif word in ("-s", "--silent", "-S", "-f", "--fail", "-L"):
                continue
            elif word.startswith("-"):
                pytest.fail(f"the docs test does not know curl option {word}")
            else:
                url = word
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        method = method or ("POST" if data is not None or form else "GET")
        if form:
            response = self.client.post(path, form, headers=headers)
        else:
            content_type = headers.pop("Content-Type", "application/x-www-form-urlencoded")
            response = self.client.generic(
                method, path, (data or "").encode(), content_type, headers=headers
            )
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert 200 <= response.status_code < 300, (words, response.status_code, body[:500])
        if output:
            (self.tmp / output).write_bytes(body)
        self.responses.append((method, path, response.status_code, body))
        return body

    def upload(self, name: str) -> SimpleUploadedFile:
        path = self.tmp / name if (self.tmp / name).exists() else ROOT / name
        return SimpleUploadedFile(Path(name).name, path.read_bytes())


def run_page(page: str, client, tmp_path: Path) -> Shell:
    shell = Shell(client, tmp_path)
    for command in commands((ROOT / page).read_text(encoding="utf-8")):
        shell.run(command)
    return shell


def test_only_the_run_pages_have_curl_examples():
    """A curl example added elsewhere must be added to RUN (and so be run) too."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    with_curl = {
        str(page.relative_to(ROOT))
        for page in pages
        if any("curl " in command for command in commands(page.read_text(encoding="utf-8")))
    }
    assert with_curl <= set(RUN)
    for page in pages:
        for command in commands(page.read_text(encoding="utf-8")):
            words = shlex.split(command, comments=True)
            assert not {"-u", "--user"} & set(words), f"basic auth in {page.name}: {command}"


@pytest.mark.django_db(transaction=True)  # uploads load on commit, in-process
def test_ingest_examples(catalog, client, tmp_path):
    shell = run_page("docs/INGEST.md", client, tmp_path)
    requests = [(method, path.split("?")[0], status) for method, path, status, _ in shell.responses]
    batch = shell.env["BATCH"]
    assert requests == [
        ("POST", "/api/v1/resources/gas-pipeline-pressure/uploads/", 201),
        ("GET", f"/api/v1/batches/{batch}/", 200),
        ("GET", f"/api/v1/batches/{batch}/error-report.xlsx", 200),
        ("GET", "/api/v1/resources/gas-pipeline-pressure/template.xlsx", 200),
        ("POST", "/api/v1/resources/gas-pipeline-pressure/uploads/", 201),
        ("POST", "/api/v1/resources/gas-pipeline-pressure/records/", 201),
        ("POST", "/api/v1/resources/gas-pipeline-pressure/pushes/", 202),
        ("GET", f"/api/v1/push-receipts/{shell.env['RECEIPT']}/", 200),
        ("POST", "/api/v1/resources/gas-pipeline-pressure/pushes/", 200),
    ]
    from streaming.models import PushReceipt

    receipt = PushReceipt.objects.get(pk=shell.env["RECEIPT"])
    assert (receipt.status, receipt.row_count, receipt.idempotency_key) == (
        "loaded",
        2,
        "scada-7-000001",
    )
    assert json.loads(shell.responses[-1][3])["replayed"] is True
    uploaded = UploadBatch.objects.get(pk=batch)
    assert uploaded.status == "rejected" and uploaded.rejected == 5  # as the comment says
    assert (tmp_path / "errors.xlsx").read_bytes()[:2] == b"PK"
    template = UploadBatch.objects.get(original_filename="template.xlsx")
    # Not filled in here: its named sheet is read, holds no rows and is refused for it.
    assert (template.sheet, template.status, template.rows_read) == (
        "燃气管网压力监测数据",
        "rejected",
        0,
    )
    assert template.message == "文件只有表头，没有数据行，未入库。"
    pushed = UploadBatch.objects.get(source="api", original_filename__startswith="records")
    assert pushed.status == "loaded" and pushed.inserted == 1
    assert pushed.api_key_prefix == shell.env["KEY"].split(".")[0]
    # The CLI lines ran too: the air-quality workbook's data sheet was read (its bad rows
    # reject it, exit code 1, as the page says).
    workbook = UploadBatch.objects.get(resource__code="air-quality")
    assert (workbook.sheet, workbook.rows_read, workbook.status) == ("监测数据", 48, "rejected")
    gas_files = UploadBatch.objects.filter(resource__code="gas-pipeline-pressure", source="csv")
    assert gas_files.count() == 2  # over REST, then the CLI


@pytest.mark.django_db
def test_api_examples(records, client, tmp_path):
    shell = run_page("docs/API.md", client, tmp_path)
    assert len(shell.responses) == 12
    assert (tmp_path / "ponding.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # BOM
    method, path, status, _ = shell.responses[-5]
    assert (method, path, status) == ("POST", "/api/v1/access-requests/", 201)
    # Pushing readings: stored (202), the retry with its Idempotency-Key is the same
    # receipt (200, replayed), and the receipt reads back.
    pushes = "/api/v1/resources/gas-pipeline-pressure/pushes/"
    receipt = f"/api/v1/push-receipts/{shell.env['RECEIPT']}/"
    assert [(m, p, s) for m, p, s, _ in shell.responses[-3:]] == [
        ("POST", pushes, 202),
        ("POST", pushes, 200),
        ("GET", receipt, 200),
    ]
    first, again = (json.loads(body) for _, _, _, body in shell.responses[-3:-1])
    assert first["id"] == again["id"] and again["replayed"] is True
    assert first["rows"] == 1 and first["resource"] == "gas-pipeline-pressure"


@pytest.mark.django_db
def test_tutorial_examples(catalog, grant, client, tmp_path):
    # Step 4 of the tutorial, done in the admin there: cityops may read the alarms.
    grant(catalog["resources"]["gas-leak-alarms"], "cityops")
    shell = run_page("docs/TUTORIAL.md", client, tmp_path)
    assert [status for _, _, status, _ in shell.responses] == [200, 200]
