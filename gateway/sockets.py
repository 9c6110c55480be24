"""The one listening port several processes share: SO_REUSEPORT sockets (``--workers N``)."""

from __future__ import annotations

import socket


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` with SO_REUSEPORT (not yet listening); OSError if the port is taken.

    Every worker listens on one of these; the kernel spreads new connections over the
    listening ones. A bound socket that never listens receives no connection: the
    supervisor holds one to keep the port and to fail fast when another program has it.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock
