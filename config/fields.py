"""A model field whose value is stored encrypted (config/encryption.py).

Python sees the plaintext; the column holds a Fernet token, so a database dump, a
backup or a replica shows no credential. An empty value stays empty: that a secret is
set is not itself secret (the API says ``has_secret``). ``max_length`` bounds the
plaintext; the column is text, as a token is longer than what it holds.

Any model can use it for any credential (``EncryptedTextField(max_length=255)``); its
rows are found and re-encrypted by ``manage.py reencrypt_secrets``.

A row is decrypted when its secret is read, not when the row is loaded: the bridge
loads agents on its hot path and never needs their SIP passwords (what a decryption
costs: docs/benchmarks.md, "Figures the code's comments rest on"). Until then the
instance holds a ``Sealed`` token, which is also what ``values()`` and ``values_list()``
give for the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core import validators
from django.core.exceptions import FieldError
from django.db import models
from django.db.models import lookups
from django.db.models.query_utils import DeferredAttribute

from config.encryption import decrypt, encrypt


@dataclass(frozen=True, slots=True)
class Sealed:
    """A secret as stored (a Fernet token), not yet decrypted. Its repr shows no token."""

    token: str = ""

    def __repr__(self) -> str:
        return "Sealed(...)"


class _DecryptedOnRead(DeferredAttribute):
    """Django's attribute for a field, made a data descriptor (``__set__``) so every
    read comes here, not only the first one of a deferred field."""

    def __get__(self, instance: Any, cls: Any = None) -> Any:
        if instance is None:
            return self
        value = super().__get__(instance, cls)
        if isinstance(value, Sealed):
            value = decrypt(value.token, label=f"{self.field.model._meta.label}.{self.field.name}")
            instance.__dict__[self.field.attname] = value
        return value

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__[self.field.attname] = value


class EncryptedTextField(models.TextField):
    description = "Text stored encrypted"
    descriptor_class = _DecryptedOnRead

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.max_length is not None:
            self.validators.append(validators.MaxLengthValidator(self.max_length))

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        # As held: a secret never read is written back as the token it was.
        return model_instance.__dict__.get(self.attname)

    def get_prep_value(self, value: Any) -> Any:
        if isinstance(value, Sealed):
            return value.token
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        return Sealed(value)

    def get_lookup(self, lookup_name: str) -> Any:
        # A token differs each time the same value is encrypted: only emptiness can be
        # asked of the column, never equality with a secret.
        if lookup_name not in {"exact", "isnull"}:
            return None
        return super().get_lookup(lookup_name)


@EncryptedTextField.register_lookup
class EmptyExact(lookups.Exact):
    def get_prep_lookup(self) -> Any:
        if self.rhs != "":
            raise FieldError(
                f"{self.lhs.target.name} is encrypted: it can only be compared with ''."
            )
        return super().get_prep_lookup()


def encrypt_existing_rows(app_label: str, model_name: str, *fields: str) -> Any:
    """A migration's RunPython pair that encrypts ``fields`` of every row (forward) or
    decrypts them (backward). Run it while the fields are plain TextFields in the
    migration's state, between widening the column and making it an EncryptedTextField.
    """

    def convert(apps: Any, change: Any) -> None:
        model = apps.get_model(app_label, model_name)
        label = f"{app_label}.{model_name}"
        for pk, *values in model._base_manager.values_list("pk", *fields).iterator():
            changed = {
                field: change(value, label=f"{label}.{field}")
                for field, value in zip(fields, values, strict=True)
                if value
            }
            if changed:
                model._base_manager.filter(pk=pk).update(**changed)

    def forward(apps: Any, schema_editor: Any) -> None:
        convert(apps, lambda value, label: encrypt(value))

    def backward(apps: Any, schema_editor: Any) -> None:
        convert(apps, decrypt)

    return forward, backward


def encrypted_fields() -> dict[type[models.Model], list[str]]:
    """Every installed model with EncryptedTextFields, and their names."""
    from django.apps import apps

    found: dict[type[models.Model], list[str]] = {}
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if names:
            found[model] = names
    return found


def reencrypt_rows(model: type[models.Model], fields: list[str], *, batch: int = 500) -> int:
    """Encrypt ``fields`` of every row of ``model`` again with the first key; returns
    how many rows were written. Rows are locked a batch at a time, so a secret changed
    meanwhile is neither lost nor written back stale."""
    from django.db import transaction

    from config.encryption import rotate

    rows = 0
    label = model._meta.label
    pks = list(model._base_manager.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(pks), batch):
        with transaction.atomic():
            locked = (
                model._base_manager.select_for_update()
                .filter(pk__in=pks[start : start + batch])
                .values_list("pk", *fields)
            )
            for pk, *values in locked:
                fresh = {
                    name: Sealed(rotate(value.token, label=f"{label}.{name}"))
                    for name, value in zip(fields, values, strict=True)
                    if isinstance(value, Sealed)
                }
                if fresh:
                    model._base_manager.filter(pk=pk).update(**fresh)
                    rows += 1
    return rows
