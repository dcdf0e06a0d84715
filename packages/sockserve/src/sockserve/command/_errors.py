"""The command's one kind of failure: a message for the user, no traceback."""

from __future__ import annotations

__all__ = ["UsageError"]


class UsageError(Exception):
    """Something the user asked for cannot be done; the message says what, in one line."""
