"""The pytest plugin of ``sockserve-core``: the ``serve_in_background`` fixture.

Registered through the ``pytest11`` entry point, so it is active wherever
``sockserve-core`` is installed, and only there.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from .testing import DEFAULT_WAIT, Servable, Served, StartServing, serving


@pytest.fixture
def serve_in_background() -> Iterator[StartServing]:
    """``serve_in_background(server, raise_handler_errors=True)``: serve it for this test.

    Returns the `Served` handle (``.address``, ``.thread``); takes the
    keyword arguments of `sockserve.core.testing.serving`. At teardown
    every server started is drained, joined and closed, and a collected
    handler error fails the test.
    """
    with contextlib.ExitStack() as stack:

        def start(
            server: Servable,
            *,
            raise_handler_errors: bool = False,
            drain_timeout: float = 5.0,
            wait: float = DEFAULT_WAIT,
            poll_interval: float | None = None,
        ) -> Served:
            context = serving(
                server,
                raise_handler_errors=raise_handler_errors,
                drain_timeout=drain_timeout,
                wait=wait,
                poll_interval=poll_interval,
            )
            return stack.enter_context(context)

        yield start
