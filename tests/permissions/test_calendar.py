"""The official calendar: packaged schedule, 调休 working days, the operators' table.

Dates checked by hand against the State Council notices:

* 国庆 2025 — 国务院办公厅关于2025年部分节假日安排的通知（国办发明电〔2024〕12号）:
  国庆节、中秋节 10月1日（周三）至8日（周三）放假调休，共8天；9月28日（周日）、
  10月11日（周六）上班。
* 春节 2026 — 国务院办公厅关于2026年部分节假日安排的通知（国办发明电〔2025〕7号）:
  春节 2月15日（周日）至23日（周一）放假调休，共9天；2月14日（周六）、2月28日（周六）
  上班。Checked against the chinesecalendar 1.11.0 data (constants.holidays/workdays).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied

from permissions import calendar, services
from permissions.models import AuditEvent, CalendarDay, CalendarDayKind
from permissions.workdays import add_working_days, is_working_day, package_years

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
D = dt.date


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2025, 9, 26), True),  # Friday
        (D(2025, 9, 27), False),  # Saturday
        (D(2025, 9, 28), True),  # Sunday, 调休上班
        (D(2025, 9, 30), True),  # Tuesday
        *[(D(2025, 10, n), False) for n in range(1, 9)],  # 国庆·中秋 10-01..10-08
        (D(2025, 10, 9), True),  # Thursday
        (D(2025, 10, 11), True),  # Saturday, 调休上班
        (D(2025, 10, 12), False),  # Sunday
        (D(2026, 2, 13), True),  # Friday
        (D(2026, 2, 14), True),  # Saturday, 调休上班
        *[(D(2026, 2, n), False) for n in range(15, 24)],  # 春节 02-15..02-23
        (D(2026, 2, 24), True),  # Tuesday
        (D(2026, 2, 28), True),  # Saturday, 调休上班
        (D(2026, 3, 1), False),  # Sunday
    ],
)
def test_official_days_around_national_day_2025_and_spring_festival_2026(day, working):
    assert is_working_day(day) is working


def test_ten_working_days_across_national_day_2025():
    # From Thu 2025-09-25: 26 (Fri), 28 (Sun, 调休), 29, 30, 9 (Thu), 10, 11 (Sat, 调休),
    # 13, 14, 15 -> Wed 2025-10-15 (weekends only would have said Thu 2025-10-09).
    assert add_working_days(at(D(2025, 9, 25)), 10) == at(D(2025, 10, 15))
    # From the last day before the break: the first working day after it is Thu 10-09.
    assert add_working_days(at(D(2025, 9, 30)), 1) == at(D(2025, 10, 9))
    # Filed on a 调休 Saturday during its own working day: next one is Mon 10-13.
    assert add_working_days(at(D(2025, 10, 11)), 1) == at(D(2025, 10, 13))


def test_ten_working_days_across_spring_festival_2026():
    # From Thu 2026-02-12: 13 (Fri), 14 (Sat, 调休), 24, 25, 26, 27, 28 (Sat, 调休),
    # 3-02, 3-03, 3-04 -> Wed 2026-03-04.
    assert add_working_days(at(D(2026, 2, 12)), 10) == at(D(2026, 3, 4))
    # Filed during the holiday: the first working day is Tue 02-24.
    assert add_working_days(at(D(2026, 2, 18)), 1) == at(D(2026, 2, 24))


def test_access_request_deadline_follows_the_official_calendar(catalog, make_user, time_machine):
    time_machine.move_to(at(D(2025, 9, 25)), tick=False)
    access_request = services.request_access(
        user=make_user("cityops"),
        requester=catalog["departments"]["cityops"],
        resource=catalog["resources"]["fire-incidents"],
        purpose="联动处置",
    )
    assert access_request.due_at == at(D(2025, 10, 15))


def test_beyond_the_package_weekdays_and_the_table_answer():
    first, last = package_years()
    assert first <= 2025 and last >= 2026
    later = D(last + 1, 1, 4)
    while later.weekday() != 5:  # a Saturday in a year the package does not know
        later += dt.timedelta(days=1)
    assert is_working_day(later) is False
    assert is_working_day(later + dt.timedelta(days=2)) is True
    CalendarDay.objects.create(date=later, kind=CalendarDayKind.WORKING_DAY)
    assert is_working_day(later) is True


def test_table_entry_overrides_the_package(make_user):
    operator = make_user(superuser=True, username="operator")
    # 2025-10-08 is a packaged holiday; the table says working day (a local decision).
    result = calendar.save_calendar_day(
        user=operator,
        date=D(2025, 10, 8),
        kind=CalendarDayKind.WORKING_DAY,
        name="测试",
        source="测试通知",
    )
    assert result.created
    assert is_working_day(D(2025, 10, 8)) is True
    assert add_working_days(at(D(2025, 9, 30)), 1) == at(D(2025, 10, 8))
    # And a packaged working day turned holiday: Thu 2025-10-09.
    calendar.save_calendar_day(user=operator, date=D(2025, 10, 9), kind=CalendarDayKind.HOLIDAY)
    assert add_working_days(at(D(2025, 10, 8)), 1) == at(D(2025, 10, 10))
    # Replacing an entry is a change (one row per date), audited with old and new values.
    again = calendar.save_calendar_day(
        user=operator, date=D(2025, 10, 8), kind=CalendarDayKind.HOLIDAY
    )
    assert not again.created and CalendarDay.objects.filter(date=D(2025, 10, 8)).count() == 1
    event = AuditEvent.objects.filter(action="calendar_change").order_by("-sequence").first()
    assert event.detail["old"]["kind"] == "working_day"
    assert event.detail["new"]["kind"] == "holiday"
    assert event.actor == "operator"
    # Removing the entries gives the package back.
    for day in CalendarDay.objects.all():
        calendar.delete_calendar_day(user=operator, day=day)
    assert is_working_day(D(2025, 10, 8)) is False and is_working_day(D(2025, 10, 9)) is True
    assert AuditEvent.objects.filter(action="calendar_change").count() == 5


def test_only_operators_edit_the_calendar(catalog, make_user, client):
    staff = make_user("fire", steward=True)
    with pytest.raises(PermissionDenied):
        calendar.save_calendar_day(user=staff, date=D(2026, 1, 5), kind=CalendarDayKind.HOLIDAY)
    assert not CalendarDay.objects.exists()
    assert not AuditEvent.objects.filter(action="calendar_change").exists()
    assert CalendarDay.objects.restrict(staff, "view").count() == 0
    client.force_login(staff)
    assert client.get("/admin/permissions/calendarday/").status_code == 403


def test_admin_enters_a_working_day(make_user, client):
    client.force_login(make_user(superuser=True, username="root"))
    response = client.post(
        "/admin/permissions/calendarday/add/",
        {
            "date": "2027-02-06",
            "kind": "working_day",
            "name": "春节调休",
            "source": "国办发明电〔2026〕X号（示例）",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    day = CalendarDay.objects.get()
    assert (day.date, day.kind) == (D(2027, 2, 6), "working_day")
    assert is_working_day(D(2027, 2, 6)) is True  # a Saturday
    event = AuditEvent.objects.get(action="calendar_change")
    assert event.detail["new"]["source"].startswith("国办发明电")
    response = client.post(f"/admin/permissions/calendarday/{day.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not CalendarDay.objects.exists()
    assert AuditEvent.objects.filter(action="calendar_change").count() == 2
