"""sockserve.inet: `TCPServer` and `UDPServer` over the sockserve core."""

from ._family import host_and_port as host_and_port
from ._servers import InetAddress as InetAddress
from ._servers import TCPServer as TCPServer
from ._servers import UDPServer as UDPServer

__all__ = ["InetAddress", "TCPServer", "UDPServer", "host_and_port"]
