"""config/logging.py: readable lines by default, one valid JSON object per line on demand."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import logging.config
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.logging import JsonFormatter, logging_config
from tests.realtime.servers import daphne, until_up


def _capture(fmt: str) -> tuple[logging.Logger, io.StringIO]:
    config = logging_config(level="INFO", fmt=fmt)
    formatter: logging.Formatter = JsonFormatter()
    if fmt == "plain":
        formatter = logging.Formatter(config["formatters"]["plain"]["format"])
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger(f"tests.logging.{fmt}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_json_lines_are_valid_json_with_extras_and_tracebacks() -> None:
    logger, stream = _capture("json")
    logger.info("bridge: %s logged in", "asterisk:1", extra={"connection": "asterisk:1"})
    try:
        raise ValueError("boom\nwith a newline")
    except ValueError:
        logger.exception("batch failed", extra={"batch": 12, "odd": object()})
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2  # one line per record, even with a multi-line traceback
    first, second = (json.loads(line) for line in lines)
    assert first["message"] == "bridge: asterisk:1 logged in"
    assert first["level"] == "INFO" and first["logger"] == "tests.logging.json"
    assert first["connection"] == "asterisk:1"
    assert first["ts"].endswith("+00:00") and isinstance(first["pid"], int)
    assert second["level"] == "ERROR" and second["batch"] == 12
    assert "ValueError: boom" in second["exc"]
    assert second["odd"].startswith("<object object")  # not JSON: logged as its text


def test_plain_is_the_default_and_readable() -> None:
    logger, stream = _capture("plain")
    logger.warning("AMI %s: connection closed", "pbx")
    line = stream.getvalue().strip()
    assert line.endswith("WARNING tests.logging.plain AMI pbx: connection closed")


def test_the_settings_build_a_working_configuration() -> None:
    for fmt in ("plain", "json"):
        logging.config.dictConfig(logging_config(level="INFO", fmt=fmt))
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)  # back to the project's own


def test_an_unknown_format_is_a_clear_error() -> None:
    with pytest.raises(ImproperlyConfigured, match="LOG_FORMAT='xml'"):
        logging_config(level="INFO", fmt="xml")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("debug", ["true", "false"])
def test_a_refused_request_is_logged_once_by_a_real_server(tmp_path: Path, debug: str) -> None:
    # Django's own logging configuration gave the "django" logger a console handler
    # besides ours: with DEBUG on each 4xx was written twice, once bare, once formatted.
    with daphne(tmp_path, DJANGO_DEBUG=debug) as server:
        asyncio.run(until_up(server))
        for path, status in (("/nope/", 404), ("/api/v1/contacts/", 401)):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(f"{server.base}{path}", timeout=10)
            assert refused.value.code == status
        server.stop()  # everything it logged is written
        lines = server.log().splitlines()
    for message in ("Not Found: /nope/", "Unauthorized: /api/v1/contacts/"):
        matching = [line for line in lines if message in line]
        assert len(matching) == 1, lines
        assert " WARNING django.request " in matching[0]  # the formatted line, not a bare one
