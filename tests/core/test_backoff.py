from __future__ import annotations

import errno
import logging

import pytest

from sockserve.core import ACCEPT_CAPACITY_ERRNOS
from sockserve.core._backoff import EPISODE_GAP, AcceptBackoff


def capacity_error(code: int = errno.EMFILE) -> OSError:
    return OSError(code, "Too many open files")


def test_capacity_errnos_are_the_resource_shortages() -> None:
    assert {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM} == ACCEPT_CAPACITY_ERRNOS


def test_other_errors_do_not_pause() -> None:
    backoff = AcceptBackoff()
    assert not backoff.failed(OSError(errno.ECONNABORTED, "aborted"))
    assert backoff.delay == 0
    assert backoff.remaining() == 0


@pytest.mark.parametrize("code", sorted(ACCEPT_CAPACITY_ERRNOS))
def test_capacity_errors_pause_and_are_logged(code: int, caplog: pytest.LogCaptureFixture) -> None:
    backoff = AcceptBackoff(first_delay=5.0, max_delay=5.0)
    with caplog.at_level(logging.WARNING, logger="sockserve.core"):
        assert backoff.failed(capacity_error(code))
    assert 4.0 < backoff.remaining() <= 5.0
    assert "pausing accepts" in caplog.text


def test_one_episode_is_logged_once_however_many_retries(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr("sockserve.core._backoff.time.monotonic", lambda: now[0])
    backoff = AcceptBackoff(first_delay=0.01, max_delay=0.05)
    with caplog.at_level(logging.INFO, logger="sockserve.core"):
        for _ in range(50):
            backoff.failed(capacity_error())
            now[0] += 0.05
            backoff.succeeded()  # one descriptor freed, one connection in, then again
        assert backoff.failures == 50
        now[0] += EPISODE_GAP + 1  # quiet for a while: the next failure is news
        backoff.failed(capacity_error())
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2, messages
    assert all("pausing accepts" in message for message in messages)
    assert backoff.failures == 1


def test_delay_doubles_up_to_the_limit_and_resets_on_success() -> None:
    backoff = AcceptBackoff(first_delay=0.01, max_delay=0.05)
    delays = []
    for _ in range(5):
        backoff.failed(capacity_error())
        delays.append(backoff.delay)
    assert delays == [0.01, 0.02, 0.04, 0.05, 0.05]
    backoff.succeeded()
    assert backoff.delay == 0
    assert backoff.remaining() == 0
    backoff.failed(capacity_error())
    assert backoff.delay == 0.01


@pytest.mark.parametrize(("first", "limit"), [(0, 1), (-1, 1), (2, 1)])
def test_bad_delays_are_rejected(first: float, limit: float) -> None:
    with pytest.raises(ValueError, match="first_delay"):
        AcceptBackoff(first_delay=first, max_delay=limit)
