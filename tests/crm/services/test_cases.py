from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from contactcenter.errors import ApplicationError
from crm.enums import CaseStatus, NotificationKind
from crm.models import Case, CaseHistory, Notification
from crm.selectors import case_list_visible
from crm.services import case_create, case_note_add, case_update
from tests.conftest import Floor
from tests.crm.factories import make_case, make_category, make_contact
from tests.factories import make_org


def test_numbers_count_per_organization(floor_a: Floor, floor_b: Floor) -> None:
    first, second = make_case(floor_a.org), make_case(floor_a.org)
    other = make_case(floor_b.org)
    assert (first.number, second.number, other.number) == (1, 2, 1)
    assert second.reference == "CASE-000002"


def test_rolled_back_case_gives_its_number_back(floor_a: Floor) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        make_case(floor_a.org)
        raise RuntimeError("abort")
    assert make_case(floor_a.org).number == 1


@pytest.mark.django_db(transaction=True)
def test_numbers_unique_under_concurrent_creation() -> None:
    if connection.vendor != "postgresql":
        # The in-memory SQLite test database is one shared-cache connection: threads get
        # "table is locked" instead of queueing, so this proves nothing there.
        pytest.skip("needs PostgreSQL's row locks")
    org = make_org("Busy")
    threads_count, per_thread = 8, 10
    barrier = threading.Barrier(threads_count)
    errors: list[BaseException] = []

    def create_cases() -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                case_create(organization=org, actor=None, title=f"case {i}")
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=create_cases) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    numbers = sorted(Case.objects.filter(organization=org).values_list("number", flat=True))
    assert numbers == list(range(1, threads_count * per_thread + 1))
    assert make_case(make_org("Quiet")).number == 1


def test_create_checks_related_rows_belong_to_the_organization(
    floor_a: Floor, floor_b: Floor
) -> None:
    foreign = make_contact(floor_b.org)
    with pytest.raises(ApplicationError) as excinfo:
        make_case(floor_a.org, contact=foreign)
    assert excinfo.value.field == "contact"
    with pytest.raises(ApplicationError) as excinfo:
        make_case(floor_a.org, assigned_agent=floor_b.agent)
    assert excinfo.value.field == "assigned_agent"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"title": "  "}, "title"), ({"status": "lost"}, "status"), ({"priority": "meh"}, "priority")],
)
def test_update_refuses_bad_values(floor_a: Floor, kwargs: dict, field: str) -> None:
    case = make_case(floor_a.org)
    with pytest.raises(ApplicationError) as excinfo:
        case_update(case=case, actor=None, **kwargs)
    assert excinfo.value.field == field


def test_update_records_one_history_row_per_changed_field(floor_a: Floor) -> None:
    category = make_category(floor_a.org)
    case = make_case(floor_a.org, title="Old")
    actor = floor_a.supervisor.user
    case = case_update(
        case=case,
        actor=actor,
        title="New",
        description="",  # unchanged: no row
        category=category,
        assigned_agent=floor_a.agent,
    )
    rows = {row.field: row for row in CaseHistory.objects.filter(case=case)}
    assert set(rows) == {"title", "category", "assigned_agent"}
    assert (rows["title"].old_value, rows["title"].new_value) == ("Old", "New")
    assert (rows["category"].old_value, rows["category"].new_value) == (None, category.pk)
    assert rows["assigned_agent"].new_value == floor_a.agent.pk
    assert all(row.changed_by == actor for row in rows.values())
    assert all(row.organization_id == floor_a.org.pk for row in rows.values())

    case_update(case=case, actor=actor, category=None)
    last = CaseHistory.objects.filter(case=case).last()
    assert last is not None
    assert (last.field, last.old_value, last.new_value) == ("category", category.pk, None)


def test_update_without_change_writes_nothing(floor_a: Floor) -> None:
    case = make_case(floor_a.org, title="Same")
    case_update(case=case, actor=None, title="Same", status=CaseStatus.OPEN)
    assert not CaseHistory.objects.exists()


def test_status_moves_resolved_and_closed_times(floor_a: Floor) -> None:
    case = make_case(floor_a.org)
    case = case_update(case=case, actor=None, status=CaseStatus.RESOLVED)
    assert case.resolved_at is not None and case.closed_at is None
    resolved_at = case.resolved_at
    case = case_update(case=case, actor=None, status=CaseStatus.CLOSED)
    assert case.closed_at is not None and case.resolved_at == resolved_at
    case = case_update(case=case, actor=None, status=CaseStatus.OPEN)
    assert case.resolved_at is None and case.closed_at is None
    history = list(CaseHistory.objects.filter(case=case).values_list("new_value", flat=True))
    assert history == ["resolved", "closed", "open"]


def test_created_closed_case_is_stamped(floor_a: Floor) -> None:
    case = make_case(floor_a.org, status=CaseStatus.CLOSED)
    assert case.closed_at is not None and case.resolved_at is None


def test_assignment_notifies_the_assignee_but_not_a_self_assignment(floor_a: Floor) -> None:
    agent_user = floor_a.agent_member.user
    case = make_case(floor_a.org, actor=floor_a.supervisor.user, assigned_agent=floor_a.agent)
    note = Notification.objects.get(user=agent_user)
    assert note.kind == NotificationKind.CASE_ASSIGNED
    assert note.data == {"case_id": case.pk, "reference": case.reference}
    make_case(floor_a.org, actor=agent_user, assigned_agent=floor_a.agent)
    assert Notification.objects.filter(user=agent_user).count() == 1


def test_note_add(floor_a: Floor) -> None:
    case = make_case(floor_a.org)
    note = case_note_add(case=case, author=floor_a.agent_member.user, body="Called back")
    assert note.organization_id == floor_a.org.pk
    with pytest.raises(ApplicationError) as excinfo:
        case_note_add(case=case, author=None, body=" ")
    assert excinfo.value.field == "body"


def test_visibility(floor_a: Floor) -> None:
    mine = make_case(floor_a.org, assigned_agent=floor_a.agent)
    theirs = make_case(floor_a.org, assigned_agent=floor_a.other_agent)
    free = make_case(floor_a.org)
    assert set(case_list_visible(membership=floor_a.agent_member)) == {mine, free}
    assert set(case_list_visible(membership=floor_a.supervisor)) == {mine, theirs, free}
    assert set(case_list_visible(membership=floor_a.admin)) == {mine, theirs, free}
