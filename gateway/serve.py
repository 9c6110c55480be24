"""Running the gateway under uvicorn with a graceful, load-balancer-friendly shutdown.

On SIGTERM (or Ctrl-C) the server does not stop at once::

    signal ──► draining: /readyz 503, new chat requests 503 ``shutting_down``;
               the listener stays open for ``drain_delay_s`` so load balancers
               see the pod go unready and stop sending
           ──► uvicorn's shutdown: stop accepting, let in-flight requests and
               streams finish for up to ``grace_s``, cancel what is left
           ──► lifespan shutdown (transports and routers closed), exit 0

A second Ctrl-C skips the rest of the drain delay; a third forces the exit. uvicorn's
own handlers would re-raise the signal after a clean shutdown (exit status 143);
these handlers end with status 0, which is what an orchestrator expects from a
graceful stop.

Under ``--workers N`` (``gateway/workers.py``) each worker is this server on its own
SO_REUSEPORT listener (``reuse_port``); the supervisor forwards the signals, and a worker
whose supervisor disappears (``parent_pid`` no longer its parent) drains as on SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gateway.settings import ConfigError
from gateway.sockets import reuse_port_socket

log = logging.getLogger("triage.serve")

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's HTTP protocol with a deadline for a request's headers.

    uvicorn closes idle keep-alive connections but waits forever for a request whose
    headers trickle in: a slow client could hold sockets open at no cost to itself. From
    a connection's first byte (and each request's first byte) the headers must be
    complete within ``header_timeout_s``, or the connection is closed.
    """

    header_timeout_s = 10.0  # set per server by ``with_header_timeout``

    # One timer per connection, re-armed only when it fires: a request's headers just stamp
    # when they began and whether they are complete (two timer operations a request were ~4%
    # of the gateway's CPU on the one-core profile).
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._headers_since: float | None = self.loop.time()
        self._header_timer: asyncio.TimerHandle | None = self.loop.call_later(self.header_timeout_s, self._check)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._headers_since = self.loop.time()

    def on_headers_complete(self) -> None:
        self._headers_since = None
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        timer = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
            self._header_timer = None
        super().connection_lost(exc)

    def _check(self) -> None:
        since, now = self._headers_since, self.loop.time()
        if since is not None and now - since >= self.header_timeout_s:
            if self.cycle is None or not self.cycle.response_started:
                log.info("closing a connection whose request headers took over %.0fs", self.header_timeout_s)
                self._header_timer = None
                self.transport.close()
                return
            since = None  # a request pipelined behind a response still being sent: look again later
        start = now if since is None else since
        self._header_timer = self.loop.call_at(start + self.header_timeout_s, self._check)


def with_header_timeout(seconds: float) -> type[HeaderTimeoutProtocol]:
    """The protocol class for one server, with its header deadline."""
    return type("HeaderTimeoutProtocol", (HeaderTimeoutProtocol,), {"header_timeout_s": seconds})


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """Where to listen and how to stop."""

    host: str
    port: int
    log_level: str = "info"
    access_log: bool = False
    drain_delay_s: float = 5.0
    grace_s: int = 25
    header_timeout_s: float = 10.0
    reuse_port: bool = False  # a supervised worker: its own SO_REUSEPORT listener on the shared port
    parent_pid: int | None = None  # a supervised worker: drain when this process is no longer the parent


class DrainingServer(uvicorn.Server):
    """A uvicorn server whose stop signals drain the app before shutting down."""

    def __init__(
        self, config: uvicorn.Config, app: FastAPI, drain_delay_s: float, parent_pid: int | None = None
    ) -> None:
        super().__init__(config)
        self._app = app
        self._drain_delay_s = drain_delay_s
        self._parent_pid = parent_pid
        self._drain_task: asyncio.Task[None] | None = None
        self._reloads: set[asyncio.Task[None]] = set()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Handle the stop signals on the event loop, and do not re-raise them afterwards."""
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, self.on_signal, sig)
        loop.add_signal_handler(signal.SIGHUP, self.on_reload)
        watch = loop.create_task(self._watch_parent()) if self._parent_pid is not None else None
        try:
            yield
        finally:
            if watch is not None:
                watch.cancel()
            for sig in (*STOP_SIGNALS, signal.SIGHUP):
                loop.remove_signal_handler(sig)

    async def _watch_parent(self) -> None:
        """A worker whose supervisor is gone (killed, not stopped) drains and exits instead of lingering."""
        while True:
            await asyncio.sleep(1.0)
            if os.getppid() != self._parent_pid:
                break
        log.warning("the supervisor (pid %s) is gone: draining", self._parent_pid)
        self.on_signal(signal.SIGTERM)

    def on_reload(self) -> None:
        """SIGHUP: rebuild the routers from their artifacts (the old ones keep serving on failure)."""
        runtime = getattr(self._app.state, "runtime", None)
        if runtime is None:
            return
        task = asyncio.get_running_loop().create_task(self._reload(runtime))
        self._reloads.add(task)
        task.add_done_callback(self._reloads.discard)

    async def _reload(self, runtime: Any) -> None:
        with contextlib.suppress(ConfigError):  # logged by the runtime; the old routers keep serving
            await runtime.reload_routers()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.on_signal(signal.Signals(sig))

    def on_signal(self, sig: signal.Signals) -> None:
        if self._drain_task is None and not self.should_exit:
            self._drain_task = asyncio.get_running_loop().create_task(self._drain(sig))
        elif not self.should_exit:
            log.warning("%s again: skipping the rest of the drain delay", sig.name)
            self.should_exit = True
        elif sig == signal.SIGINT:
            log.warning("SIGINT again: not waiting for in-flight requests")
            self.force_exit = True

    async def _drain(self, sig: signal.Signals) -> None:
        runtime = getattr(self._app.state, "runtime", None)
        if runtime is None or not self.started:
            log.info("%s before the gateway was serving: stopping", sig.name)
            self.should_exit = True
            return
        runtime.ready = False
        runtime.draining = True
        log.info(
            "%s: draining; /readyz answers 503 and new requests are refused for %.1fs, "
            "then in-flight requests get up to %ss to finish",
            sig.name,
            self._drain_delay_s,
            self.config.timeout_graceful_shutdown,
        )
        await asyncio.sleep(self._drain_delay_s)
        self.should_exit = True


def run_server(app: FastAPI, options: ServeOptions) -> int:
    """Serve ``app`` until a stop signal, drain, and return the exit status (0 on a clean stop)."""
    config = uvicorn.Config(
        app,
        host=options.host,
        port=options.port,
        log_level=options.log_level,
        access_log=options.access_log,
        loop="auto",
        http=with_header_timeout(options.header_timeout_s),
        lifespan="on",
        timeout_graceful_shutdown=options.grace_s,
    )
    server = DrainingServer(config, app, options.drain_delay_s, options.parent_pid)
    if not options.reuse_port:
        server.run()
        return 0
    sock = reuse_port_socket(options.host, options.port)
    sock.listen(config.backlog)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return 0
