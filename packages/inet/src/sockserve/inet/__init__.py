"""sockserve.inet: `TCPServer` and `UDPServer` over the sockserve core."""

from ._servers import InetAddress as InetAddress
from ._servers import TCPServer as TCPServer
from ._servers import UDPServer as UDPServer

__all__ = ["InetAddress", "TCPServer", "UDPServer"]
