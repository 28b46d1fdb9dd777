"""Telephony connection records, admin only. Secrets are write-only: never returned."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from rest_framework import serializers

from contactcenter.api.config import ConfigViewSet
from contactcenter.api.permissions import ADMIN_ONLY
from telephony.cel.source import parse_url
from telephony.egress import TargetRefused, check_target
from telephony.models import AsteriskConnection, TwilioAccount
from telephony.twilio.accounts import twilio_account_create, twilio_account_update


class AsteriskConnectionSerializer(serializers.ModelSerializer[AsteriskConnection]):
    secret = serializers.CharField(
        write_only=True, max_length=255, style={"input_type": "password"}
    )
    has_secret = serializers.SerializerMethodField()
    cel_password = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=255,
        style={"input_type": "password"},
    )
    has_cel_password = serializers.SerializerMethodField()

    class Meta:
        model = AsteriskConnection
        fields = [
            "id",
            "name",
            "host",
            "port",
            "username",
            "secret",
            "has_secret",
            "is_enabled",
            "cel_url",
            "cel_password",
            "has_cel_password",
            "cel_table",
            "cel_queue_log_table",
            "cel_cdr_table",
            "cel_time_zone",
            "trunks",
            "inbound_contexts",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        validators: list[Any] = []

    def get_has_secret(self, obj: AsteriskConnection) -> bool:
        return bool(obj.secret)

    def get_has_cel_password(self, obj: AsteriskConnection) -> bool:
        return bool(obj.cel_password)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Where the bridge may connect is the operator's policy (telephony/egress.py),
        checked when the target changes: an update that only disables a record whose
        target the operator no longer allows must still go through."""
        if self.instance is None or "host" in attrs or "port" in attrs:
            host = attrs.get("host", getattr(self.instance, "host", ""))
            port = attrs.get("port", getattr(self.instance, "port", 5038))
            try:
                check_target(host, port)
            except TargetRefused as exc:
                raise serializers.ValidationError(
                    {"host": [str(exc)]}, code="target_refused"
                ) from exc
        if attrs.get("cel_url"):
            # The PBX's log database: the same policy as its AMI target.
            try:
                parts = parse_url(attrs["cel_url"], allow_password=False)
                check_target(parts.host, parts.port)
            except (ValidationError, TargetRefused) as exc:
                raise serializers.ValidationError(
                    {"cel_url": [str(getattr(exc, "message", exc))]}, code="target_refused"
                ) from exc
        return attrs


class TwilioAccountSerializer(serializers.ModelSerializer[TwilioAccount]):
    auth_token = serializers.CharField(
        write_only=True, max_length=128, style={"input_type": "password"}
    )
    has_auth_token = serializers.SerializerMethodField()
    api_key_secret = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=128,
        style={"input_type": "password"},
    )
    has_api_key_secret = serializers.SerializerMethodField()

    class Meta:
        model = TwilioAccount
        fields = [
            "id",
            "account_sid",
            "auth_token",
            "has_auth_token",
            "api_key_sid",
            "api_key_secret",
            "has_api_key_secret",
            "twiml_app_sid",
            "caller_id",
            "is_enabled",
            "recordings_delete_after_copy",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        validators: list[Any] = []
        # The SID's format only: its uniqueness (another organization's SID) is answered
        # like refused credentials, by telephony.twilio.accounts, never "already exists".
        extra_kwargs = {
            "account_sid": {"validators": TwilioAccount._meta.get_field("account_sid").validators}
        }

    def get_has_auth_token(self, obj: TwilioAccount) -> bool:
        return bool(obj.auth_token)

    def get_has_api_key_secret(self, obj: TwilioAccount) -> bool:
        return bool(obj.api_key_secret)


class _ConnectionViewSet(ConfigViewSet):
    read_roles = ADMIN_ONLY
    write_roles = ADMIN_ONLY


class AsteriskConnectionViewSet(_ConnectionViewSet):
    queryset = AsteriskConnection.objects.all()
    serializer_class = AsteriskConnectionSerializer
    filterset_fields = ["is_enabled"]
    search_fields = ["name", "host"]
    ordering_fields = ["name", "created_at"]


class TwilioAccountViewSet(_ConnectionViewSet):
    """Set up only with credentials Twilio accepts (telephony.twilio.accounts)."""

    queryset = TwilioAccount.objects.all()
    serializer_class = TwilioAccountSerializer
    filterset_fields = ["is_enabled"]
    ordering_fields = ["created_at"]

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = twilio_account_create(
            organization=self.membership.organization, values=serializer.validated_data
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = twilio_account_update(
            account=serializer.instance, values=serializer.validated_data
        )
