from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telephony.ami.frames import (
    AmiMessage,
    Banner,
    Frame,
    FrameError,
    FrameErrorKind,
    FrameParser,
    parse_frames,
    serialize,
    serialize_banner,
)
from tests.telephony.conftest import TRANSCRIPT_NAMES, TRANSCRIPTS

PING = b"Action: Ping\r\nActionID: 1\r\n\r\n"


def messages(frames: list[Frame]) -> list[AmiMessage]:
    return [frame for frame in frames if isinstance(frame, AmiMessage)]


def errors(frames: list[Frame]) -> list[FrameError]:
    return [frame for frame in frames if isinstance(frame, FrameError)]


def feed_in_pieces(data: bytes, *cuts: int, **options: int) -> list[Frame]:
    parser = FrameParser(**options)
    frames: list[Frame] = []
    start = 0
    for cut in (*cuts, len(data)):
        frames += parser.feed(data[start:cut])
        start = cut
    return frames


class TestParser:
    def test_crlf_message(self) -> None:
        [message] = FrameParser().feed(b"Event: Newchannel\r\nChannel: PJSIP/1001-1\r\n\r\n")
        assert message == AmiMessage((("Event", "Newchannel"), ("Channel", "PJSIP/1001-1")))

    def test_bare_lf_and_mixed_line_ends(self) -> None:
        frames = FrameParser().feed(b"Event: A\nX: 1\r\n\nEvent: B\r\n\r\n")
        assert [m.event for m in messages(frames)] == ["A", "B"]
        assert messages(frames)[0].get("X") == "1"

    def test_lookups_ignore_case_and_keys_keep_it(self) -> None:
        [message] = FrameParser().feed(b"Event: Hangup\r\nUniqueID: 1.2\r\n\r\n")
        assert message.get("uniqueid") == message["UNIQUEID"] == "1.2"
        assert "UNIQUEID" in message
        assert message.fields[1][0] == "UniqueID"
        assert message.get("missing") is None
        with pytest.raises(KeyError):
            message["missing"]

    def test_repeated_keys_stay_in_order(self) -> None:
        data = b"Event: X\r\nChanVariable: a=1\r\nchanvariable: b=2\r\nChanVariable: c=\r\n\r\n"
        [message] = FrameParser().feed(data)
        assert message.get_all("ChanVariable") == ["a=1", "b=2", "c="]
        assert message.get("chanvariable") == "a=1"

    def test_empty_values(self) -> None:
        [message] = FrameParser().feed(b"Event: X\r\nAccountCode: \r\nBridgeId:\r\n\r\n")
        assert message.get("AccountCode") == ""
        # "Key:" without its space (a stripping proxy) is read as an empty value too.
        assert message.get("BridgeId") == ""

    def test_values_keep_colons_and_spaces(self) -> None:
        [message] = FrameParser().feed(b'Event: X\r\nCallerID: "A: B" <1>\r\nData:  x \r\n\r\n')
        assert message.get("CallerID") == '"A: B" <1>'
        assert message.get("Data") == " x "

    def test_malformed_line_is_reported_and_skipped(self) -> None:
        frames = FrameParser().feed(b"Event: X\r\nthis is not a field\r\nA: 1\r\n\r\n" + PING)
        assert [e.kind for e in errors(frames)] == [FrameErrorKind.MALFORMED_LINE]
        assert errors(frames)[0].raw == b"this is not a field"
        first, second = messages(frames)
        assert first.fields == (("Event", "X"), ("A", "1"))
        assert second.action == "Ping"

    def test_key_with_space_is_malformed(self) -> None:
        frames = FrameParser().feed(b"Bad Key: 1\r\nGood: 2\r\n\r\n")
        assert len(errors(frames)) == 1
        assert messages(frames)[0].fields == (("Good", "2"),)

    def test_banner(self) -> None:
        frames = FrameParser().feed(b"Asterisk Call Manager/9.0.0\r\n" + PING)
        assert frames[0] == Banner("9.0.0")
        assert messages(frames)[0].action == "Ping"

    def test_banner_split_across_reads(self) -> None:
        frames = feed_in_pieces(b"Asterisk Call Manager/9.0.0\r\n" + PING, 5, 29)
        assert frames[0] == Banner("9.0.0")
        assert len(messages(frames)) == 1

    def test_garbage_bytes_then_recovery(self) -> None:
        garbage = bytes(range(256)) * 3
        frames = FrameParser().feed(garbage + b"\r\n\r\n" + PING)
        assert errors(frames)
        assert messages(frames)[-1].action == "Ping"

    def test_undecodable_line_is_reported_the_rest_kept(self) -> None:
        data = b"Event: X\r\nCallerIDName: Jos\xe9\r\nA: 1\r\n\r\n" + PING
        frames = FrameParser().feed(data)
        assert [e.kind for e in errors(frames)] == [FrameErrorKind.UNDECODABLE]
        first, second = messages(frames)
        assert first.fields == (("Event", "X"), ("A", "1"))
        assert second.action == "Ping"

    def test_nul_is_replaced_and_reported_the_message_kept(self) -> None:
        # No text column of PostgreSQL holds a NUL: a caller name with one once made the
        # database refuse the call's first fact. Replaced here, on every path at once.
        data = b"Event: X\r\nCallerIDName: JOHN\x00SMITH\r\nA: 1\r\n\r\n" + PING
        for frames in (FrameParser().feed(data), feed_in_pieces(data, 20, 27)):
            assert [e.kind for e in errors(frames)] == [FrameErrorKind.NUL_REPLACED]
            assert errors(frames)[0].raw == b"CallerIDName: JOHN\x00SMITH"
            first, second = messages(frames)
            assert first.fields == (("Event", "X"), ("CallerIDName", "JOHN\ufffdSMITH"), ("A", "1"))
            assert second.action == "Ping"

    def test_nul_beside_an_undecodable_line(self) -> None:
        data = b"Event: X\r\nA: \xe9\r\nB: \x00\r\n\r\n"
        frames = FrameParser().feed(data)
        kinds = [e.kind for e in errors(frames)]
        assert kinds == [FrameErrorKind.UNDECODABLE, FrameErrorKind.NUL_REPLACED]
        assert messages(frames)[0].fields == (("Event", "X"), ("B", "\ufffd"))

    def test_multibyte_character_split_between_reads(self) -> None:
        data = "Event: X\r\nCallerIDName: José Müller\r\n\r\n".encode()
        cut = data.index("é".encode()) + 1
        frames = feed_in_pieces(data, cut)
        assert not errors(frames)
        assert messages(frames)[0].get("CallerIDName") == "José Müller"

    def test_oversized_message_is_skipped(self) -> None:
        big = b"Event: Big\r\n" + b"".join(b"K%d: %s\r\n" % (i, b"v" * 40) for i in range(20))
        frames = FrameParser(max_message_bytes=256).feed(big + b"\r\n" + PING)
        assert [e.kind for e in errors(frames)] == [FrameErrorKind.OVERSIZED]
        assert [m.action for m in messages(frames)] == ["Ping"]

    def test_oversized_line_without_newline_does_not_grow_the_buffer(self) -> None:
        parser = FrameParser(max_message_bytes=256)
        frames: list[Frame] = []
        for _ in range(100):
            frames += parser.feed(b"x" * 1000)
            assert parser.buffered <= 256 + 1000
        frames += parser.feed(b"\r\n\r\n" + PING)
        assert [e.kind for e in errors(frames)] == [FrameErrorKind.OVERSIZED]
        assert [m.action for m in messages(frames)] == ["Ping"]

    def test_oversized_across_many_reads_is_one_error(self) -> None:
        parser = FrameParser(max_message_bytes=128)
        frames: list[Frame] = []
        for i in range(50):
            frames += parser.feed(b"Key%d: %s\r\n" % (i, b"v" * 30))
        frames += parser.feed(b"\r\n" + PING)
        assert len(errors(frames)) == 1
        assert [m.action for m in messages(frames)] == ["Ping"]

    def test_split_at_every_byte_boundary(self) -> None:
        data = (TRANSCRIPTS / "09_reconnect_resync.ami").read_bytes()[:2500]
        data = data[: data.rindex(b"\r\n\r\n") + 4]
        whole = FrameParser().feed(data)
        assert len(messages(whole)) > 5
        for cut in range(1, len(data)):
            assert feed_in_pieces(data, cut) == whole

    @pytest.mark.parametrize("name", TRANSCRIPT_NAMES)
    def test_transcript_byte_by_byte_equals_at_once(self, name: str) -> None:
        data = (TRANSCRIPTS / name).read_bytes()
        whole = FrameParser().feed(data)
        parser = FrameParser()
        dribbled: list[Frame] = []
        for index in range(len(data)):
            dribbled += parser.feed(data[index : index + 1])
        assert dribbled == whole
        assert not errors(whole)
        assert isinstance(whole[0], Banner)
        assert data.count(b"\r\n\r\n") == len(messages(whole))

    def test_parse_frames_accepts_a_missing_final_blank_line(self) -> None:
        assert [m.event for m in messages(parse_frames(b"Event: A\r\n\r\nEvent: B\r\n"))] == [
            "A",
            "B",
        ]


