"""The REST API's parsers: DRF's, with client text checked at the edge.

JSON is parsed through ``contactcenter.safejson`` (no NUL, no lone surrogate, bounded
nesting), and form values are held to the same text rule, so a body no database column
could store is a 400 ``parse_error`` here instead of a server error at save time.
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from typing import Any

from django.http import QueryDict
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json

from contactcenter import safejson


def _encoding(parser_context: Mapping[str, Any] | None) -> str:
    # DRF's own reading of the charset (refuses a non-text one); not in its stubs.
    encoding: str = getattr(parsers, "get_encoding")(parser_context or {})  # noqa: B009
    return encoding


def check_text(data: QueryDict) -> None:
    """Refuse (400 ``parse_error``) form or query values, or names, holding a NUL or a
    lone surrogate."""
    for key, values in data.lists():
        if safejson.bad_text(key) or any(safejson.bad_text(str(v)) for v in values):
            raise ParseError("Text may not hold NUL characters or lone surrogates.")


class JSONParser(parsers.JSONParser):
    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            text = codecs.getreader(_encoding(parser_context))(stream).read()
            parse_constant = json.strict_constant if self.strict else None
            return safejson.loads(text, parse_constant=parse_constant)
        except safejson.RefusedJSON as exc:
            raise ParseError(f"JSON refused - {exc.message}") from None
        except ValueError as exc:  # UnicodeDecodeError too
            raise ParseError(f"JSON parse error - {exc}") from None


class FormParser(parsers.FormParser):
    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        data = super().parse(stream, media_type, parser_context)
        check_text(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> parsers.DataAndFiles:
        parsed = super().parse(stream, media_type, parser_context)
        check_text(parsed.data)
        return parsed
