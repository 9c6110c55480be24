"""A real headless browser for the end-to-end tests: Debian's Chromium, driven over CDP.

``chromium()`` starts ``chromium --headless`` with a throw-away profile and yields a
``Page``: a tiny Chrome DevTools Protocol client over one WebSocket (the ``websockets``
package that uvicorn[standard] brings). It sends commands, keeps the events it sees
(console messages, exceptions, CSP reports) and evaluates JavaScript. A missing
``chromium`` is an error naming the fix, never a skip.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

from gateway.local import processes as procs


class Page:
    """One browser tab over CDP."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.events: list[dict[str, Any]] = []
        self._ids = itertools.count(1)

    def send(self, method: str, timeout_s: float = 30.0, **params: Any) -> dict[str, Any]:
        """Run one CDP command; its result, or ``RuntimeError`` with the browser's message."""
        message_id = next(self._ids)
        self.socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout_s
        while True:
            message = json.loads(self.socket.recv(timeout=max(deadline - time.monotonic(), 0.01)))
            if message.get("id") != message_id:
                self.events.append(message)
                continue
            if "error" in message:
                raise RuntimeError(f"{method}: {message['error']}")
            result: dict[str, Any] = message.get("result", {})
            return result

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression (awaited if it is a promise)."""
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression!r} threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout_s: float = 20.0) -> Any:
        """Poll until ``expression`` is truthy; its value."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise TimeoutError(f"{expression!r} did not become true within {timeout_s}s")

    def _loaded(self, seen: int, timeout_s: float = 30.0) -> None:
        """Wait for a ``Page.loadEventFired`` after the first ``seen`` events."""
        deadline = time.monotonic() + timeout_s
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events[seen:]):
            self.events.append(json.loads(self.socket.recv(timeout=max(deadline - time.monotonic(), 0.01))))

    def navigate(self, url: str) -> None:
        """Open ``url`` and wait for its load event."""
        seen = len(self.events)
        self.send("Page.navigate", url=url)
        self._loaded(seen)

    def reload(self) -> None:
        seen = len(self.events)
        self.send("Page.reload")
        self._loaded(seen)

    def errors(self) -> list[dict[str, Any]]:
        """Uncaught exceptions, console errors and CSP violations seen so far.

        Failed network requests are left out: a 401 the page handles is logged as one.
        """
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            entry = params.get("entry", {})
            logged = method == "Log.entryAdded" and entry.get("level") == "error" and entry.get("source") != "network"
            console = method == "Runtime.consoleAPICalled" and params.get("type") == "error"
            if method == "Runtime.exceptionThrown" or logged or console:
                found.append(event)
        return found

    def screenshot(self, path: Path, width: int = 1040) -> bytes:
        """A PNG of the whole page at ``width`` CSS pixels; written to ``path`` and returned."""
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=800, deviceScaleFactor=1, mobile=False)
        height = self.evaluate("Math.ceil(document.documentElement.scrollHeight)")
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        png = base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"])
        path.write_bytes(png)
        return png


def _debugging_port(profile: Path, process: subprocess.Popen[bytes], timeout_s: float = 30.0) -> int:
    """The port Chromium chose for ``--remote-debugging-port=0`` (it writes DevToolsActivePort)."""
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chromium exited with {process.returncode} before it listened")
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int(marker.read_text().splitlines()[0])
        time.sleep(0.05)
    raise RuntimeError(f"chromium did not open its debugging port within {timeout_s}s")


@contextlib.contextmanager
def chromium(profile: Path) -> Iterator[Page]:
    """Headless Chromium with its profile in ``profile``; yields its first tab, on about:blank."""
    binary = procs.tool("chromium", "apt-get install chromium")
    command = [
        binary,
        "--headless",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-background-networking",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        "--remote-debugging-address=127.0.0.1",
        "--remote-debugging-port=0",
        *(["--no-sandbox"] if os.geteuid() == 0 else []),  # Chromium refuses its sandbox as root (CI containers)
        "about:blank",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port = _debugging_port(profile, process)
        targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
        tab = next(t for t in targets if t.get("type") == "page")
        with connect(tab["webSocketDebuggerUrl"], max_size=None, proxy=None, open_timeout=10) as socket:
            page = Page(socket)
            for domain in ("Page", "Runtime", "Log"):
                page.send(f"{domain}.enable")
            yield page
    finally:
        procs.stop(process)
