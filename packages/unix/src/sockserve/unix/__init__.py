"""sockserve.unix: Unix-domain stream and datagram servers over the sockserve core."""

from ._address import UnixAddress as UnixAddress
from ._address import UnixDatagramAddress as UnixDatagramAddress
from ._address import UnixPathTooLongError as UnixPathTooLongError
from ._peer import PeerAccess as PeerAccess
from ._peer import peer_credentials as peer_credentials
from ._servers import UnixDatagramServer as UnixDatagramServer
from ._servers import UnixStreamServer as UnixStreamServer

__all__ = [
    "PeerAccess",
    "UnixAddress",
    "UnixDatagramAddress",
    "UnixDatagramServer",
    "UnixPathTooLongError",
    "UnixStreamServer",
    "peer_credentials",
]
