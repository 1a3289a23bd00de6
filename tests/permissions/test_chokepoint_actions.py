"""Every action of the chokepoint works for department members (SQL and its parameters)."""

import pytest
from guardian.shortcuts import assign_perm

from permissions.selectors import (
    MANAGE_RESOURCE,
    UPLOAD_RECORDS,
    VIEW_METADATA,
    VIEW_RECORDS,
    VIEW_RECORDS_CLEAR,
    can,
)


@pytest.mark.parametrize(
    ("department", "steward", "expected"),
    [
        # provider staff: everything but managing (needs an explicit permission) and uploading
        (
            "housing",
            False,
            {
                VIEW_METADATA: True,
                VIEW_RECORDS: True,
                VIEW_RECORDS_CLEAR: True,
                UPLOAD_RECORDS: False,
                MANAGE_RESOURCE: False,
            },
        ),
        (
            "housing",
            True,
            {
                VIEW_METADATA: True,
                VIEW_RECORDS: True,
                VIEW_RECORDS_CLEAR: True,
                UPLOAD_RECORDS: True,
                MANAGE_RESOURCE: False,
            },
        ),
        # another department: metadata of 有条件共享 only
        (
            "water",
            True,
            {
                VIEW_METADATA: True,
                VIEW_RECORDS: False,
                VIEW_RECORDS_CLEAR: False,
                UPLOAD_RECORDS: False,
                MANAGE_RESOURCE: False,
            },
        ),
    ],
)
def test_each_action_for_department_members(catalog, make_user, department, steward, expected):
    user = make_user(department, steward=steward)
    resource = catalog["resources"]["gas-leak-alarms"]  # 有条件共享, provider housing
    assert {action: can(user, action, resource) for action in expected} == expected


def test_manage_permission_granted_to_a_department_group(catalog, make_user):
    resource = catalog["resources"]["road-ponding"]
    user = make_user("cityops")
    assert can(user, MANAGE_RESOURCE, resource) is False
    assign_perm(MANAGE_RESOURCE, catalog["departments"]["cityops"].group, resource)
    user = make_user("cityops", username="cityops-2")  # fresh membership cache
    assert can(user, MANAGE_RESOURCE, resource) is True
    assert can(user, VIEW_RECORDS_CLEAR, resource) is True
