"""``GET /v1/models``: the profiles and tiers a client may name as ``model``."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from gateway.http.deps import Caller, Serving
from gateway.protocol.errors import ModelNotFound, json_response
from gateway.protocol.schemas import ModelCard, ModelList

models_api = APIRouter()


@models_api.get("/v1/models")
async def list_models(caller: Caller, runtime: Serving) -> Response:
    settings = runtime.settings
    cards = [ModelCard(id=name, owned_by="triage-profile") for name in settings.profiles]
    cards += [ModelCard(id=name, owned_by="triage-tier") for name in settings.tiers]
    return json_response(200, ModelList(data=cards).model_dump())


@models_api.get("/v1/models/{model_id}")
async def get_model(model_id: str, caller: Caller, runtime: Serving) -> Response:
    settings = runtime.settings
    if model_id in settings.profiles:
        return json_response(200, ModelCard(id=model_id, owned_by="triage-profile").model_dump())
    if model_id in settings.tiers:
        return json_response(200, ModelCard(id=model_id, owned_by="triage-tier").model_dump())
    raise ModelNotFound(f"The model '{model_id}' does not exist", param="model")
