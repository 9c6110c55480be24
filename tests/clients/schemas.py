"""What the client tests ask the gateway for: the pydantic models and the tool every library uses.

The simulated upstreams answer ``json_schema`` requests with a valid instance of the schema (strict
too) and tool calls with valid arguments; JSON mode (``json_object``) always answers
``{"answer": text}``, so the JSON-mode tests ask for ``Answer``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

# the simulated models tag every text answer (and the first free string of structured ones)
SIM_MODELS = ("sim-cheap", "sim-frontier")
TAG = "[sim-"
QUESTION = "What is the capital of France?"
WEATHER_QUESTION = "What is the weather in Paris right now?"


class City(BaseModel):
    """A city, as the model describes it."""

    name: str
    country: str
    population: int = Field(ge=0)
    kind: Literal["capital", "city", "town"]
    landmarks: list[str]


class Answer(BaseModel):
    """A JSON-mode answer."""

    answer: str


class GetWeather(BaseModel):
    """Get the current weather in a city."""

    city: str


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}


def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return f"sunny, 21 C in {city}"


def assert_city(city: object) -> None:
    """A complete, valid ``City`` (pydantic validated it; the checks say the fields were filled)."""
    assert isinstance(city, City), city
    assert city.name and city.country
    assert city.population >= 0
    assert city.kind in ("capital", "city", "town")
    assert all(isinstance(landmark, str) for landmark in city.landmarks)
