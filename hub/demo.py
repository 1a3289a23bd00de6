"""Demo catalog: departments, districts, resources and demo users (used by load_demo).

Passwords are random per machine and kept in ``var/demo_logins.json`` (git-ignored), so no
password lives in the repository and re-running keeps the logins stable.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import TextIO

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from hub.catalog.models import Department
from hub.catalog.seed import publish_resource, upsert_code_list, upsert_department, upsert_resource

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
LOGINS_FILE = Path(settings.BASE_DIR) / "var" / "demo_logins.json"

# Role groups: model-level permissions; which resources they apply to is decided per object.
ROLE_STAFF = "role:staff"
ROLE_STEWARD = "role:steward"
# The sharing workflow in the admin: file requests for the own department and, as a
# provider, approve or refuse them and revoke grants. Which rows a user sees is decided by
# the admin querysets and the services (own department or provider only).
SHARING_PERMISSIONS = [
    "permissions.view_accessrequest",
    "permissions.add_accessrequest",
    "permissions.view_accessgrant",
    # Objections (数据异议): file as a reader, answer as a provider; notifications.
    "governance.view_objection",
    "governance.add_objection",
    "governance.change_objection",
    "governance.view_notification",
    # Data needs (需求清单): seen in the admin; filed and answered on the hub pages.
    "governance.view_dataneed",
]
ROLE_PERMISSIONS = {
    ROLE_STAFF: [
        "catalog.view_dataresource",
        "catalog.view_fieldspec",
        "records.view_record",
        "catalog.view_department",
        "catalog.view_codelist",
        "catalog.view_codeitem",
        *SHARING_PERMISSIONS,
    ],
    ROLE_STEWARD: [
        "catalog.view_dataresource",
        "catalog.view_fieldspec",
        "records.view_record",
        "records.view_uploadbatch",
        "records.add_uploadbatch",
        "catalog.view_department",
        "catalog.view_codelist",
        "catalog.view_codeitem",
        "catalog.upload_records",
        "connectors.view_headeralias",
        "connectors.add_headeralias",
        "connectors.change_headeralias",
        "connectors.delete_headeralias",
        "connectors.view_connectorprofile",
        "connectors.add_connectorprofile",
        "connectors.change_connectorprofile",
        *SHARING_PERMISSIONS,
    ],
}


def read_fixture(name: str):
    """Load one JSON file from fixtures/."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@transaction.atomic
def load_catalog() -> dict[str, int]:
    """Departments, the district code list and the demo resources (all published)."""
    departments = {
        item["code"]: upsert_department(**item) for item in read_fixture("departments.json")
    }
    districts = read_fixture("districts.json")
    upsert_code_list(**districts)
    resources = 0
    for item in read_fixture("resources.json"):
        item = dict(item)
        provider = departments[item.pop("provider")]
        resource = upsert_resource(provider=provider, **item)
        publish_resource(resource=resource)
        resources += 1
    return {"departments": len(departments), "resources": resources}


def ensure_role_groups() -> dict[str, Group]:
    """Create the staff and steward role groups with their model permissions."""
    groups = {}
    for name, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = []
        for dotted in perms:
            app_label, codename = dotted.split(".")
            wanted.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(wanted)
        groups[name] = group
    return groups


def _saved_logins() -> dict[str, str]:
    if LOGINS_FILE.exists():
        return json.loads(LOGINS_FILE.read_text(encoding="utf-8"))
    return {}


def _save_logins(logins: dict[str, str]) -> None:
    LOGINS_FILE.parent.mkdir(parents=True, exist_ok=True)
    LOGINS_FILE.write_text(json.dumps(logins, ensure_ascii=False, indent=2), encoding="utf-8")
    LOGINS_FILE.chmod(0o600)


@transaction.atomic
def load_users() -> dict[str, str]:
    """A superuser plus one staff member and one data steward per department."""
    user_model = get_user_model()
    groups = ensure_role_groups()
    logins = _saved_logins()

    def ensure(username: str, *, superuser: bool = False, groups_: list[Group]) -> None:
        user = user_model.objects.filter(username=username).first()
        if user is None or username not in logins:
            password = secrets.token_urlsafe(9)
            logins[username] = password
            if user is None:
                user = user_model(username=username)
            user.set_password(password)
        user.is_staff = True
        user.is_superuser = superuser
        user.save()
        user.groups.set(groups_)

    ensure("admin", superuser=True, groups_=[])
    for department in Department.objects.select_related("group"):
        ensure(f"{department.code}-staff", groups_=[department.group, groups[ROLE_STAFF]])
        ensure(f"{department.code}-steward", groups_=[department.group, groups[ROLE_STEWARD]])
    _save_logins(logins)
    return logins


def load(stdout: TextIO) -> None:
    """The hub's demo step: catalog first, then users."""
    counts = load_catalog()
    logins = load_users()
    stdout.write(
        f"catalog: {counts['departments']} departments, {counts['resources']} resources, "
        f"{len(logins)} demo users\n"
    )


def print_logins(stdout: TextIO) -> None:
    """Print the demo logins (superuser and a few department accounts)."""
    logins = _saved_logins()
    if not logins:
        return
    stdout.write("Demo logins (all users in var/demo_logins.json):\n")
    shown = ["admin", "housing-steward", "housing-staff", "water-steward", "cityops-staff"]
    for username in shown:
        if username in logins:
            stdout.write(f"  {username:<18} {logins[username]}\n")
