"""Access control by client network: ready-made checks a server runs on each connection."""

from __future__ import annotations

from collections.abc import Iterable

from ._networks import IPNetwork, Networks

__all__ = ["NetworkAccess"]


class NetworkAccess:
    """Allow or deny clients by IP network: ``server.access = NetworkAccess(allow=[...])``.

    A client is let in if its address is in ``allow`` (when given) and not
    in ``deny``: deny wins. Addresses that are not IP (Unix peers) are
    refused when ``allow`` is given. The server checks it in the request's
    own worker, after any PROXY header (so on the real client's address);
    a refused connection is closed at once, logged, and counted as refused.

    Args:
        allow: The networks let in; None: every network not denied.
        deny: The networks kept out.

    Raises:
        TypeError, ValueError: A network is malformed (see `Networks`).
    """

    def __init__(
        self,
        allow: Iterable[str | IPNetwork] | None = None,
        deny: Iterable[str | IPNetwork] = (),
    ) -> None:
        self.allow: Networks | None = None if allow is None else Networks(allow)
        self.deny: Networks = Networks(deny)

    def __call__(self, request: object, client_address: object) -> str | None:
        """Why ``client_address`` is refused, or None if it is let in."""
        if client_address in self.deny:
            return "its network is denied"
        if self.allow is not None and client_address not in self.allow:
            return "its network is not allowed"
        return None

    def __repr__(self) -> str:
        return f"NetworkAccess(allow={self.allow!r}, deny={self.deny!r})"
