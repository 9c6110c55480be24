"""A lean HTTP/1.1 client for the relay: keep-alive connections, one write per request.

The relay sends one POST and reads one answer (a JSON body or an SSE stream) from a few
upstreams over and over, so it needs little of a general client: no cookies, redirects,
proxies or URL normalisation. Each connection is an ``asyncio.Protocol`` with an
``httptools`` response parser (C); a request is one ``transport.write``; a whole body is
read with one future, a stream as the parser hands over its pieces. On one core this costs
about a third of aiohttp's CPU per call (benchmarks/README.md).

Failures, as the relay classifies them::

    ConnectFailed    refused, unreachable, TLS failed, connect timeout: never sent
    ReadTimeout      no byte for ``read_timeout_s`` (between pieces, like aiohttp's sock_read)
    Disconnected     closed, reset or unparseable before the answer ended

A request that finds a pooled connection closed by the server before a byte came back is
sent once more on a new connection (the keep-alive race every client meets); anything
else is the caller's to retry.
"""

from __future__ import annotations

import asyncio
import ssl
import time
import zlib
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

import httptools

IDLE_S = 60.0  # a pooled connection unused this long is closed instead of reused
PARK_S = 1.0  # how long a released answer's connection may take to finish before it is closed
_PAUSE_AT = 1 << 20  # bytes buffered on a stream before reading from the socket pauses


class ConnectFailed(OSError):
    """The request never left: no connection could be made."""


class ReadTimeout(TimeoutError):
    """The upstream sent nothing for the read timeout."""


class Disconnected(ConnectionError):
    """The connection ended (or the answer could not be parsed) before the answer did."""


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a URL's requests go, and the path prefix of its base."""

    secure: bool
    host: str
    port: int
    prefix: str
    host_header: bytes

    @classmethod
    def parse(cls, base: str) -> Origin:
        parts = urlsplit(base)
        secure = parts.scheme == "https"
        default = 443 if secure else 80
        host = parts.hostname or "localhost"
        port = parts.port or default
        shown = host if port == default else f"{host}:{port}"
        return cls(secure, host, port, parts.path.rstrip("/"), shown.encode("idna"))


class _Connection(asyncio.Protocol):
    """One keep-alive connection; one response at a time."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.idle_since = 0.0
        self.parked: Callable[[], None] | None = None  # called when a released answer's end arrives
        self._reset_response()

    def _reset_response(self) -> None:
        self.status = 0
        self.headers: dict[str, str] = {}
        self.pieces: deque[bytes] = deque()
        self.buffered = 0
        self.complete = False
        self.reusable = False
        self.received = False
        self.error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._last = 0.0

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass asyncio's

    def data_received(self, data: bytes) -> None:
        self.received = True
        self._last = self._loop.time()
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(Disconnected(f"malformed HTTP response: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if exc is None and self.status and _until_close(self.headers):
            self.complete = True  # a body without length or chunks ends with the connection
            self._wake()
        if not self.complete:
            self._fail(Disconnected(f"connection closed before the answer ended{f': {exc}' if exc else ''}"))

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self.status = self._parser.get_status_code()
        self.reusable = self._parser.should_keep_alive()  # asked now: after the body it no longer tells
        self._wake()

    def on_body(self, body: bytes) -> None:
        self.pieces.append(body)
        self.buffered += len(body)
        if self.buffered > _PAUSE_AT and self.transport is not None:
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        self.complete = True
        self._wake()
        parked, self.parked = self.parked, None
        if parked is not None:
            parked()

    # the client's side
    @property
    def usable(self) -> bool:
        return self.transport is not None and not self.transport.is_closing()

    def send(self, data: bytes) -> None:
        self._reset_response()
        assert self.transport is not None
        self._last = self._loop.time()
        self.transport.write(data)

    async def wait(self, timeout_s: float) -> None:
        """Until the parser has more for the reader (or the answer failed)."""
        if self.error is not None:
            raise self.error
        self._waiter = self._loop.create_future()
        timer = self._loop.call_at(self._last + timeout_s, self._check_idle, timeout_s)
        try:
            await self._waiter
        finally:
            timer.cancel()
            self._waiter = None
        if self.error is not None:
            raise self.error

    def take(self) -> bytes:
        data = b"".join(self.pieces) if len(self.pieces) != 1 else self.pieces[0]
        self.pieces.clear()
        if self.buffered > _PAUSE_AT and self.transport is not None:
            self.transport.resume_reading()
        self.buffered = 0
        return data

    def keep_alive(self) -> bool:
        return self.complete and self.reusable and self.usable

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def _check_idle(self, timeout_s: float) -> None:
        left = self._last + timeout_s - self._loop.time()
        if left > 0:  # data came since the timer was set: wait for the rest of the window
            waiter = self._waiter
            if waiter is not None and not waiter.done():
                timer = self._loop.call_later(left, self._check_idle, timeout_s)
                waiter.add_done_callback(lambda _: timer.cancel())
            return
        self._fail(ReadTimeout(f"no data for {timeout_s:.1f}s"))
        self.close()

    def _fail(self, error: BaseException) -> None:
        if self.error is None:
            self.error = error
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class Response:
    """One answer: status and headers at once, the body read whole or as it comes."""

    def __init__(self, connection: _Connection, read_timeout_s: float) -> None:
        self._connection = connection
        self._timeout_s = read_timeout_s
        self.status = connection.status
        self.headers: Mapping[str, str] = connection.headers
        encoding = self.headers.get("content-encoding", "identity").lower()
        self._inflate = zlib.decompressobj(wbits=47) if encoding in ("gzip", "deflate") else None

    async def read(self) -> bytes:
        """The whole body."""
        connection = self._connection
        while not connection.complete:
            await connection.wait(self._timeout_s)
        return self._decoded(connection.take())

    async def iter_any(self) -> AsyncIterator[bytes]:
        """The body's pieces as they arrive."""
        connection = self._connection
        while True:
            if connection.pieces:
                yield self._decoded(connection.take())
            elif connection.complete:
                return
            else:
                await connection.wait(self._timeout_s)

    def _decoded(self, data: bytes) -> bytes:
        return self._inflate.decompress(data) if self._inflate is not None and data else data


