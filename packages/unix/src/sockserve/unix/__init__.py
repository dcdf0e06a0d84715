"""Unix-domain stream and datagram servers (not yet built"""
