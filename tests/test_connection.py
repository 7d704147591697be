"""DirectConnection's rules against a fake transport (the real socket is tests/test_transport.py):
frames go out at once and in order; a client is dropped with 4009 once more than the limit
waits for it, not counting its largest frame, so a big welcome on a slow phone is no reason."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.connection import DirectConnection

LIMIT = 16 * 1024


@dataclass
class FakeWriter:
    """A transport whose peer reads only when the test says so."""

    written: list[str] = field(default_factory=list)
    buffered: int = 0
    closed: tuple[int, str] | None = None
    gone: bool = False

    def write_text(self, text: str) -> bool:
        if self.gone or self.closed:
            return False
        self.written.append(text)
        self.buffered += len(text)
        return True

    def buffered_bytes(self) -> int:
        return self.buffered

    def close_now(self, code: int, reason: str, abort_after_seconds: float) -> None:
        self.closed = (code, reason)

    def peer_reads_everything(self) -> None:
        self.buffered = 0


def test_frames_are_written_at_once_and_in_order() -> None:
    writer = FakeWriter()
    connection = DirectConnection(writer, LIMIT, close_grace_seconds=5)
    for index in range(5):
        connection.send(f"frame {index}")
    assert writer.written == [f"frame {index}" for index in range(5)]
    assert writer.closed is None


def test_a_client_too_far_behind_is_closed_with_4009_and_sent_nothing_more() -> None:
    writer = FakeWriter()
    connection = DirectConnection(writer, LIMIT, close_grace_seconds=5)
    frame = "x" * 1000
    while writer.closed is None:
        connection.send(frame)
        assert len(writer.written) < 100, "never dropped"
    assert writer.closed[0] == 4009
    sent = len(writer.written)
    assert sent * len(frame) > LIMIT
    connection.send(frame)
    writer.peer_reads_everything()
    connection.send(frame)
    assert len(writer.written) == sent, "nothing after the close"


def test_one_big_welcome_on_a_slow_phone_does_not_count_against_it() -> None:
    writer = FakeWriter()
    connection = DirectConnection(writer, LIMIT, close_grace_seconds=5)
    connection.send("w" * (10 * LIMIT))  # a snapshot of a big board, not yet read
    for _ in range(10):
        connection.send("spectrum")
    assert writer.closed is None
    assert writer.written[1:] == ["spectrum"] * 10


def test_a_client_that_reads_again_in_time_is_kept() -> None:
    writer = FakeWriter()
    connection = DirectConnection(writer, LIMIT, close_grace_seconds=5)
    for _ in range(200):
        connection.send("y" * 500)
        if writer.buffered > LIMIT // 2:
            writer.peer_reads_everything()
    assert writer.closed is None and len(writer.written) == 200


def test_after_the_socket_went_away_sends_are_dropped_quietly() -> None:
    writer = FakeWriter()
    connection = DirectConnection(writer, LIMIT, close_grace_seconds=5)
    connection.send("one")
    writer.gone = True
    connection.send("two")
    writer.gone = False
    connection.send("three")
    assert writer.written == ["one"]
    assert writer.closed is None
