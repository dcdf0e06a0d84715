"""`BufferedSocketStream`: a real trio stream, with bounded line and exact reads.

Over real connected socket pairs. trio's own stream conformance suite
(``trio.testing.check_half_closeable_stream``) proves it behaves as trio's
streams do: checkpoints, closing, half-closing, conflicting calls.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest
import trio
import trio.testing
from hypothesis import given, settings
from hypothesis import strategies as st

from sockserve.trio_backend import BufferedSocketStream, IncompleteReadError, LineTooLongError

Pair = tuple[BufferedSocketStream, BufferedSocketStream]
MakePair = Callable[..., Pair]


def stream_pair(max_size: int = 65536) -> Pair:
    left, right = socket.socketpair()
    return (
        BufferedSocketStream(left, max_size=max_size),
        BufferedSocketStream(right, max_size=max_size),
    )


@pytest.fixture
def pair() -> Iterator[MakePair]:
    """``pair(max_size=...)``: two connected streams; every socket is closed at teardown."""
    made: list[Pair] = []

    def make(max_size: int = 65536) -> Pair:
        made.append(stream_pair(max_size))
        return made[-1]

    yield make
    for streams in made:
        for stream in streams:
            stream.socket.close()


async def make_pair() -> Pair:
    return stream_pair()


async def make_clogged_pair() -> Pair:
    """A pair whose send buffers are both full: a send_all either way waits.

    Both ways, because trio's suite also runs the pair reversed.
    """
    pair = stream_pair()
    for stream in pair:
        while True:
            try:
                stream.socket.send(b"x" * 65536)
            except BlockingIOError:
                break
    return pair


async def test_it_passes_trios_own_half_closeable_stream_suite() -> None:
    await trio.testing.check_half_closeable_stream(make_pair, make_clogged_pair)


async def feed(stream: BufferedSocketStream, *chunks: bytes) -> None:
    """Send ``chunks`` from the peer one at a time, each after the last was received."""
    for chunk in chunks:
        stream.socket.send(chunk)
        await trio.testing.wait_all_tasks_blocked()


async def test_receive_line_returns_a_whole_line_in_one_chunk(pair: MakePair) -> None:
    ours, peer = pair()
    await peer.send_all(b"hello\n")
    assert await ours.receive_line() == b"hello\n"


async def test_receive_line_joins_a_line_split_over_many_receives(pair: MakePair) -> None:
    ours, peer = pair()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(feed, peer, b"hel", b"lo wor", b"ld\nnext")
        assert await ours.receive_line() == b"hello world\n"
    await peer.send_all(b" line\n")
    assert await ours.receive_line() == b"next line\n"


async def test_receive_line_splits_lines_that_arrived_together(pair: MakePair) -> None:
    ours, peer = pair()
    await peer.send_all(b"a\nbb\nccc\n")
    assert [await ours.receive_line() for _ in range(3)] == [b"a\n", b"bb\n", b"ccc\n"]


async def test_at_end_of_file_receive_line_returns_the_rest_then_nothing(pair: MakePair) -> None:
    ours, peer = pair()
    await peer.send_all(b"whole\npartial")
    await peer.send_eof()
    assert await ours.receive_line() == b"whole\n"
    assert await ours.receive_line() == b"partial"
    assert await ours.receive_line() == b""


async def test_an_over_long_line_is_an_error_not_unbounded_memory(pair: MakePair) -> None:
    ours, peer = pair(max_size=16)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(feed, peer, b"x" * 10, b"y" * 10, b"z" * 100)
        with pytest.raises(LineTooLongError, match="16 bytes"):
            await ours.receive_line()
        nursery.cancel_scope.cancel()
    assert len(ours._buffer) <= 16 + 10  # never more than the limit and one receive


async def test_a_line_of_exactly_the_limit_is_accepted(pair: MakePair) -> None:
    ours, peer = pair()
    await peer.send_all(b"a" * 7 + b"\n" + b"b" * 8 + b"\n")
    assert await ours.receive_line(max_size=8) == b"a" * 7 + b"\n"
    with pytest.raises(LineTooLongError):
        await ours.receive_line(max_size=8)


async def test_one_chunk_longer_than_the_limit_is_refused_on_the_fast_path(pair: MakePair) -> None:
    ours, peer = pair()
    await peer.send_all(b"x" * 20 + b"\n")
    with pytest.raises(LineTooLongError):
        await ours.receive_line(max_size=8)


@settings(max_examples=60, deadline=None)
@given(
    lines=st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"") + b"\n"), max_size=8),
    cuts=st.lists(st.integers(min_value=1, max_value=30), max_size=20),
)
async def test_lines_come_out_whole_however_the_bytes_are_cut(
    lines: list[bytes], cuts: list[int]
) -> None:
    data = b"".join(lines)
    chunks, start = [], 0
    for cut in cuts:
        if start >= len(data):
            break
        chunks.append(data[start : start + cut])
        start += cut
    chunks.append(data[start:])
    ours, peer = stream_pair()
    received: list[bytes] = []
    with ours.socket, peer.socket:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(feed, peer, *[c for c in chunks if c])
            for _ in lines:
                received.append(await ours.receive_line())
    assert received == lines


async def test_receive_exactly_waits_for_all_the_bytes(pair: MakePair) -> None:
    ours, peer = pair()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(feed, peer, b"12", b"345", b"6789")
        assert await ours.receive_exactly(4) == b"1234"
        assert await ours.receive_exactly(5) == b"56789"


async def test_receive_exactly_raises_at_an_early_end_of_file(pair: MakePair) -> None:
    ours, peer = pair()
    await peer.send_all(b"abc")
    await peer.send_eof()
    with pytest.raises(IncompleteReadError) as raised:
        await ours.receive_exactly(10)
    assert raised.value.partial == b"abc"
    assert raised.value.expected == 10
    assert isinstance(raised.value, EOFError)


@pytest.mark.parametrize(
    ("count", "error"), [(-1, ValueError), (65537, ValueError), (1.5, TypeError), (True, TypeError)]
)
async def test_receive_exactly_refuses_a_count_it_cannot_take(
    count: object, error: type[Exception], pair: MakePair
) -> None:
    ours, _peer = pair()
    with pytest.raises(error, match=repr(count).replace(".", r"\.")):
        await ours.receive_exactly(count)  # type: ignore[arg-type]


@pytest.mark.parametrize(("bad", "error"), [(0, ValueError), (-5, ValueError), ("8", TypeError)])
def test_a_bad_max_size_names_itself(bad: object, error: type[Exception]) -> None:
    left, right = socket.socketpair()
    with left, right, pytest.raises(error, match="max_size"):
        BufferedSocketStream(left, max_size=bad)  # type: ignore[arg-type]


async def test_receive_some_returns_buffered_bytes_first(pair: MakePair) -> None:
    ours, peer = pair()
    await peer.send_all(b"line\nrest")
    assert await ours.receive_line() == b"line\n"
    assert await ours.receive_some(2) == b"re"
    assert await ours.receive_some() == b"st"


async def test_every_read_is_a_checkpoint_even_from_the_buffer(pair: MakePair) -> None:
    ours, peer = pair()
    await peer.send_all(b"a\nb\ncd" + b"e" * 10)
    with trio.testing.assert_checkpoints():
        await ours.receive_line()
    with trio.testing.assert_checkpoints():
        await ours.receive_line()  # from the buffer
    with trio.testing.assert_checkpoints():
        await ours.receive_exactly(2)
    with trio.testing.assert_checkpoints():
        await ours.receive_some()
    with trio.testing.assert_checkpoints():
        await ours.send_all(b"x")


async def test_a_large_send_waits_for_the_reader_and_arrives_whole(pair: MakePair) -> None:
    ours, peer = pair()
    payload = bytes(range(256)) * 16384  # 4 MiB: far more than a socket buffer
    received = bytearray()

    async def read_all() -> None:
        while len(received) < len(payload):
            received.extend(await peer.receive_some())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(read_all)
        await ours.send_all(memoryview(payload))
    assert received == payload


async def test_a_reset_connection_is_a_broken_resource(pair: MakePair) -> None:
    ours, peer = pair()
    peer.socket.close()

    async def send_until_it_fails() -> None:
        for _ in range(100):  # the first sends may still be buffered
            await ours.send_all(b"x" * 65536)

    with pytest.raises(trio.BrokenResourceError):
        await send_until_it_fails()


async def test_activity_counts_successful_receives_and_sends(pair: MakePair) -> None:
    ours, peer = pair()
    await ours.send_all(b"a\n")
    await peer.receive_line()
    assert (ours.activity, peer.activity) == (1, 1)
