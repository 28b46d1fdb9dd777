"""The crm reads: each returns a queryset already scoped to one organization (and role)."""

from crm.selectors.cases import case_list_visible, case_visibility_q
from crm.selectors.contacts import contact_lookup_by_phone
from crm.selectors.notifications import (
    notification_list_for_user,
    notification_list_unread,
    notification_of_user,
    notification_owner_q,
)

__all__ = [
    "case_list_visible",
    "case_visibility_q",
    "contact_lookup_by_phone",
    "notification_list_for_user",
    "notification_list_unread",
    "notification_of_user",
    "notification_owner_q",
]
