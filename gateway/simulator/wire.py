"""Minimal HTTP/1.1 on asyncio streams: request parsing, response heads, chunked framing, real TCP resets."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import orjson

MAX_HEAD_BYTES = 1 << 20
MAX_BODY_BYTES = 64 << 20
LAST_CHUNK = b"0\r\n\r\n"

_REASONS: Mapping[int, bytes] = MappingProxyType(
    {
        200: b"OK",
        400: b"Bad Request",
        404: b"Not Found",
        405: b"Method Not Allowed",
        413: b"Payload Too Large",
        429: b"Too Many Requests",
        431: b"Request Header Fields Too Large",
        500: b"Internal Server Error",
        503: b"Service Unavailable",
    }
)


class HttpError(Exception):
    """A request the server cannot parse; answered with ``status`` and then the connection is closed."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(slots=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    keep_alive: bool


def _parse_head(head: bytes) -> tuple[str, str, str, dict[str, str]]:
    lines = head[:-4].decode("latin-1").lstrip("\r\n").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise HttpError(400, "malformed HTTP request line")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise HttpError(400, "malformed HTTP header line")
        headers[name.strip().lower()] = value.strip()
    return parts[0], parts[1].split("?", 1)[0], parts[2], headers


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        size_line = await reader.readuntil(b"\r\n")
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise HttpError(400, "malformed chunk size") from None
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass  # trailers
            return bytes(body)
        if len(body) + size > MAX_BODY_BYTES:
            raise HttpError(413, "request body too large")
        body += await reader.readexactly(size)
        await reader.readexactly(2)


async def _read_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, headers: dict[str, str]) -> bytes:
    if headers.get("expect", "").lower() == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return await _read_chunked(reader)
    length_text = headers.get("content-length")
    if not length_text:
        return b""
    try:
        length = int(length_text)
    except ValueError:
        raise HttpError(400, "bad Content-Length") from None
    if length < 0 or length > MAX_BODY_BYTES:
        raise HttpError(413, "request body too large")
    return await reader.readexactly(length) if length else b""


async def read_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Request | None:
    """Read one request; None when the client closed the connection between requests."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    except asyncio.LimitOverrunError:
        raise HttpError(431, "request head too large") from None
    method, path, version, headers = _parse_head(head)
    body = await _read_body(reader, writer, headers)
    connection = headers.get("connection", "").lower()
    keep_alive = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
    return Request(method, path, headers, body, keep_alive)


def response_head(
    status: int,
    content_type: bytes,
    length: int | None,
    keep_alive: bool,
    extra: tuple[tuple[bytes, bytes], ...] = (),
) -> bytes:
    """A response status line and headers; ``length=None`` means a chunked body."""
    lines = [b"HTTP/1.1 %d %s" % (status, _REASONS.get(status, b"Unknown")), b"Content-Type: " + content_type]
    if length is None:
        lines.append(b"Transfer-Encoding: chunked")
    else:
        lines.append(b"Content-Length: %d" % length)
    if not keep_alive:
        lines.append(b"Connection: close")
    lines.extend(name + b": " + value for name, value in extra)
    lines.append(b"\r\n")
    return b"\r\n".join(lines)


def json_response(status: int, payload: Any, keep_alive: bool, extra: tuple[tuple[bytes, bytes], ...] = ()) -> bytes:
    """A complete response with a JSON body (``payload`` may already be bytes)."""
    body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    return response_head(status, b"application/json", len(body), keep_alive, extra) + body


def error_payload(message: str, error_type: str, param: str | None = None, code: str | None = None) -> bytes:
    """An OpenAI-shaped error body."""
    return orjson.dumps({"error": {"message": message, "type": error_type, "param": param, "code": code}})


def chunk(data: bytes) -> bytes:
    """One chunk of a ``Transfer-Encoding: chunked`` body."""
    return b"%x\r\n%s\r\n" % (len(data), data)


def reset_connection(writer: asyncio.StreamWriter) -> None:
    """Abort the connection with a real TCP RST (SO_LINGER on, timeout 0)."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
