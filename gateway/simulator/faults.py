"""Fault specifications and the seeded fault injector.

Grammar (server flag ``--fault`` and request header ``x-sim-fault``)::

    header  := spec ("," spec)*
    spec    := KIND (";" param)*
    flag    := KIND "=" RATE (";" param)*
    param   := "rate=" FLOAT | "first=" INT | "key=" STR | "after=" INT | "retry_after=" STR
    KIND    := "429" | "500" | "503" | "timeout" | "reset" | "truncate" | "malformed"

``rate`` (default 1.0) is the probability that the fault fires; ``first=N`` limits the fault to the first N
requests that carry its ``key`` (default: the KIND); ``after=M`` (default 3) is how many content chunks a
stream sends before a stream fault; ``retry_after`` (default "0") is the 429's ``Retry-After`` header.
Specs are tried in order (header specs before server specs) and the first one that fires wins.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass

KINDS: frozenset[str] = frozenset({"429", "500", "503", "timeout", "reset", "truncate", "malformed"})
DEFAULT_AFTER = 3


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """One fault: what goes wrong, how often, and its parameters."""

    kind: str
    rate: float = 1.0
    first: int | None = None
    key: str = ""
    after: int = DEFAULT_AFTER
    retry_after: str = "0"

    @property
    def counter_key(self) -> str:
        return self.key or self.kind


def _apply_param(fields: dict[str, object], item: str) -> None:
    name, sep, value = item.partition("=")
    name, value = name.strip().lower(), value.strip()
    if not sep or not value:
        raise ValueError(f"fault parameter {item!r} is not NAME=VALUE")
    try:
        if name == "rate":
            rate = float(value)
            if not 0.0 <= rate <= 1.0:
                raise ValueError
            fields["rate"] = rate
        elif name in ("first", "after"):
            number = int(value)
            if number < 0:
                raise ValueError
            fields[name] = number
        elif name in ("key", "retry_after"):
            fields[name] = value
        else:
            raise KeyError(name)
    except ValueError:
        raise ValueError(f"fault parameter {name!r} has a bad value {value!r}") from None
    except KeyError:
        raise ValueError(f"unknown fault parameter {name!r}") from None


def _build(kind: str, params: Iterable[str], fields: dict[str, object]) -> FaultSpec:
    kind = kind.strip().lower()
    if kind not in KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(sorted(KINDS))}")
    for item in params:
        if item.strip():
            _apply_param(fields, item)
    return FaultSpec(kind=kind, **fields)  # type: ignore[arg-type]


def parse_header(value: str) -> tuple[FaultSpec, ...]:
    """Parse an ``x-sim-fault`` header value: ``KIND[;rate=R][;first=N][;key=K][;after=M][;retry_after=S]``."""
    specs = []
    for part in value.split(","):
        if part.strip():
            kind, *params = part.split(";")
            specs.append(_build(kind, params, {}))
    return tuple(specs)


def parse_flag(value: str) -> FaultSpec:
    """Parse a ``--fault`` flag value: ``KIND=RATE[;param...]`` (e.g. ``500=0.1`` or ``reset=0.05;after=2``)."""
    head, *params = value.split(";")
    kind, sep, rate = head.partition("=")
    if not sep:
        raise ValueError(f"--fault {value!r} is not KIND=RATE")
    return _build(kind, [f"rate={rate}", *params], {})


class FaultInjector:
    """Decides, reproducibly for a given seed and request order, which fault (if any) hits a request."""

    def __init__(self, seed: int, server_faults: Iterable[FaultSpec] = ()) -> None:
        self._rng = random.Random(seed)
        self._server_faults = tuple(server_faults)
        self._counts: dict[str, int] = {}

    def choose(self, header_specs: Iterable[FaultSpec] = ()) -> FaultSpec | None:
        """The first fault that fires for this request: header specs first, then the server's own."""
        for spec in header_specs:
            if self._fires(spec):
                return spec
        for spec in self._server_faults:
            if self._fires(spec):
                return spec
        return None

    def _fires(self, spec: FaultSpec) -> bool:
        if spec.first is not None:
            key = spec.counter_key
            seen = self._counts.get(key, 0) + 1
            self._counts[key] = seen
            if seen > spec.first:
                return False
        if spec.rate >= 1.0:
            return True
        return spec.rate > 0.0 and self._rng.random() < spec.rate
