"""deploy/asterisk's call-log samples against what the backfill reads (telephony/cel/).

cel.conf must log every CEL event the conversion reads; the tables the samples write
are the connection record's defaults; times are written in UTC, the default zone.
"""

from __future__ import annotations

import re

from telephony.models import AsteriskConnection
from tests.deploy.asterisk_conf import ASTERISK, ROOT, _values, parse_conf


def _default(field: str) -> str:
    return str(AsteriskConnection._meta.get_field(field).default)


def test_cel_logs_every_event_the_backfill_reads() -> None:
    (general,) = [parse_conf(ASTERISK / "cel.conf")["general"]]
    assert _values(general, "enable") == ["yes"]
    (events,) = _values(general, "events")
    logged = set(events.split(","))
    source = (ROOT / "telephony" / "cel" / "convert.py").read_text()
    read = set(re.findall(r'eventtype (?:==|in) \(?"([A-Z_]+)"', source))
    read |= set(re.findall(r'"(BLINDTRANSFER|ATTENDEDTRANSFER|CHAN_START|HANGUP)"', source))
    assert read, "the conversion names the CEL events it reads"
    assert read <= logged, read - logged
    assert "LINKEDID_END" in logged


def test_the_samples_write_the_tables_and_zone_a_record_reads_by_default() -> None:
    cel = parse_conf(ASTERISK / "cel_pgsql.conf")["global"]
    assert _values(cel, "table") == [_default("cel_table")]
    assert _values(cel, "usegmtime") == ["yes"] and _default("cel_time_zone") == "UTC"
    cdr = parse_conf(ASTERISK / "cdr_pgsql.conf")["global"]
    assert _values(cdr, "table") == [_default("cel_cdr_table")]
    assert _values(cdr, "timezone") == ["UTC"]
    realtime = parse_conf(ASTERISK / "extconfig.conf")["settings"]
    (queue_log,) = _values(realtime, "queue_log")
    assert queue_log.split(",")[0] == "pgsql"
    assert queue_log.split(",")[-1] == _default("cel_queue_log_table")
