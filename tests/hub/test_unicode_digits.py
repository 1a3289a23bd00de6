"""Numbers in query strings and paths are ASCII digits: "²" passes str.isdigit() but not
int(), "١" (Arabic-Indic one) would read as 1. Either is a clean answer, never a 500."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("digit", ["²", "١", "１"])
@pytest.mark.parametrize(
    ("department", "superuser", "url"),
    [
        ("bigdata", False, "/governance/assessment/?periods={d}"),
        ("cityops", False, "/ops/screen/?refresh={d}"),
        (None, True, "/admin/permissions/accessrequest/add/?resource={d}"),
        (None, True, "/admin/permissions/accessrequest/{d}/change/"),
    ],
)
def test_non_ascii_digits_are_no_numbers(
    client, catalog, make_user, digit, department, superuser, url
):
    client.force_login(make_user(department, superuser=superuser))
    response = client.get(url.format(d=digit))
    assert response.status_code in (200, 302, 400, 404), response.status_code