class TestSerializer:
    def test_wire_form(self) -> None:
        message = AmiMessage.of(("Event", "X"), ("AccountCode", ""), Exten="s")
        assert serialize(message) == b"Event: X\r\nAccountCode: \r\nExten: s\r\n\r\n"

    def test_banner(self) -> None:
        assert serialize_banner("9.0.0") == b"Asterisk Call Manager/9.0.0\r\n"

    @pytest.mark.parametrize(
        ("key", "value"),
        [("A", "x\r\nEvent: Injected"), ("A", "x\ny"), ("Bad Key", "1"), ("", "1")],
    )
    def test_refuses_what_would_break_framing(self, key: str, value: str) -> None:
        with pytest.raises(ValueError):
            serialize([(key, value)])

    @pytest.mark.parametrize("name", TRANSCRIPT_NAMES)
    def test_transcripts_round_trip_byte_for_byte(self, name: str) -> None:
        data = (TRANSCRIPTS / name).read_bytes()
        banner_end = data.index(b"\r\n") + 2
        parsed = messages(FrameParser().feed(data))
        assert b"".join(serialize(m) for m in parsed) == data[banner_end:]

    def test_message_helpers(self) -> None:
        message = AmiMessage.of(("Event", "X"), ("ActionID", "1"), ("A", "1"))
        assert message.with_field("actionid", "2").action_id == "2"
        assert message.with_field("New", "v").fields[-1] == ("New", "v")
        assert "ActionID" not in message.without("ACTIONID")
        assert len(message) == 3
        assert next(iter(message)) == ("Event", "X")


