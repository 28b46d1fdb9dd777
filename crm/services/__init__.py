"""The crm services: the only code that writes contacts, cases, categories, notifications.

Each is a keyword-only, typed, transactional ``<entity>_<action>`` function that raises
ApplicationError (with the input field at fault) when it refuses.
"""

from crm.services.cases import (
    case_create,
    case_delete,
    case_note_add,
    case_number_allocate,
    case_update,
)
from crm.services.categories import (
    case_category_create,
    case_category_delete,
    case_category_update,
)
from crm.services.contacts import PhoneInput, contact_create, contact_delete, contact_update
from crm.services.notifications import (
    notification_create,
    notification_delete,
    notification_mark_all_read,
    notification_mark_read,
)

__all__ = [
    "PhoneInput",
    "case_category_create",
    "case_category_delete",
    "case_category_update",
    "case_create",
    "case_delete",
    "case_note_add",
    "case_number_allocate",
    "case_update",
    "contact_create",
    "contact_delete",
    "contact_update",
    "notification_create",
    "notification_delete",
    "notification_mark_all_read",
    "notification_mark_read",
]