class HttpClient:
    """Pools of keep-alive connections per origin; at most ``max_connections`` busy at once."""

    def __init__(self, max_connections: int = 512, user_agent: str = "triage") -> None:
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: dict[tuple[bool, str, int], list[_Connection]] = {}
        self._origins: dict[str, Origin] = {}  # one per configured api_base
        self._agent = user_agent.encode()
        self._tls: ssl.SSLContext | None = None

    def origin(self, base: str) -> Origin:
        origin = self._origins.get(base)
        if origin is None:
            origin = self._origins[base] = Origin.parse(base)
        return origin

    def post(
        self,
        base: str,
        path: str,
        body: bytes,
        headers: Mapping[str, str],
        connect_timeout_s: float,
        read_timeout_s: float,
    ) -> Exchange:
        """``async with client.post(...) as response``: the connection goes back to the pool after."""
        origin = self.origin(base)
        head = _request_head(origin, path, headers, len(body), self._agent)
        return Exchange(self, origin, head + body, connect_timeout_s, read_timeout_s)

    async def aclose(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()

    async def _checkout(self, origin: Origin, connect_timeout_s: float) -> tuple[_Connection, bool]:
        """A connection to ``origin`` and whether it was pooled (reused)."""
        idle = self._idle.get((origin.secure, origin.host, origin.port))
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if connection.usable and now - connection.idle_since < IDLE_S:
                return connection, True
            connection.close()
        return await self._connect(origin, connect_timeout_s), False

    async def _connect(self, origin: Origin, timeout_s: float) -> _Connection:
        loop = asyncio.get_running_loop()
        tls = None
        if origin.secure:
            tls = self._tls = self._tls or ssl.create_default_context()
        try:
            async with asyncio.timeout(timeout_s):
                _, connection = await loop.create_connection(
                    lambda: _Connection(loop),
                    origin.host,
                    origin.port,
                    ssl=tls,
                    server_hostname=origin.host if tls else None,
                )
        except TimeoutError:
            raise ConnectFailed(f"connect to {origin.host}:{origin.port} timed out after {timeout_s:.1f}s") from None
        except (OSError, ssl.SSLError) as exc:
            raise ConnectFailed(f"cannot connect to {origin.host}:{origin.port}: {exc}") from exc
        return connection

    def _checkin(self, origin: Origin, connection: _Connection) -> None:
        if connection.keep_alive():
            connection.idle_since = time.monotonic()
            self._idle.setdefault((origin.secure, origin.host, origin.port), []).append(connection)
        elif connection.reusable and connection.usable and connection.error is None:
            # a stream read to its last event whose closing chunk is still on the way: pool it when it comes
            connection.parked = lambda: self._checkin(origin, connection)
            asyncio.get_running_loop().call_later(PARK_S, _close_if_parked, connection)
        else:
            connection.close()


class Exchange:
    """One request and its response, as an async context manager."""

    def __init__(self, client: HttpClient, origin: Origin, data: bytes, connect_s: float, read_s: float) -> None:
        self._client = client
        self._origin = origin
        self._data = data
        self._connect_s = connect_s
        self._read_s = read_s
        self._connection: _Connection | None = None

    async def __aenter__(self) -> Response:
        client = self._client
        await client._slots.acquire()
        try:
            connection, reused = await client._checkout(self._origin, self._connect_s)
            try:
                await self._begin(connection)
            except Disconnected:
                if not reused or connection.received:
                    raise
                # the server had closed the idle connection: once more, on a new one
                connection.close()
                await self._begin(await client._connect(self._origin, self._connect_s))
            assert self._connection is not None
            return Response(self._connection, self._read_s)
        except BaseException:
            self._release(keep=False)
            raise

    async def __aexit__(self, *exc: object) -> None:
        self._release(keep=exc[0] is None)

    async def _begin(self, connection: _Connection) -> None:
        """Send the request on ``connection`` and wait for the answer's status and headers."""
        self._connection = connection
        connection.send(self._data)
        while connection.status == 0:
            await connection.wait(self._read_s)

    def _release(self, keep: bool) -> None:
        """Give the connection back (or close it) and free the slot; once per exchange."""
        connection, self._connection = self._connection, None
        if connection is not None and keep:
            self._client._checkin(self._origin, connection)
        elif connection is not None:
            connection.close()
        self._client._slots.release()


def _close_if_parked(connection: _Connection) -> None:
    if connection.parked is not None:
        connection.parked = None
        connection.close()


def _until_close(headers: Mapping[str, str]) -> bool:
    return "content-length" not in headers and "chunked" not in headers.get("transfer-encoding", "").lower()


def _request_head(origin: Origin, path: str, headers: Mapping[str, str], length: int, agent: bytes) -> bytes:
    lines = [
        b"POST " + (origin.prefix + path).encode() + b" HTTP/1.1",
        b"Host: " + origin.host_header,
        b"User-Agent: " + agent,
        b"Content-Length: " + str(length).encode(),
    ]
    for name, value in headers.items():
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name or ":" in name:
            raise ValueError(f"header {name!r}: a name or value with a line break or colon cannot be sent")
        lines.append(f"{name}: {value}".encode("latin-1"))
    return b"\r\n".join(lines) + b"\r\n\r\n"