keys = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1).filter(
    lambda key: ":" not in key
)
# No NUL: the parser repairs and reports it (test_nul_is_replaced_and_reported...).
values = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00"),
    max_size=40,
)
fields = st.lists(st.tuples(keys, values), min_size=1, max_size=8)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.lists(st.integers(0, 600), max_size=5))
def test_fuzz_never_raises_and_recovers(garbage: bytes, cuts: list[int]) -> None:
    """Whatever came before, a blank line and a message give that message back."""
    data = garbage + b"\r\n\r\n" + PING
    cuts = sorted({min(cut, len(data)) for cut in cuts})
    frames = feed_in_pieces(data, *cuts, max_message_bytes=256)
    assert messages(frames)[-1] == AmiMessage((("Action", "Ping"), ("ActionID", "1")))


@settings(max_examples=200, deadline=None)
@given(st.lists(fields, min_size=1, max_size=5), st.lists(st.integers(0, 2000), max_size=6))
def test_fuzz_valid_streams_parse_the_same_however_they_are_cut(
    batch: list[list[tuple[str, str]]], cuts: list[int]
) -> None:
    data = b"".join(serialize(pairs) for pairs in batch)
    cuts = sorted({min(cut, len(data)) for cut in cuts})
    frames = feed_in_pieces(data, *cuts)
    assert not errors(frames)
    assert [m.fields for m in messages(frames)] == [tuple(pairs) for pairs in batch]
