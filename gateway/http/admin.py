"""``/admin/keys``: create, list and revoke API keys (master key only)."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from gateway.http.deps import AdminKeys, Serving, read_body
from gateway.protocol.errors import InvalidRequest, ModelNotFound, error_body, json_response
from gateway.settings import ConfigError
from gateway.state.keys import KeyRecord, new_key

admin_api = APIRouter()


class KeySpec(BaseModel):
    """``POST /admin/keys``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    profiles: list[str] | None = None  # None: every profile
    tiers: list[str] | None = None  # None: every tier
    budget_usd: float | None = Field(None, gt=0)
    rpm: int | None = Field(None, gt=0)
    tpm: int | None = Field(None, gt=0)
    expires_at: float | None = None  # unix time
    ttl_s: float | None = Field(None, gt=0)  # or: expires this many seconds from now
    max_n: int | None = Field(None, ge=1, le=128)  # the most choices (n) a request may ask for
    outcomes_opt_out: bool = False  # never shadow or store this tenant's requests


@admin_api.post("/admin/keys", status_code=201)
async def create_key(request: Request, keys: AdminKeys, runtime: Serving) -> Response:
    spec = await read_body(request, KeySpec)
    settings = runtime.settings
    unknown = [p for p in spec.profiles or () if p not in settings.profiles and p not in settings.tiers]
    unknown += [t for t in spec.tiers or () if t not in settings.tiers]
    if unknown:
        raise InvalidRequest(f"unknown profile(s) or tier(s): {', '.join(unknown)}", param="profiles")
    now = time.time()
    key_id, secret = new_key()
    expires = spec.expires_at if spec.expires_at is not None else (now + spec.ttl_s if spec.ttl_s else None)
    record = KeyRecord(
        id=key_id,
        name=spec.name,
        created_at=now,
        profiles=tuple(spec.profiles) if spec.profiles is not None else None,
        tiers=tuple(spec.tiers) if spec.tiers is not None else None,
        budget_usd=spec.budget_usd,
        rpm=spec.rpm,
        tpm=spec.tpm,
        expires_at=expires,
        max_n=spec.max_n,
        outcomes_opt_out=spec.outcomes_opt_out,
        prefix=secret[:8],
    )
    await keys.create(record, secret)
    return json_response(201, {**record.public(), "key": secret})


@admin_api.get("/admin/keys")
async def list_keys(keys: AdminKeys) -> Response:
    records = await keys.list()
    return json_response(200, {"object": "list", "data": [r.public() for r in records]})


@admin_api.delete("/admin/keys/{key_id}")
async def revoke_key(key_id: str, keys: AdminKeys) -> Response:
    if not await keys.revoke(key_id):
        raise ModelNotFound(f"no key with id {key_id!r}", param="key_id", code="key_not_found")
    return json_response(200, {"id": key_id, "object": "key", "deleted": True})


@admin_api.post("/admin/routers/reload")
async def reload_routers(keys: AdminKeys, runtime: Serving) -> Response:
    """Rebuild every profile's router and calibration from its artifact; swap them atomically.

    If a router fails to load, the previous ones keep serving and the answer says why.
    """
    try:
        profiles = await runtime.reload_routers()
    except ConfigError as exc:
        body = error_body(
            f"router reload failed; still serving the previous routers: {exc}", "server_error", None, "reload_failed"
        )
        return json_response(503, body)
    return json_response(200, {"object": "reload", "profiles": profiles})
