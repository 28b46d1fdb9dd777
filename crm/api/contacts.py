"""/contacts/: CRUD, and the screen-pop lookup by phone number."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.functional import cached_property
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.fields import Field, SkipField
from rest_framework.request import Request
from rest_framework.response import Response

from contactcenter.api.permissions import ADMIN_ONLY, ALL_ROLES, FLOOR_ROLES
from contactcenter.api.tenancy import TenantViewSetMixin
from crm.api.common import HTTP_METHODS, request_user, validated
from crm.api.filters import ContactFilter
from crm.api.serializers import (
    ContactInputSerializer,
    ContactOutputSerializer,
    ContactPhoneOutputSerializer,
)
from crm.models import Contact, ContactPhone
from crm.selectors.contacts import contacts_with_phones_by_phone
from crm.services import contact_create, contact_update
from crm.services.erasure import contact_erase
from crm.services.trash import contact_trash


class ErasedSerializer(serializers.Serializer[Any]):
    calls_anonymized = serializers.IntegerField()
    cases_deleted = serializers.IntegerField()
    follow_ups_deleted = serializers.IntegerField()
    notifications_deleted = serializers.IntegerField()


@extend_schema_view(
    create=extend_schema(request=ContactInputSerializer, responses={201: ContactOutputSerializer}),
    partial_update=extend_schema(request=ContactInputSerializer, responses=ContactOutputSerializer),
)
class ContactViewSet(TenantViewSetMixin, viewsets.ModelViewSet):
    """Every member reads and writes contacts; only supervisors and admins delete them
    (to the trash: /trash/contacts/); only admins erase one."""

    queryset = Contact.objects.prefetch_related("phones")
    serializer_class = ContactOutputSerializer
    http_method_names = HTTP_METHODS
    read_roles = ALL_ROLES
    write_roles = ALL_ROLES
    action_write_roles = {"destroy": FLOOR_ROLES, "erase": ADMIN_ONLY}
    filterset_class = ContactFilter
    search_fields = ["first_name", "last_name", "company", "email", "phones__number"]
    ordering_fields = ["last_name", "first_name", "company", "email", "created_at", "updated_at"]
    ordering = ["last_name", "first_name", "id"]

    def _output(self, contact: Contact, status_code: int = status.HTTP_200_OK) -> Response:
        # Re-read so the phones are the ones just written, not a stale prefetch.
        fresh = self.get_queryset().get(pk=contact.pk)
        return Response(ContactOutputSerializer(fresh).data, status=status_code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = validated(ContactInputSerializer, request, self.get_serializer_context())
        contact = contact_create(organization=self.membership.organization, **data)
        return self._output(contact, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        contact = self.get_object()
        data = validated(
            ContactInputSerializer, request, self.get_serializer_context(), partial=True
        )
        return self._output(contact_update(contact=contact, **data))

    def get_queryset(self) -> QuerySet[Any]:
        if self.action == "erase":  # a contact in the trash may be erased too
            erasable: QuerySet[Any] = Contact.all_objects.filter(
                organization_id=self.organization_id
            )
            return erasable
        return super().get_queryset()

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """To the trash (restorable by admins for TRASH_RETENTION_DAYS)."""
        contact_trash(contact=self.get_object(), actor=request_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Erase a contact on request (cannot be undone)",
        description="The contact and their phones, cases (notes, history, follow-ups) and "
        "the notifications about those cases are deleted; their calls stay, anonymized "
        "(no number, name, notes or recording). Works on a contact in the trash too. "
        "Audited as `erase`.",
        request=None,
        responses=ErasedSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def erase(self, request: Request, pk: str | None = None) -> Response:
        erased = contact_erase(contact=self.get_object())
        return Response(ErasedSerializer(erased).data)

    @extend_schema(
        summary="Find contacts by phone number (screen pop)",
        description="Any written form matches: +1 555-765-4321, (555) 765-4321 and "
        "001 555 765 4321 are one number for an organization in the US. "
        "400 on `phone` when it is missing or not a phone number.",
        parameters=[OpenApiParameter("phone", str, required=True)],
        responses=ContactOutputSerializer(many=True),
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def lookup(self, request: Request) -> Response:
        found = contacts_with_phones_by_phone(
            organization=self.membership.organization, phone=request.query_params.get("phone", "")
        )
        return Response([_LOOKUP_OUTPUT.represent(contact, phones) for contact, phones in found])


class _ContactsOutput:
    """``ContactOutputSerializer(contacts, many=True).data`` of contacts whose phones
    were read apart: the serializers' fields are built once per process (a
    ModelSerializer builds them at every use: a tenth of a lookup's CPU), each field
    represented as DRF's ``Serializer.to_representation`` does it."""

    @cached_property
    def _fields(self) -> list[Field]:
        return list(ContactOutputSerializer()._readable_fields)

    @cached_property
    def _phone(self) -> ContactPhoneOutputSerializer:
        return ContactPhoneOutputSerializer()

    def represent(self, contact: Contact, phones: list[ContactPhone]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for field in self._fields:
            name = str(field.field_name)
            if name == "phones":
                data[name] = [self._phone.to_representation(phone) for phone in phones]
                continue
            try:
                attribute = field.get_attribute(contact)
            except SkipField:
                continue
            data[name] = None if attribute is None else field.to_representation(attribute)
        return data


_LOOKUP_OUTPUT = _ContactsOutput()
