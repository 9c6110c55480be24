"""The attack suite's parts: a capture socket that must receive nothing, and a provider key."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

PROVIDER_KEY = "sk-provider-secret-0123456789abcdef"


class CaptureSocket:
    """A loopback TCP listener that records every connection and every byte it receives."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.1)
        self.port = int(self._sock.getsockname()[1])
        self.connections = 0
        self.received = b""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            with conn:
                conn.settimeout(0.5)
                try:
                    while chunk := conn.recv(65536):
                        self.received += chunk
                except OSError:
                    pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()


@pytest.fixture
def capture() -> Iterator[CaptureSocket]:
    listener = CaptureSocket()
    try:
        yield listener
    finally:
        listener.close()
