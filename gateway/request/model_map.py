"""litellm's bundled model map (prices, context windows, capabilities), read without importing litellm.

Importing litellm costs ~1.8 s and ~150 MB per process; a gateway whose tiers all use the
relay never needs it, yet prices and capabilities of tiers that do not declare them come
from litellm's map. The map is the JSON file litellm ships (what it reads itself with
``LITELLM_LOCAL_MODEL_COST_MAP=True``), found through the package's location alone, so
litellm's ``__init__`` never runs. It answers for OpenAI-protocol models (``openai/...``,
the relay's) exactly as ``litellm.get_model_info`` does — the model as written, else the
name after the prefix when the entry is OpenAI's (a test compares the two over every such
name in the map); any other provider's names are litellm's own business (``lookup``).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import orjson

FILE = "model_prices_and_context_window_backup.json"


@cache
def _entries() -> Mapping[str, Mapping[str, Any]]:
    spec = importlib.util.find_spec("litellm")  # locates the package; does not import it
    if spec is None or not spec.submodule_search_locations:
        return {}
    path = Path(next(iter(spec.submodule_search_locations))) / FILE
    data = orjson.loads(path.read_bytes()) if path.exists() else {}
    return {k: v for k, v in data.items() if isinstance(v, dict) and k != "sample_spec"}


def openai_model_info(model: str) -> Mapping[str, Any] | None:
    """The map's entry for an ``openai/<name>`` model, or None when it has none."""
    entries = _entries()
    entry = entries.get(model)
    if entry is not None:
        return entry
    entry = entries.get(model.removeprefix("openai/"))
    return entry if entry is not None and entry.get("litellm_provider") == "openai" else None


def lookup(model: str) -> Mapping[str, Any] | None:
    """The model map's entry for ``model`` (None: not in the map); litellm is imported only for
    models of other providers, whose tiers use the litellm transport anyway."""
    if model.startswith("openai/"):
        return openai_model_info(model)
    import litellm

    try:
        info: Mapping[str, Any] = litellm.get_model_info(model)
    except Exception:  # litellm raises bare Exception for unmapped models
        return None
    return info
