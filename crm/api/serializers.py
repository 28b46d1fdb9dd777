"""Input and output serializers of the crm API.

Input serializers check shapes and types and resolve ids (to the caller's organization
only, with TenantRelatedField); the services check the rules. Output serializers are
read-only views of the rows.
"""

from __future__ import annotations

from rest_framework import serializers

from contactcenter.api.tenancy import TenantRelatedField
from contactcenter.models import Agent, Call
from crm.enums import CasePriority, CaseStatus, PhoneLabel
from crm.models import (
    Case,
    CaseCategory,
    CaseHistory,
    CaseNote,
    Contact,
    ContactPhone,
    Notification,
)

# --- Contacts ---------------------------------------------------------------------------


class PhoneInputSerializer(serializers.Serializer):
    # Any written form; the service turns it into E.164 in the organization's region.
    number = serializers.CharField(max_length=64)
    # Field names that shadow Field attributes in the stubs ("label", "parent") need the ignore.
    label = serializers.ChoiceField(  # type: ignore[assignment]
        choices=PhoneLabel.choices, default=PhoneLabel.MOBILE
    )


class ContactInputSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=100, allow_blank=True, required=False)
    last_name = serializers.CharField(max_length=100, allow_blank=True, required=False)
    company = serializers.CharField(max_length=200, allow_blank=True, required=False)
    email = serializers.EmailField(allow_blank=True, required=False)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=64), max_length=100, required=False
    )
    custom_fields = serializers.DictField(required=False)
    # A ListField, not many=True: a non-list then answers on "phones", not on
    # "phones.non_field_errors".
    phones = serializers.ListField(
        child=PhoneInputSerializer(), required=False, help_text="Replaces the whole list."
    )


class ContactPhoneOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContactPhone
        fields = ["id", "number", "label"]
        read_only_fields = fields


class ContactOutputSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)
    phones = ContactPhoneOutputSerializer(many=True, read_only=True)
    tags = serializers.ListField(child=serializers.CharField(), read_only=True)
    custom_fields = serializers.DictField(read_only=True)

    class Meta:
        model = Contact
        fields = [
            "id",
            "display_name",
            "first_name",
            "last_name",
            "company",
            "email",
            "phones",
            "tags",
            "custom_fields",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


# --- Cases ------------------------------------------------------------------------------


class CaseInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300)
    description = serializers.CharField(allow_blank=True, required=False)
    status = serializers.ChoiceField(choices=CaseStatus.choices, required=False)
    priority = serializers.ChoiceField(choices=CasePriority.choices, required=False)
    category = TenantRelatedField(CaseCategory, allow_null=True, required=False)
    assigned_agent = TenantRelatedField(Agent, allow_null=True, required=False)
    contact = TenantRelatedField(Contact, allow_null=True, required=False)
    source_call = TenantRelatedField(Call, allow_null=True, required=False)
    due_at = serializers.DateTimeField(allow_null=True, required=False)


class LegalHoldInputSerializer(serializers.Serializer):
    held = serializers.BooleanField()


class CaseOutputSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True, help_text='"CASE-000042"')

    class Meta:
        model = Case
        fields = [
            "id",
            "number",
            "reference",
            "title",
            "description",
            "status",
            "priority",
            "category",
            "assigned_agent",
            "contact",
            "source_call",
            "origin",
            "source_disposition",
            "legal_hold",
            "due_at",
            "overdue_at",
            "resolved_at",
            "closed_at",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CaseNoteInputSerializer(serializers.Serializer):
    body = serializers.CharField()


class CaseNoteOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = CaseNote
        fields = ["id", "case", "author", "body", "created_at"]
        read_only_fields = fields


class CaseHistoryOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = CaseHistory
        fields = ["id", "field", "old_value", "new_value", "changed_by", "changed_at"]
        read_only_fields = fields


# --- Case categories --------------------------------------------------------------------


class CaseCategoryInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    parent = TenantRelatedField(  # type: ignore[assignment]
        CaseCategory, allow_null=True, required=False
    )


class CaseCategoryOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = CaseCategory
        fields = ["id", "name", "parent"]
        read_only_fields = fields


# --- Notifications ----------------------------------------------------------------------


class NotificationOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "data", "read_at", "created_at"]
        read_only_fields = fields


class MarkAllReadOutputSerializer(serializers.Serializer):
    updated = serializers.IntegerField(help_text="How many notifications were marked read.")
