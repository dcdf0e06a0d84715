"""`AdmissionError`: a connection refused before its handler ran (every server imports it)."""

from __future__ import annotations

__all__ = ["AdmissionError"]


class AdmissionError(Exception):
    """A connection step refused the connection; the message says why (it is logged).

    Attributes:
        client_address: The client's address as the step knew it (the real
            one, once a PROXY header gave it); None: the connection's own.
    """

    client_address: object = None
