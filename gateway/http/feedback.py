"""``POST /v1/feedback``: a score for an earlier request, from the tenant that made it.

Body: ``{"request_id": "req_…", "score": 0.8}`` (a score in [0, 1]) or
``{"request_id": "req_…", "thumbs": "up" | "down"}`` (1 and 0). Authenticated like
``/v1/*``; a key may give feedback only on its own tenant's requests (request ids are
looked up per tenant, since clients may choose them with ``x-request-id``). An unknown or expired request id — or another tenant's — is a 404. The outcome
is stored unless the request's key opted out.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.responses import Response

from gateway.http.deps import Caller, Serving, read_body
from gateway.protocol.errors import ModelNotFound, json_response

feedback_api = APIRouter()


class Feedback(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request_id: str = Field(min_length=1, max_length=100)
    score: float | None = Field(None, ge=0.0, le=1.0)
    thumbs: Literal["up", "down"] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> Feedback:
        if (self.score is None) == (self.thumbs is None):
            raise ValueError("give exactly one of score (0..1) or thumbs (up/down)")
        return self


@feedback_api.post("/v1/feedback")
async def feedback(request: Request, caller: Caller, runtime: Serving) -> Response:
    if runtime.quality is None:
        raise ModelNotFound(
            "feedback needs the quality loop, which this gateway does not run (no `quality` section)",
            code="feedback_disabled",
        )
    spec = await read_body(request, Feedback)
    ref = await runtime.quality.lookup(caller.namespace, spec.request_id)
    if ref is None:
        raise ModelNotFound(
            f"no request {spec.request_id!r} to give feedback on (unknown, expired, or another tenant's)",
            param="request_id",
            code="request_not_found",
        )
    score = spec.score if spec.score is not None else (1.0 if spec.thumbs == "up" else 0.0)
    kind = "score" if spec.score is not None else spec.thumbs or "score"
    stored = await runtime.quality.feedback(ref, score, kind)
    body = {"object": "feedback", "request_id": ref.request_id, "score": score, "stored": stored and not ref.opted_out}
    return json_response(200, body)
