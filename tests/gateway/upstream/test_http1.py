"""The relay's HTTP/1.1 client against real sockets: a scripted server on loopback per test."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from gateway.upstream.http1 import ConnectFailed, Disconnected, HttpClient, ReadTimeout

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
Start = Callable[[Callable[["Server"], Handler]], Awaitable["Server"]]
OK = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}'


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    return head + await reader.readexactly(length)


class Server:
    """A loopback server that runs ``handler`` per connection and counts connections and requests."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests: list[bytes] = []
        self.base = ""

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self.handler(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def read(self, reader: asyncio.StreamReader) -> bytes:
        request = await _read_request(reader)
        self.requests.append(request)
        return request


@pytest.fixture
async def serve() -> AsyncIterator[Start]:
    servers: list[asyncio.Server] = []

    async def start(make: Callable[[Server], Handler]) -> Server:
        server = Server(lambda r, w: asyncio.sleep(0))
        server.handler = make(server)
        listener = await asyncio.start_server(server._serve, "127.0.0.1", 0)
        servers.append(listener)
        server.base = f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}/v1"
        return server

    yield start
    for listener in servers:
        listener.close()


def keep_alive(answer: bytes) -> Callable[[Server], Handler]:
    def make(server: Server) -> Handler:
        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while True:
                await server.read(reader)
                writer.write(answer)
                await writer.drain()

        return handler

    return make


async def _post(client: HttpClient, base: str, read_s: float = 2.0) -> tuple[int, bytes]:
    async with client.post(base, "/chat/completions", b'{"a":1}', {"Authorization": "Bearer k"}, 1.0, read_s) as r:
        return r.status, await r.read()


async def test_requests_reuse_one_keep_alive_connection_and_send_the_headers(serve: Start) -> None:
    server = await serve(keep_alive(OK))
    client = HttpClient()
    results = [await _post(client, server.base) for _ in range(5)]
    assert results == [(200, b'{"ok":true}')] * 5
    assert server.connections == 1
    head = server.requests[0].split(b"\r\n\r\n")[0].split(b"\r\n")
    assert head[0] == b"POST /v1/chat/completions HTTP/1.1"
    assert b"Authorization: Bearer k" in head and b"Content-Length: 7" in head
    assert server.requests[0].endswith(b'{"a":1}')
    await client.aclose()


async def test_a_pooled_connection_the_server_closed_is_replaced_once(serve: Start) -> None:
    def make(server: Server) -> Handler:
        async def one_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await server.read(reader)
            writer.write(OK)
            await writer.drain()

        return one_then_close

    server = await serve(make)
    client = HttpClient()
    assert await _post(client, server.base) == (200, b'{"ok":true}')
    await asyncio.sleep(0.05)  # the server has closed the pooled connection by now
    assert await _post(client, server.base) == (200, b'{"ok":true}')
    assert server.connections == 2 and len(server.requests) == 2
    await client.aclose()


async def test_after_a_stale_pooled_connection_the_retry_takes_a_new_one(serve: Start) -> None:
    def make(server: Server) -> Handler:
        async def one_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await server.read(reader)
            await asyncio.sleep(0.05)  # both requests are in flight: two connections get pooled
            writer.write(OK)
            await writer.drain()

        return one_then_close

    server = await serve(make)
    client = HttpClient()
    assert await asyncio.gather(_post(client, server.base), _post(client, server.base)) == [(200, b'{"ok":true}')] * 2
    await asyncio.sleep(0.05)  # the server has closed both pooled connections
    assert await _post(client, server.base) == (200, b'{"ok":true}')
    assert server.connections == 3 and len(server.requests) == 3
    await client.aclose()


async def test_chunked_streams_arrive_in_pieces_and_gzip_is_inflated(serve: Start) -> None:
    packed = gzip.compress(b'{"zipped":1}')
    answers = [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\ndata:\r\n4\r\n 1\n\n\r\n",
        b"0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(packed) + packed,
    ]

    def make(server: Server) -> Handler:
        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await server.read(reader)
            writer.write(answers[0])
            await writer.drain()
            await asyncio.sleep(0.05)
            writer.write(answers[1])
            await server.read(reader)
            writer.write(answers[2])
            await writer.drain()
            await asyncio.sleep(0.2)

        return handler

    server = await serve(make)
    client = HttpClient()
    async with client.post(server.base, "/x", b"{}", {}, 1.0, 2.0) as response:
        pieces = [piece async for piece in response.iter_any()]
    assert b"".join(pieces) == b"data: 1\n\n" and len(pieces) >= 1
    assert await _post(client, server.base) == (200, b'{"zipped":1}')
    assert server.connections == 1
    await client.aclose()


async def test_a_body_without_length_ends_with_the_connection(serve: Start) -> None:
    def make(server: Server) -> Handler:
        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await server.read(reader)
            writer.write(b'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{"until":"close"}')
            await writer.drain()

        return handler

    server = await serve(make)
    client = HttpClient()
    assert await _post(client, server.base) == (200, b'{"until":"close"}')
    await client.aclose()


async def test_silence_is_a_read_timeout_and_a_cut_answer_is_a_disconnect(serve: Start) -> None:
    def silent(server: Server) -> Handler:
        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await server.read(reader)
            writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{"par')
            await writer.drain()
            await asyncio.sleep(2)

        return handler

    def cut(server: Server) -> Handler:
        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await server.read(reader)
            writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{"par')
            await writer.drain()

        return handler

    client = HttpClient()
    stalled = await serve(silent)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(ReadTimeout):
        await _post(client, stalled.base, read_s=0.3)
    assert 0.25 < loop.time() - started < 1.5
    with pytest.raises(Disconnected):
        await _post(client, (await serve(cut)).base)
    await client.aclose()


async def test_garbage_is_a_disconnect_and_a_closed_port_never_sent(serve: Start) -> None:
    def garbage(server: Server) -> Handler:
        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await server.read(reader)
            writer.write(b"SMTP ready\r\n\r\n")
            await writer.drain()
            await asyncio.sleep(0.5)

        return handler

    client = HttpClient()
    with pytest.raises(Disconnected):
        await _post(client, (await serve(garbage)).base)
    listener = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    listener.close()
    await listener.wait_closed()
    with pytest.raises(ConnectFailed):
        await _post(client, f"http://127.0.0.1:{port}/v1")
    await client.aclose()


async def test_a_header_with_a_line_break_is_refused_before_anything_is_sent(serve: Start) -> None:
    server = await serve(keep_alive(OK))
    client = HttpClient()
    with pytest.raises(ValueError, match="line break"):
        client.post(server.base, "/x", b"{}", {"X-Evil": "a\r\nHost: elsewhere"}, 1.0, 1.0)
    assert server.requests == []
    await client.aclose()


async def test_busy_connections_are_capped(serve: Start) -> None:
    def slow(server: Server) -> Handler:
        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while True:
                await server.read(reader)
                await asyncio.sleep(0.05)
                writer.write(OK)
                await writer.drain()

        return handler

    server = await serve(slow)
    client = HttpClient(max_connections=2)
    results = await asyncio.gather(*(_post(client, server.base) for _ in range(6)))
    assert results == [(200, b'{"ok":true}')] * 6
    assert server.connections == 2
    await client.aclose()
