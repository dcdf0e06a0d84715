"""sockserve.unix: Unix-domain stream and datagram servers over the sockserve core."""

from collections.abc import Callable

from sockserve.core import lazy_attributes

from ._address import UnixAddress as UnixAddress
from ._address import UnixDatagramAddress as UnixDatagramAddress
from ._address import UnixPathTooLongError as UnixPathTooLongError
from ._servers import UnixDatagramServer as UnixDatagramServer
from ._servers import UnixStreamServer as UnixStreamServer

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see sockserve.core._types)
if TYPE_CHECKING:
    from ._peer import PeerAccess as PeerAccess
    from ._peer import peer_credentials as peer_credentials

# Loaded on first use: the drop-in imports this package, and a forked child
# copies every module loaded.
__getattr__: Callable[[str], object] = lazy_attributes(
    __name__, {"PeerAccess": "._peer", "peer_credentials": "._peer"}
)

__all__ = [
    "PeerAccess",
    "UnixAddress",
    "UnixDatagramAddress",
    "UnixDatagramServer",
    "UnixPathTooLongError",
    "UnixStreamServer",
    "peer_credentials",
]
