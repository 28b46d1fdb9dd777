"""The one application error type. Services raise it; one API handler renders it."""

from __future__ import annotations


class ApplicationError(Exception):
    """A request the domain refuses: bad state, a rule broken, a conflict.

    ``field`` names the input field at fault, when there is one, so the API can render
    it like a validation error; ``status`` is the HTTP status the API answers with.
    """

    def __init__(
        self, message: str, *, code: str = "invalid", field: str | None = None, status: int = 400
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field
        self.status = status


class NotFound(ApplicationError):
    def __init__(self, message: str = "Not found.", *, field: str | None = None) -> None:
        super().__init__(message, code="not_found", field=field, status=404)


class PermissionDenied(ApplicationError):
    def __init__(self, message: str = "You do not have permission to do this.") -> None:
        super().__init__(message, code="permission_denied", status=403)
