"""``/ui``: a read-only status page (``ui.enabled``; off, the routes do not exist and answer 404).

``GET /ui`` and its two assets are static files that hold no data, so a browser can
load them with a plain navigation. The numbers come from ``GET /ui/data``, read from
the process's own metrics (``observe/status.py``), which needs the same credential as
``/admin``: with ``auth.mode: keys`` the master key as ``Authorization: Bearer`` (401
without a valid key, 403 with another key). The page's script asks for the key, keeps
it in ``sessionStorage`` (this tab only, gone when it closes) and sends it only as that
header: never in a URL, a cookie or a form submission. With ``auth.mode: none`` the data
is as open as ``/metrics``. A strict Content-Security-Policy allows scripts, styles and
requests from the gateway's own origin only: no inline script, no framing.
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

from fastapi import APIRouter, Depends, Request
from starlette.responses import FileResponse, Response

from gateway.http.deps import Serving
from gateway.observe.status import process_uptime_s, status
from gateway.protocol.errors import json_response

ui_api = APIRouter()

STATIC = Path(__file__).resolve().parent / "static"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
HEADERS = MappingProxyType(
    {
        "content-security-policy": CSP,
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "no-referrer",
        "cache-control": "no-store",
    }
)


def _asset(name: str, media_type: str) -> Response:
    return FileResponse(STATIC / name, media_type=media_type, headers=dict(HEADERS))


async def _operator(request: Request, runtime: Serving) -> None:
    """The ``/admin`` check: the master key with ``auth.mode: keys``; nothing to check with ``none``."""
    if runtime.auth.mode == "keys":
        await runtime.auth.admin(request.headers.get("authorization"))


@ui_api.get("/ui", include_in_schema=False)
async def page() -> Response:
    return _asset("index.html", "text/html; charset=utf-8")


@ui_api.get("/ui/ui.js", include_in_schema=False)
async def script() -> Response:
    return _asset("ui.js", "text/javascript; charset=utf-8")


@ui_api.get("/ui/ui.css", include_in_schema=False)
async def stylesheet() -> Response:
    return _asset("ui.css", "text/css; charset=utf-8")


@ui_api.get("/ui/data", include_in_schema=False, dependencies=[Depends(_operator)])
async def data(runtime: Serving) -> Response:
    """Route mix, spend against the all-frontier counterfactual, latency, breakers, uptime."""
    await runtime.refresh_gauges()  # breaker states (and Redis, budget) as a scrape would see them
    settings = runtime.settings
    body = status(runtime.metrics.view(), list(settings.tiers), process_uptime_s(), settings.ui.refresh_s)
    return json_response(200, body, dict(HEADERS))
