"""A twilio HttpClient that records requests and answers canned responses: no network."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from twilio.http import HttpClient
from twilio.http.response import Response


@dataclass(frozen=True)
class Sent:
    method: str
    uri: str
    params: dict[str, Any]
    data: dict[str, Any]
    auth: tuple[str, str] | None


class RecordingHttpClient(HttpClient):
    def __init__(self, *responses: Response | Exception) -> None:
        super().__init__(logger=logging.getLogger(__name__), is_async=False)
        self.responses = list(responses)
        self.sent: list[Sent] = []

    def request(
        self,
        method: str,
        uri: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        self.sent.append(Sent(method, uri, dict(params or {}), dict(data or {}), auth))
        answer = self.responses.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def call_json(sid: str, status: str = "queued", http_status: int = 200) -> Response:
    body = {"sid": sid, "status": status, "account_sid": "AC" + "ab" * 16}
    return Response(http_status, json.dumps(body))


def error_json(http_status: int, code: int, message: str) -> Response:
    body = {"code": code, "message": message, "status": http_status, "more_info": ""}
    return Response(http_status, json.dumps(body))
