"""Checks of the settings users put on a server: clear errors, before any serving starts."""

from __future__ import annotations

import math

__all__ = ["check_idle_timeout", "check_limit", "check_seconds", "drain_grace"]


def check_limit(value: object, name: str) -> int | None:
    """Check a limit setting (``max_connections``, ``pool_size``): None, or an int of 1 or more.

    Raises:
        TypeError: ``value`` is neither None nor an int.
        ValueError: ``value`` is below 1.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be None or an int, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be None or 1 or more, got {value!r}")
    return value


def drain_grace(timeout: object) -> float:
    """Check a drain's timeout: seconds, 0 or more.

    Raises:
        TypeError: ``timeout`` is not a number.
        ValueError: ``timeout`` is negative or NaN.
    """
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise TypeError(f"the drain timeout must be a number of seconds, got {timeout!r}")
    if not timeout >= 0:
        raise ValueError(f"the drain timeout must be 0 or more seconds, got {timeout!r}")
    return float(timeout)


def check_idle_timeout(timeout: object) -> float | None:
    """Check an ``idle_timeout`` setting: None, or seconds above 0.

    Raises:
        TypeError: ``timeout`` is neither None nor a number.
        ValueError: ``timeout`` is not above 0.
    """
    if timeout is None:
        return None
    return check_seconds(timeout, "idle_timeout")


def check_seconds(value: object, name: str) -> float:
    """Check a timeout setting (``handshake_timeout``, a PROXY header's): finite seconds above 0.

    Raises:
        TypeError: ``value`` is not a number.
        ValueError: ``value`` is not above 0, or is infinite (None means no
            timeout, where one is optional).
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number of seconds, got {value!r}")
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number of seconds above 0, got {value!r}")
    return float(value)
