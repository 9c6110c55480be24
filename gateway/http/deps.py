"""FastAPI dependencies: what a handler may ask for, with readiness checked for every API route.

``Serving`` is the runtime while the gateway serves: it raises 503 ``not_ready`` before
start-up finished and 503 ``shutting_down`` while draining, for every route that uses
it (chat, models, admin). ``Caller`` authenticates a ``/v1/*`` request; ``AdminKeys``
checks the master key and hands out the key store.
"""

from __future__ import annotations

from typing import Annotated, TypeVar

import orjson
from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError

from gateway.protocol.errors import InvalidRequest, NotReady, ShuttingDown, invalid_fields
from gateway.request.auth import Principal
from gateway.state.keys import KeyStore
from gateway.wiring import Runtime


class Services:
    """The app's runtime, once its lifespan built it: the one way handlers get their services.

    FastAPI handlers ask through the ``Serving`` dependency, the hot path (``gateway.http.hot``)
    directly; both get 503 ``not_ready`` before start-up finished and ``shutting_down`` while
    draining.
    """

    __slots__ = ("runtime",)

    def __init__(self) -> None:
        self.runtime: Runtime | None = None

    def serving(self) -> Runtime:
        runtime = self.runtime
        if runtime is not None and runtime.draining:
            raise ShuttingDown("the gateway is shutting down; retry on another replica")
        if runtime is None or not runtime.ready:
            raise NotReady("the gateway is not ready to serve")
        return runtime


async def serving_runtime(request: Request) -> Runtime:
    """``Services.serving()`` as a dependency (async: a sync one would cost a thread-pool hop)."""
    services: Services = request.app.state.services
    return services.serving()


Serving = Annotated[Runtime, Depends(serving_runtime)]
M = TypeVar("M", bound=BaseModel)


async def read_body(request: Request, model: type[M]) -> M:
    """A small JSON body (admin, feedback) validated into ``model``; OpenAI-shaped 400s otherwise."""
    try:
        return model.model_validate(orjson.loads(await request.body() or b"{}"))
    except orjson.JSONDecodeError:
        raise InvalidRequest("request body is not valid JSON") from None
    except ValidationError as exc:
        raise invalid_fields(exc.errors()) from None


async def caller(request: Request, runtime: Serving) -> Principal:
    return await runtime.auth.client(request.headers.get("authorization"))  # the Authenticator: one hop


Caller = Annotated[Principal, Depends(caller)]


async def admin_keys(request: Request, runtime: Serving) -> KeyStore:
    await runtime.auth.admin(request.headers.get("authorization"))
    return runtime.auth.store


AdminKeys = Annotated[KeyStore, Depends(admin_keys)]
