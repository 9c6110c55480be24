"""Errors in OpenAI's shape, and the one boundary where foreign errors are translated.

::

    GatewayError                      {"error": {"message", "type", "param", "code"}}
     ├─ InvalidRequest        400     invalid_request_error (bad JSON, bad fields,
 │                                context_length_exceeded, unsupported_feature)
     ├─ ModelNotFound         404     invalid_request_error / model_not_found
     ├─ Unauthorized          401     invalid_request_error / invalid_api_key, expired_api_key
 ├─ Forbidden             403     permission_error / permission_denied, model_not_allowed, tier_not_allowed
 ├─ PayloadTooLarge       413     invalid_request_error / request_too_large
 ├─ RateLimited           429     rate_limit_error / rate_limit_exceeded (with Retry-After)
 ├─ AuthUnavailable       503     service_unavailable / auth_unavailable (key store down, fail closed)
     ├─ NotReady              503     service_unavailable / not_ready
 ├─ ShuttingDown          503     service_unavailable / shutting_down
 ├─ BudgetExhausted       429     rate_limit_error / budget_exceeded
 ├─ NoRoute               503     service_unavailable / no_eligible_route
     └─ UpstreamFailed        502/504 upstream_error / upstream_timeout, or the
                                      upstream's own 4xx passed through

Messages are scrubbed of every secret the gateway knows (provider keys) before
they reach a client or a log.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from gateway.state.keys import KeyStoreUnavailable
from gateway.upstream.base import UpstreamError
from policies.types import BudgetExceeded, ContextTooLong, NoEligibleRoute, TierNotAllowed, UnsupportedFeature

log = logging.getLogger("triage.errors")


class GatewayError(Exception):
    status = 500
    type = "server_error"
    code: str | None = None

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code
        self.headers: dict[str, str] = {}

    def body(self) -> dict[str, Any]:
        return error_body(self.message, self.type, self.param, self.code)


class InvalidRequest(GatewayError):
    status = 400
    type = "invalid_request_error"


class ModelNotFound(GatewayError):
    status = 404
    type = "invalid_request_error"
    code = "model_not_found"


class AdminDisabled(GatewayError):
    status = 404
    type = "invalid_request_error"
    code = "admin_disabled"


class PayloadTooLarge(GatewayError):
    status = 413
    type = "invalid_request_error"
    code = "request_too_large"


class NotReady(GatewayError):
    status = 503
    type = "service_unavailable"
    code = "not_ready"


class ShuttingDown(GatewayError):
    status = 503
    type = "service_unavailable"
    code = "shutting_down"


class Unauthorized(GatewayError):
    status = 401
    type = "invalid_request_error"
    code = "invalid_api_key"


class Forbidden(GatewayError):
    status = 403
    type = "permission_error"
    code = "permission_denied"


class RateLimited(GatewayError):
    status = 429
    type = "rate_limit_error"
    code = "rate_limit_exceeded"


class AuthUnavailable(GatewayError):
    status = 503
    type = "service_unavailable"
    code = "auth_unavailable"


class BudgetExhausted(GatewayError):
    status = 429
    type = "rate_limit_error"
    code = "budget_exceeded"


class NoRoute(GatewayError):
    status = 503
    type = "service_unavailable"
    code = "no_eligible_route"


class InternalError(GatewayError):
    """A defect in the gateway (never client input): 500, after the request was settled and recorded."""

    status = 500
    type = "server_error"
    code = "internal_error"


class UpstreamFailed(GatewayError):
    status = 502
    type = "upstream_error"
    code = "upstream_error"


def invalid_fields(errors: Sequence[Mapping[str, Any]]) -> InvalidRequest:
    """A 400 naming the first invalid field of a pydantic validation (``body`` prefixes dropped)."""
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    param = ".".join(str(p) for p in first["loc"] if p != "body") or None
    return InvalidRequest(f"{param}: {first['msg']}", param=param)


def error_body(message: str, type_: str, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


class Scrubber:
    """Replaces known secrets in text with ``***``."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = tuple(sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True))

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def from_upstream(exc: UpstreamError, scrub: Scrubber) -> GatewayError:
    """Translate the last upstream error of a failed request."""
    message = scrub(exc.message)
    if exc.kind == "client" and exc.status is not None:
        code = _upstream_code(exc.body)
        error = UpstreamFailed(message, code=scrub(code)[:100] if code is not None else None)
        error.status = exc.status
        error.type = scrub(_upstream_type(exc.body) or "invalid_request_error")[:100]
        return error
    if exc.kind == "timeout":
        error = UpstreamFailed(f"upstream timed out after retries and fallbacks: {message}", code="upstream_timeout")
        error.status = 504
        return error
    return UpstreamFailed(f"upstream failed after retries and fallbacks: {message}")


def from_policy(exc: NoEligibleRoute) -> GatewayError:
    """Translate a policy's refusal."""
    if isinstance(exc, BudgetExceeded):
        return BudgetExhausted(str(exc))
    if isinstance(exc, TierNotAllowed):
        return Forbidden(str(exc), code=exc.code)
    if isinstance(exc, ContextTooLong | UnsupportedFeature):
        return InvalidRequest(str(exc), param="messages", code=exc.code)
    return NoRoute(str(exc))


def _upstream_code(body: Mapping[str, Any] | None) -> str | None:
    error = body.get("error") if body else None
    code = error.get("code") if isinstance(error, Mapping) else None
    return str(code) if code is not None else None


def _upstream_type(body: Mapping[str, Any] | None) -> str | None:
    error = body.get("error") if body else None
    kind = error.get("type") if isinstance(error, Mapping) else None
    return str(kind) if kind is not None else None


def json_response(status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, headers=headers, media_type="application/json")


STORE_DOWN = "the key store is unavailable; retry shortly"


def render_error(exc: Exception, request_id: str = "-") -> Response:
    """The OpenAI-shaped answer to an exception that reached the HTTP boundary."""
    if isinstance(exc, GatewayError):
        return json_response(exc.status, exc.body(), exc.headers)
    if isinstance(exc, KeyStoreUnavailable):
        return json_response(503, error_body(STORE_DOWN, "service_unavailable", None, "auth_unavailable"))
    log.error("unhandled error (request %s)", request_id, exc_info=exc)
    return json_response(500, error_body("internal error in the gateway", "server_error", None, "internal_error"))


def install_handlers(app: FastAPI) -> None:
    """Register the OpenAI-shaped handlers on ``app``."""

    async def on_error(request: Request, exc: Exception) -> Response:
        return render_error(exc, getattr(request.state, "request_id", "-"))

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        error = invalid_fields(exc.errors())
        return json_response(error.status, error.body())

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        kind = "invalid_request_error" if exc.status_code < 500 else "server_error"
        code = "not_found" if exc.status_code == 404 else None
        body = error_body(str(exc.detail), kind, None, code)
        return json_response(exc.status_code, body, exc.headers)

    app.add_exception_handler(GatewayError, on_error)
    app.add_exception_handler(KeyStoreUnavailable, on_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_error)
