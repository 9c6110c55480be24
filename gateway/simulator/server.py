"""The simulator's HTTP server: routing, chat completions (other endpoints: :mod:`gateway.simulator.endpoints`),
request-level faults, lifecycle."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial

import orjson

from gateway.simulator.chat import (
    ChatPlan,
    Timing,
    build_plan,
    completion_payload,
    malformed_body,
    model_payload,
    validate,
)
from gateway.simulator.early import early_fault, fault_specs, is_early, json_body
from gateway.simulator.embeddings import MAX_EMBEDDING_DIM
from gateway.simulator.endpoints import ENDPOINTS, SPEEDS, Endpoint, listing
from gateway.simulator.faults import FaultInjector, FaultSpec
from gateway.simulator.judge import Judge, Truth
from gateway.simulator.options import RequestError
from gateway.simulator.paced import Context, send
from gateway.simulator.stream import sleep_until, write_stream
from gateway.simulator.wire import (
    MAX_HEAD_BYTES,
    HttpError,
    Request,
    error_payload,
    json_response,
    read_request,
    response_head,
)

_CHAT_PATHS = frozenset({"/v1/chat/completions", "/chat/completions"})
_MODELS_PATHS = frozenset({"/v1/models", "/models"})
_HEALTH = orjson.dumps({"status": "ok"})


@dataclass(frozen=True)
class SimulatorConfig:
    """Server-wide settings. ``ttft_ms`` / ``tokens_per_s`` override every model's own speed when set.

    ``truth`` holds the known answer qualities (``--truth``); ``judge_position_bias`` is the probability that
    sim-judge prefers answer A regardless (see :mod:`gateway.simulator.judge`); ``embedding_dim`` is the length
    of sim-embedding's vectors (``--embedding-dim``).
    """

    ttft_ms: float | None = None
    tokens_per_s: float | None = None
    answer_tokens: int = 40
    seed: int = 0
    faults: tuple[FaultSpec, ...] = ()
    log: bool = False
    truth: Truth = field(default_factory=Truth)
    judge_position_bias: float = 0.0
    embedding_dim: int = 256

    def __post_init__(self) -> None:
        if self.ttft_ms is not None and self.ttft_ms < 0:
            raise ValueError("ttft_ms must be >= 0")
        if self.tokens_per_s is not None and self.tokens_per_s <= 0:
            raise ValueError("tokens_per_s must be > 0")
        if self.answer_tokens < 1:
            raise ValueError("answer_tokens must be >= 1")
        if not 0.0 <= self.judge_position_bias <= 1.0:
            raise ValueError("judge_position_bias must be in [0, 1]")
        if not 1 <= self.embedding_dim <= MAX_EMBEDDING_DIM:
            raise ValueError(f"embedding_dim must be in [1, {MAX_EMBEDDING_DIM}]")


def _header_number(headers: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    text = headers.get(name)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value >= minimum:  # also rejects NaN
        raise RequestError(400, f"Header {name} must be a number >= {minimum:g}, got {text!r}.")
    return value


def _error(exc: RequestError, keep_alive: bool) -> bytes:
    error_type = "invalid_request_error" if exc.status < 500 else "server_error"
    return json_response(exc.status, error_payload(exc.message, error_type, exc.param, exc.code), keep_alive)


class SimulatorServer:
    """One simulator instance: ``await start(host, port)`` then ``await close()``."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.port = 0
        self._faults = FaultInjector(config.seed, config.faults)
        self._judge = Judge(config.seed, config.truth, config.judge_position_bias)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._models = orjson.dumps(listing())

    async def start(self, host: str, port: int) -> int:
        """Bind and start accepting; returns the bound port (useful with ``port=0``)."""
        self._server = await asyncio.start_server(
            self._on_connection, host, port, limit=MAX_HEAD_BYTES, reuse_address=True, backlog=1024
        )
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def close(self) -> None:
        """Stop accepting, cancel every open connection (including hung ``timeout`` faults), and wait."""
        if self._server is not None:
            self._server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await self._serve_connection(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            # close() cancels open connections; this task is the connection's top level, so
            # ending quietly here keeps asyncio's stream callback from logging the cancel.
            pass
        finally:
            if task is not None:
                self._tasks.discard(task)
            writer.close()

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                request = await read_request(reader, writer)
            except HttpError as exc:
                writer.write(json_response(exc.status, error_payload(exc.message, "invalid_request_error"), False))
                return
            if request is None:
                return
            started = time.perf_counter()
            status, keep_alive = await self._dispatch(request, reader, writer)
            if self.config.log:
                self._log(request, status, started)
            if not keep_alive:
                return
            await writer.drain()

    def _log(self, request: Request, status: int, started: float) -> None:
        elapsed_ms = (time.perf_counter() - started) * 1000
        fault = request.headers.get("x-sim-fault", "")
        shown = str(status) if status else "---"
        print(f"{request.method} {request.path} {shown} {elapsed_ms:.1f}ms {fault}".rstrip(), file=sys.stderr)

    async def _dispatch(
        self, request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> tuple[int, bool]:
        """Handle one request; returns (status sent, 0 for none; whether the connection stays open)."""
        path, method, keep = request.path.rstrip("/") or "/", request.method, request.keep_alive
        if path in _CHAT_PATHS and method == "POST":
            return await self._chat(request, reader, writer)
        if path in ENDPOINTS and method == "POST":
            return await self._endpoint(ENDPOINTS[path], request, reader, writer)
        if path in _MODELS_PATHS and method == "GET":
            writer.write(json_response(200, self._models, keep))
            return 200, keep
        if path.startswith("/v1/models/") and method == "GET":
            name = path.removeprefix("/v1/models/")
            if name in SPEEDS:
                writer.write(json_response(200, model_payload(name), keep))
                return 200, keep
            message = f"The model `{name}` does not exist or you do not have access to it."
            writer.write(_error(RequestError(404, message, "model", "model_not_found"), keep))
            return 404, keep
        if path == "/health" and method in ("GET", "HEAD"):
            response = json_response(200, _HEALTH, keep)
            writer.write(response if method == "GET" else response[: -len(_HEALTH)])
            return 200, keep
        known = path in _CHAT_PATHS or path in ENDPOINTS or path in _MODELS_PATHS or path == "/health"
        status = 405 if known else 404
        message = f"Unknown request URL: {method} {request.path}. Please check the URL for typos."
        writer.write(_error(RequestError(status, message), keep))
        return status, keep

    def _timing(self, model: str, headers: Mapping[str, str]) -> Timing:
        ttft_ms, tokens_per_s = SPEEDS[model]
        cfg = self.config
        ttft_ms = _header_number(headers, "x-sim-ttft-ms", ttft_ms if cfg.ttft_ms is None else cfg.ttft_ms, 0)
        tps = cfg.tokens_per_s if cfg.tokens_per_s is not None else tokens_per_s
        tps = _header_number(headers, "x-sim-tokens-per-s", tps, 1e-9)
        answer_tokens = int(_header_number(headers, "x-sim-answer-tokens", cfg.answer_tokens, 1))
        return Timing(ttft_ms / 1000.0, tps, answer_tokens)

    def _plan(self, request: Request) -> tuple[ChatPlan, tuple[FaultSpec, ...]]:
        body = json_body(request)
        model, messages = validate(body)
        specs = fault_specs(request)
        timing = self._timing(model, request.headers)
        now = int(time.time())
        return build_plan(body, model, messages, timing, self.config.seed, now, self._judge), specs

    async def _chat(
        self, request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> tuple[int, bool]:
        started = asyncio.get_running_loop().time()
        keep = request.keep_alive
        try:
            plan, specs = self._plan(request)
        except RequestError as exc:
            writer.write(_error(exc, keep))
            return exc.status, keep
        fault = self._faults.choose(specs)
        if fault is not None and is_early(fault, plan.stream):
            return await early_fault(fault, reader, writer, keep)
        if plan.stream:
            return 200, await write_stream(plan, writer, started, fault, keep)
        timing = plan.timing
        await sleep_until(started + timing.ttft_s + plan.rounds / timing.tokens_per_s)
        if fault is not None and fault.kind == "malformed":
            writer.write(json_response(200, malformed_body(plan), keep))
        elif fault is not None and fault.kind == "truncate":
            body = orjson.dumps(completion_payload(plan))
            writer.write(response_head(200, b"application/json", len(body), False) + body[: len(body) // 2])
            return 200, False
        else:
            writer.write(json_response(200, completion_payload(plan), keep))
        return 200, keep

    async def _endpoint(
        self, endpoint: Endpoint, request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> tuple[int, bool]:
        """Responses, embeddings, legacy completions: the same faults and pacing as chat."""
        started = asyncio.get_running_loop().time()
        keep, cfg = request.keep_alive, self.config
        try:
            body, specs = json_body(request), fault_specs(request)
            timing = partial(self._timing, headers=request.headers)
            reply = endpoint(body, Context(cfg.seed, self._judge, int(time.time()), cfg.embedding_dim, timing))
        except RequestError as exc:
            writer.write(_error(exc, keep))
            return exc.status, keep
        fault = self._faults.choose(specs)
        if fault is not None and is_early(fault, reply.stream):
            return await early_fault(fault, reader, writer, keep)
        return 200, await send(reply, writer, started, fault, keep)


async def serve(config: SimulatorConfig, host: str, port: int, started: asyncio.Event | None = None) -> None:
    """Run a simulator until cancelled; sets ``started`` once it is listening."""
    server = SimulatorServer(config)
    await server.start(host, port)
    if started is not None:
        started.set()
    try:
        await asyncio.Event().wait()
    finally:
        await server.close()
