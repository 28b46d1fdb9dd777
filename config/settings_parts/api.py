"""The REST API: authentication, permissions, filters, parsers, errors, rate limits,
JSON Web Tokens and its OpenAPI documents."""

from __future__ import annotations

from datetime import timedelta

from config.env import env_bool, env_int, env_str
from config.ratelimits import parse_rate
from config.settings_parts.core import DEBUG, SECRET_KEY

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # simplejwt's, refusing tokens issued before the user's last revocation.
        "contactcenter.api.authentication.JWTAuthentication",
        # "Authorization: Api-Key <key>" for REST clients (contactcenter/api/apikeys_auth.py).
        "contactcenter.api.apikeys_auth.APIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["contactcenter.api.permissions.IsOrganizationMember"],
    "DEFAULT_FILTER_BACKENDS": [
        # django-filter's, relations filtering by id (contactcenter/api/filtering.py).
        "contactcenter.api.filtering.FilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "contactcenter.api.pagination.DefaultPagination",
    # DRF's parsers with client text checked at the edge (no NUL, no lone surrogate,
    # bounded JSON nesting): contactcenter/api/parsers.py.
    "DEFAULT_PARSER_CLASSES": [
        "contactcenter.api.parsers.JSONParser",
        "contactcenter.api.parsers.FormParser",
        "contactcenter.api.parsers.MultiPartParser",
    ],
    # drf-standardized-errors' schema, valid OpenAPI (contactcenter/api/schema.py).
    "DEFAULT_SCHEMA_CLASS": "contactcenter.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    # Per user and per API key within their organization, and per organization; reads,
    # writes and exports apart (contactcenter/api/throttling.py, RATE_LIMITS below).
    "DEFAULT_THROTTLE_CLASSES": ["contactcenter.api.throttling.OrganizationRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"auth": env_str("AUTH_THROTTLE_RATE", "30/minute")},
    # REMOTE_ADDR is the client already (config/proxy.py); never X-Forwarded-For again.
    "NUM_PROXIES": 0,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
if not DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = ["rest_framework.renderers.JSONRenderer"]

# REST rate limits (docs/security.md): "<count>/<second|minute|hour|day>", 0: none.
RATE_LIMITS_ENABLED = env_bool("RATE_LIMITS_ENABLED", True)
RATE_LIMITS_KEY_PREFIX = env_str("RATE_LIMITS_KEY_PREFIX", "cc:rate")

# One caller: a user (all their sessions and tokens together) or one API key.
RATE_LIMITS = {
    kind: parse_rate(env_str(name := f"RATE_LIMIT_{kind.upper()}", default), setting=name)
    for kind, default in {"read": "1200/minute", "write": "300/minute", "export": "30/hour"}.items()
}
# Everyone of one organization together.
RATE_LIMITS_ORGANIZATION = {
    kind: parse_rate(
        env_str(name := f"RATE_LIMIT_ORGANIZATION_{kind.upper()}", default), setting=name
    )
    for kind, default in {
        "read": "12000/minute",
        "write": "3000/minute",
        "export": "300/hour",
    }.items()
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 1)),
    "SIGNING_KEY": env_str("JWT_SIGNING_KEY", SECRET_KEY),
    "UPDATE_LAST_LOGIN": True,
    # A refresh token works once: the answer carries the next one (contactcenter/api/auth.py).
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
}

# /api/schema/ and /api/docs/ for anyone, or for signed-in users only (config/apidocs.py).
API_DOCS_PUBLIC = env_bool("API_DOCS_PUBLIC", False)

SPECTACULAR_SETTINGS = {
    "SERVE_PERMISSIONS": ["config.apidocs.ApiDocsAccess"],
    "TITLE": "Contact-center API",
    "DESCRIPTION": "CRUD on contacts, cases, calls, dispositions, queues, agents, "
    "notifications and telephony connections, scoped to the caller's organization.",
    "VERSION": "1.0.0",
    # Tags and operation ids from the path after /api/v1/ ("contacts", "contacts_list"),
    # so a generated client has a module per resource, not one "v1" module.
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    # Request bodies documented as JSON only (forms are still parsed): one body type per
    # operation is what generators handle (openapi-python-client emitted a union of three
    # identical models that did not import).
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # drf-standardized-errors' documented overrides, so its error enums get stable names.
    "ENUM_NAME_OVERRIDES": {
        name: f"drf_standardized_errors.openapi_serializers.{name}.choices"
        for name in [
            "ValidationErrorEnum",
            "ClientErrorEnum",
            "ServerErrorEnum",
            "ErrorCode401Enum",
            "ErrorCode403Enum",
            "ErrorCode404Enum",
            "ErrorCode405Enum",
            "ErrorCode406Enum",
            "ErrorCode415Enum",
            "ErrorCode429Enum",
            "ErrorCode500Enum",
        ]
    }
    | {
        # Several models share field names (status, state, priority) with other choices.
        "CallStatusEnum": "contactcenter.enums.CallStatus",
        "TransferStatusEnum": "contactcenter.enums.TransferStatus",
        "AgentStateEnum": "contactcenter.enums.AgentState",
        "SelectableAgentStateEnum": "contactcenter.transitions.AGENT_SELECTABLE_CHOICES",
        "CaseStatusEnum": "crm.enums.CaseStatus",
        "CasePriorityEnum": "crm.enums.CasePriority",
        "NotificationKindEnum": "crm.enums.NotificationKind",
        # A member's role, and the narrower one an API key may hold.
        "RoleEnum": "contactcenter.enums.Role",
        "ApiKeyRoleEnum": "contactcenter.models.apikeys.KEY_ROLES",
        # The 401 codes of simplejwt and our revocation too (contactcenter/api/schema.py).
        "ErrorCode401Enum": "contactcenter.api.schema.ErrorCode401Enum",
    },
    "POSTPROCESSING_HOOKS": ["drf_standardized_errors.openapi_hooks.postprocess_schema_enums"],
}

DRF_STANDARDIZED_ERRORS = {
    "ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": True,
    # Ours maps ApplicationError and model ValidationError; set as the class (not a
    # wrapper function) so the schema lists the error responses of every endpoint.
    "EXCEPTION_HANDLER_CLASS": "contactcenter.api.errors.ProjectExceptionHandler",
    "ERROR_SCHEMAS": {"401": "contactcenter.api.schema.ErrorResponse401Serializer"},
}
