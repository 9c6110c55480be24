"""litellm's model map read without litellm: the same answers as ``litellm.get_model_info``."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from gateway.request import model_map

FIELDS = ("input_cost_per_token", "output_cost_per_token", "supports_function_calling", "supports_vision", "mode")


def _norm(info: Any) -> dict[str, Any] | None:
    if info is None:
        return None
    return {f: (info.get(f) or 0) if "cost" in f else info.get(f) for f in FIELDS}


@pytest.mark.processes  # imports litellm (~2 s)
def test_every_openai_model_in_the_map_reads_as_litellm_reads_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    entries = model_map._entries()
    names = [f"openai/{name}" for name in entries] + [
        n for n, e in entries.items() if e.get("litellm_provider") == "openai"
    ]
    names += ["openai/sim-cheap", "openai/Qwen/Qwen2.5-7B-Instruct", "openai/gpt-3.5-turbo-instruct"]
    assert len(names) > 1000
    differ = []
    for name in names:
        try:
            theirs = _norm(litellm.get_model_info(name))
        except Exception:  # litellm raises bare Exception for unmapped models
            theirs = None
        if theirs != _norm(model_map.lookup(name)):
            differ.append(name)
    assert differ == []


def test_known_and_unknown_openai_models() -> None:
    gpt4o = model_map.lookup("openai/gpt-4o")
    assert gpt4o is not None and gpt4o["input_cost_per_token"] == pytest.approx(2.5e-6)
    assert model_map.lookup("openai/sim-cheap") is None
    assert model_map.lookup("openai/claude-3-5-sonnet-20240620") is None  # Anthropic's entry, not OpenAI's


@pytest.mark.processes
def test_a_relay_only_config_never_imports_litellm() -> None:
    code = (
        "import sys\n"
        "from gateway.settings import load_settings, DEMO_CONFIG\n"
        "from gateway.wiring import build_runtime\n"
        "settings = load_settings(DEMO_CONFIG, {})\n"
        "assert all(t.resolved_transport == 'relay' for t in settings.tiers.values())\n"
        "build_runtime(settings)\n"
        "print('litellm' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "False"
