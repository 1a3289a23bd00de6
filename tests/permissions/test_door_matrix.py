"""The door matrix (NetBox style): every URL pattern, admin site view and admin page of
every registered model, for each of the seven kinds of caller, gets the expected status
and shows exactly the expected rows and field values (door_expectations.py).

The doors are enumerated from the URL resolver and the admin registry, so a door added
without an expectation row fails here, and a row left behind by a removed door too.
The world: tests/permissions/door_world.py; the requests: door_requests.py, door_cells.py.
"""

from __future__ import annotations

import pytest

from tests.permissions.door_cells import Answer, all_cells, walk
from tests.permissions.door_expectations import ALLOWED, EXPECTED, FAMILIES, MARKS
from tests.permissions.door_urls import admin_model_doors, admin_site_doors, url_doors
from tests.permissions.door_world import CALLERS, World, build
from tests.permissions.test_one_door import watch

__all__ = ["watch"]  # the fixture of the one-door walk, re-used

pytestmark = pytest.mark.django_db


def door_of(cell: str) -> str:
    return cell.split("[", 1)[0]


def every_door() -> set[str]:
    doors = set(url_doors()) | set(admin_site_doors())
    for label, views in admin_model_doors().items():
        doors |= {f"admin:{label}:{view}" for view in views}
    return doors


def expected_marks(shows: str, caller: str) -> set[str]:
    marks: set[str] = set()
    for token in shows.split():
        if token in FAMILIES:
            marks |= FAMILIES[token].get(caller, set())
        elif "@" in token:
            mark, callers = token.split("@")
            if caller in callers.split(","):
                marks.add(mark)
        else:
            marks.add(token)
    assert marks <= set(MARKS), marks
    return marks


def abbreviations(answer: Answer) -> set[str]:
    return {short for short, marker in MARKS.items() if marker in answer.body}


def test_every_door_has_an_expectation_row():
    doors = every_door()
    rows = {door_of(cell) for cell in EXPECTED}
    assert sorted(doors - rows) == [], (
        "doors without an expectation row: add one to tests/permissions/door_expectations.py "
        "(and, for an object page, its object to door_world.py / door_requests.py)"
    )
    assert sorted(rows - doors) == [], "expectation rows of doors that no longer exist"
    assert len(doors) >= 200


def test_every_row_names_seven_statuses_and_known_markers():
    for cell, (statuses, shows) in EXPECTED.items():
        assert len(statuses.split()) == len(CALLERS), cell
        for caller in CALLERS:
            expected_marks(shows, caller)


@pytest.fixture
def world(catalog, make_user, grant) -> World:
    return build(catalog, make_user, grant)


def test_the_cells_of_the_world_are_the_rows(world):
    assert sorted(all_cells(world)) == sorted(EXPECTED)


def check(answers: dict[str, Answer], caller: str) -> list[str]:
    """The cells whose answer differs from the expectation row, and every leak."""
    column = CALLERS.index(caller)
    failures = []
    for cell, answer in answers.items():
        if cell not in EXPECTED:
            failures.append(f"{cell}: no expectation row (got {answer.status})")
            continue
        statuses, shows = EXPECTED[cell]
        status = int(statuses.split()[column])
        seen = abbreviations(answer)
        wanted = expected_marks(shows, caller) if 200 <= status < 300 else set()
        if answer.status != status or seen != wanted:
            failures.append(
                f"{cell}: got {answer.status} {sorted(seen)}, expected {status} {sorted(wanted)}"
            )
        if leaked := seen - ALLOWED[caller]:
            failures.append(f"{cell}: LEAK to {caller}: {sorted(leaked)}")
    return failures


@pytest.mark.parametrize("caller", CALLERS)
def test_door_matrix(world, caller):
    answers = walk(world, caller)
    failures = check(answers, caller)
    assert not failures, f"{len(failures)} of {len(answers)} cells:\n" + "\n".join(failures)


def test_the_matrix_catches_a_widened_row_scope(world):
    """The district grant loses its district limit: the row out leaks through the records,
    the explorer and the operations doors, and the matrix says so."""
    from permissions.models import AccessGrant

    AccessGrant.objects.filter(department__code="transport").update(districts=[])
    failures = check(walk(world, "district"), "district")
    leaks = {line.split(":")[0] for line in failures if "LEAK" in line}
    assert {"resource-records", "ops-point-list", "ops-work-order-list"} <= leaks


@pytest.mark.parametrize("caller", CALLERS)
def test_every_cell_goes_through_the_door(world, watch, caller):
    """The one-door watch of test_one_door.py (a top-level SELECT of a model with a policy,
    in a request that never restricted it, is a bypass) over every cell of the matrix, for
    each of the seven callers (the URL walk there takes three)."""
    from tests.permissions.door_cells import ask, client_for

    bypasses = []
    for cell, (key, url) in all_cells(world).items():
        if caller == "superuser" and key.endswith(":delete"):
            # Django's deletion collector reads every related row (the cascade must), and
            # its page is shown to superusers, who may read every row anyway.
            continue
        client = client_for(world, caller)
        watch.reset()
        ask(client, key, url)
        bypasses += [f"{cell} -> {bypass}" for bypass in watch.bypasses]
    assert not bypasses, "\n".join(bypasses)
