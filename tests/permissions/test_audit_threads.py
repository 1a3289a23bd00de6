"""Audit appends from concurrent requests of one process (the embedded default's
threaded server): each takes its own sequence, and the chain verifies."""

from __future__ import annotations

import http.cookiejar
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_audited_reads_each_append_once(live_server, catalog, make_user):
    from permissions.audit import verify_chain
    from permissions.models import AuditEvent

    make_user("cityops", username="cityops-staff")
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login = f"{live_server.url}/admin/login/"
    form = opener.open(login).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    body = urllib.parse.urlencode(
        {"username": "cityops-staff", "password": "pw-for-tests",
         "csrfmiddlewaretoken": token, "next": "/ops/"}
    ).encode()  # fmt: skip
    answer = opener.open(urllib.request.Request(login, data=body, headers={"Referer": login}))
    assert answer.status == 200 and answer.url.endswith("/ops/")
    before = AuditEvent.objects.count()
    start = threading.Barrier(8)

    def read(_n: int) -> int:
        start.wait()
        try:
            return opener.open(f"{live_server.url}/ops/").status
        except urllib.error.HTTPError as error:
            return error.code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(read, range(24)))
    assert codes == [200] * 24
    events = AuditEvent.objects.order_by("sequence")
    assert events.count() - before == 24
    sequences = list(events.values_list("sequence", flat=True))
    assert sequences == list(range(sequences[0], sequences[0] + len(sequences)))
    assert verify_chain().ok
