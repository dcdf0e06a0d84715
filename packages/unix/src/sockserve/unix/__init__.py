"""sockserve.unix: Unix-domain stream and datagram servers.

Not yet built: this distribution is an installable shell for now.
"""
