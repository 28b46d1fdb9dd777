from __future__ import annotations

import pytest

from contactcenter.errors import ApplicationError
from crm.models import CaseCategory
from crm.services import case_category_delete, case_category_update
from tests.conftest import Floor
from tests.crm.factories import make_case, make_category


def test_names_are_unique_among_siblings(floor_a: Floor, floor_b: Floor) -> None:
    billing = make_category(floor_a.org, "Billing")
    make_category(floor_a.org, "Refunds", parent=billing)
    make_category(floor_b.org, "Billing")  # another tenant: fine
    make_category(floor_a.org, "Refunds")  # another parent: fine
    for parent in (None, billing):
        name = "Billing" if parent is None else "Refunds"
        with pytest.raises(ApplicationError) as excinfo:
            make_category(floor_a.org, name, parent=parent)
        assert excinfo.value.field == "name"


def test_parent_must_be_same_organization(floor_a: Floor, floor_b: Floor) -> None:
    with pytest.raises(ApplicationError) as excinfo:
        make_category(floor_a.org, "X", parent=make_category(floor_b.org))
    assert excinfo.value.field == "parent"


def test_no_cycles(floor_a: Floor) -> None:
    root = make_category(floor_a.org, "Root")
    child = make_category(floor_a.org, "Child", parent=root)
    grandchild = make_category(floor_a.org, "Grandchild", parent=child)
    for new_parent in (root, grandchild):
        with pytest.raises(ApplicationError) as excinfo:
            case_category_update(category=root, parent=new_parent)
        assert excinfo.value.code == "cycle"
    moved = case_category_update(category=grandchild, parent=None, name="Top")
    assert (moved.parent_id, moved.name) == (None, "Top")


def test_delete_leaf_only(floor_a: Floor) -> None:
    root = make_category(floor_a.org, "Root")
    leaf = make_category(floor_a.org, "Leaf", parent=root)
    case = make_case(floor_a.org, category=leaf)
    with pytest.raises(ApplicationError) as excinfo:
        case_category_delete(category=root)
    assert excinfo.value.status == 409
    case_category_delete(category=leaf)
    case.refresh_from_db()
    assert case.category_id is None
    assert list(CaseCategory.objects.all()) == [root]
