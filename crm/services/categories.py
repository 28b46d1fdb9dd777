"""Case categories: a tree per organization."""

from __future__ import annotations

from django.db import transaction

from contactcenter.errors import ApplicationError
from contactcenter.models import Organization
from contactcenter.services import audit
from crm.models import CaseCategory
from crm.services._common import UNSET, Unset, ensure_same_organization


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ApplicationError("This field may not be blank.", code="blank", field="name")
    return name


def _check_parent(category: CaseCategory, parent: CaseCategory | None) -> None:
    """The parent is of the same organization and not the category or one of its descendants."""
    if parent is None:
        return
    ensure_same_organization(parent, organization_id=category.organization_id, field="parent")
    if category.pk is None:
        return  # a new category has no descendants
    ancestor: CaseCategory | None = parent
    seen: set[int] = set()
    while ancestor is not None and ancestor.pk not in seen:
        if ancestor.pk == category.pk:
            raise ApplicationError(
                "A category cannot be placed under itself or one of its subcategories.",
                code="cycle",
                field="parent",
            )
        seen.add(ancestor.pk)
        ancestor = ancestor.parent


def _check_row(category: CaseCategory) -> None:
    category.full_clean(
        exclude=["organization", "parent"], validate_unique=False, validate_constraints=False
    )
    _check_unique(category)


def _check_unique(category: CaseCategory) -> None:
    # Checked here so the constraint answers 400 on "name", not an IntegrityError.
    siblings = CaseCategory.objects.for_organization(category.organization_id).filter(
        parent_id=category.parent_id, name=category.name
    )
    if siblings.exclude(pk=category.pk).exists():
        raise ApplicationError(
            "A category with this name already exists here.", code="unique", field="name"
        )


@transaction.atomic
def case_category_create(
    *, organization: Organization, name: str, parent: CaseCategory | None = None
) -> CaseCategory:
    category = CaseCategory(organization=organization, name=_clean_name(name), parent=parent)
    _check_parent(category, parent)
    _check_row(category)
    category.save()
    audit.created(category)
    return category


@transaction.atomic
def case_category_update(
    *,
    category: CaseCategory,
    name: str | Unset = UNSET,
    parent: CaseCategory | Unset | None = UNSET,
) -> CaseCategory:
    # The organization's categories are locked so two moves cannot build a cycle together.
    list(
        CaseCategory.objects.for_organization(category.organization_id)
        .select_for_update()
        .values_list("pk", flat=True)
    )
    category = CaseCategory.objects.get(pk=category.pk)
    before = audit.snapshot(category)
    if not isinstance(name, Unset):
        category.name = _clean_name(name)
    if not isinstance(parent, Unset):
        _check_parent(category, parent)
        category.parent = parent
    _check_row(category)
    category.save()
    audit.updated(category, before)
    return category


@transaction.atomic
def case_category_delete(*, category: CaseCategory) -> None:
    """Delete a leaf category; its cases become uncategorised."""
    if category.children.exists():
        raise ApplicationError(
            "Move or delete the subcategories first.", code="has_children", status=409
        )
    audit.deleted(category)
    category.delete()
