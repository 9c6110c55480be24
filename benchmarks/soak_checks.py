"""The soak's verdicts, from the client's records, the chaos events, the scrapes and Redis.

- **Lost**: an answer that is a connection error, a timeout, a cut stream, or a 5xx that
  is not an OpenAI-shaped upstream error (502 ``upstream_error`` / 504 ``upstream_timeout``),
  except the requests in flight on the SIGKILLed replica (sent to it before the kill,
  unanswered then), which are counted apart.
- **Rate limits**: per key and minute window (the gateways' window, by due time), 2xx
  answers <= ``rpm`` + 1 and their tokens <= ``tpm`` + one request's tokens; while Redis
  is unavailable each replica counts alone (failure mode ``local``), so a window that
  overlaps the outage may also admit what was sent during it, and no more.
- **Budgets**: per key, the spend the client saw on requests sent while Redis was up, and the
  gateway's own counter, <= limit + one request per replica; what was served while Redis was
  unavailable (budgets fail open) is reported.
- **Metrics**: the increase of ``triage_requests_total`` summed over replicas equals the
  client's count of answers from a gateway, less at most the answers a replica gave after
  its last scrape before it died (they vanish with the process).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from soak_chaos import Event  # type: ignore[import-not-found]
from soak_client import KeySpec, Record  # type: ignore[import-not-found]
from soak_scrape import Scrapes, by_label  # type: ignore[import-not-found]

from common import percentile  # type: ignore[import-not-found]

LOST = ("connection_error", "timeout", "cut", "lb_error", "gateway_5xx", "unshaped_4xx")
SCRAPE_SLACK_S = 0.5  # a request is recorded just after its answer is sent (a background task)


@dataclass
class Verdict:
    failures: list[str] = field(default_factory=list)

    def check(self, ok: bool, message: str) -> None:
        if not ok:
            self.failures.append(message)


def first(events: Sequence[Event], name: str, detail: str = "") -> float | None:
    return next((e.at for e in events if e.name == name and e.detail.startswith(detail)), None)


def outage(events: Sequence[Event], end: float) -> tuple[float, float] | None:
    """The Redis outage: from just before the primary's kill (its last writes may not have reached
    its replica) until every replica reported Redis ok, plus the guard's back-off and a margin."""
    killed = first(events, "kill_redis_primary")
    if killed is None:
        return None
    recovered = first(events, "redis_ok")
    return killed - 0.5, (recovered + 1.0) if recovered is not None else end


def in_flight(records: Sequence[Record], events: Sequence[Event]) -> list[Record]:
    """Requests sent to a SIGKILLed replica before the kill and not answered by then.

    HAProxy names the replica on its 502 (``X-Backend``) or in its log. A request cut at
    the kill whose client connection HAProxy closed without an answer or a log line (seen
    with HAProxy 2.6) names none: it counts as in flight when it was sent before the kill
    and failed within a second of it, as a connection error.
    """
    out: list[Record] = []
    for event in (e for e in events if e.name == "sigkill"):
        for r in records:
            if r.outcome == "ok" or r.due > event.at or r.done < event.at:
                continue
            silent = not r.backend and r.status == 0 and r.done <= event.at + 1.0
            if r.backend == event.detail or silent:
                out.append(r)
    return out


def lost(records: Sequence[Record], events: Sequence[Event]) -> tuple[list[Record], list[Record]]:
    flying = {id(r) for r in in_flight(records, events)}
    bad = [r for r in records if r.outcome in LOST and id(r) not in flying]
    return bad, [r for r in records if id(r) in flying]


def _admitted(record: Record) -> bool:
    return record.status == 200  # a 2xx, whole, cut or ended by an error event: admitted either way


def rate_limits(records: Sequence[Record], keys: Sequence[KeySpec], window_out: tuple[float, float] | None) -> Any:
    """Per limited key and minute window: what was sent, admitted (2xx) and refused, and the bounds.

    In a window that overlaps the Redis outage each replica counts alone (failure mode
    ``local``), so the bound adds the key's requests sent while Redis was unavailable.
    """
    rows: list[dict[str, Any]] = []
    slack = max((r.tokens for r in records), default=0)
    for spec in (k for k in keys if k.rpm or k.tpm):
        windows: dict[int, list[Record]] = {}
        for r in (r for r in records if r.key == spec.name):
            windows.setdefault(int(r.due // 60), []).append(r)
        for window, inside in sorted(windows.items()):
            ok = [r for r in inside if _admitted(r)]
            down = [r for r in ok if window_out is not None and window_out[0] <= r.due <= window_out[1]]
            rows.append(
                {
                    "key": spec.name,
                    "window": window,
                    "rpm": spec.rpm,
                    "tpm": spec.tpm,
                    "sent": len(inside),
                    "admitted_2xx": len(ok),
                    "tokens_2xx": sum(r.tokens for r in ok),
                    "refused_429": sum(r.code == "rate_limit_exceeded" for r in inside),
                    "admitted_while_redis_down": len(down),
                    "rpm_bound": spec.rpm + 1 + len(down) if spec.rpm else None,
                    "tpm_bound": spec.tpm + slack + sum(r.tokens for r in down) if spec.tpm else None,
                }
            )
    return rows


def check_rate_limits(rows: Sequence[dict[str, Any]], verdict: Verdict) -> None:
    for row in rows:
        where = f"{row['key']} window {row['window']}"
        if row["rpm"]:
            verdict.check(
                row["admitted_2xx"] <= row["rpm_bound"], f"{where}: {row['admitted_2xx']} 2xx > {row['rpm_bound']}"
            )
        if row["tpm"]:
            verdict.check(
                row["tokens_2xx"] <= row["tpm_bound"], f"{where}: {row['tokens_2xx']} tokens > {row['tpm_bound']}"
            )
    for key in sorted({row["key"] for row in rows}):
        refused = sum(row["refused_429"] for row in rows if row["key"] == key)
        verdict.check(refused > 0, f"{key}: its limit was never reached (no 429 rate_limit_exceeded): test too weak")


def budgets(
    records: Sequence[Record],
    keys: Sequence[KeySpec],
    spent: dict[str, float],
    window_out: tuple[float, float] | None,
    replicas: int,
) -> list[dict[str, Any]]:
    rows = []
    for spec in (k for k in keys if k.budget_usd):
        limit = float(spec.budget_usd or 0.0)
        mine = [r for r in records if r.key == spec.name]
        during = [r for r in mine if window_out is not None and window_out[0] <= r.due <= window_out[1]]
        outside = [r for r in mine if r not in during]
        max_cost = max((r.cost_usd for r in mine), default=0.0)
        client_up = sum(r.cost_usd for r in outside)
        client_down = sum(r.cost_usd for r in during)
        rows.append(
            {
                "key": spec.name,
                "limit_usd": limit,
                "bound_usd": limit + replicas * max_cost,
                "max_request_usd": max_cost,
                "client_spend_redis_up_usd": client_up,
                "client_spend_redis_down_usd": client_down,
                "gateway_spend_usd": spent.get(spec.name, math.nan),
                "overshoot_usd": max(client_up + client_down, spent.get(spec.name, 0.0)) - limit,
                "refused_budget_exceeded": sum(r.code == "budget_exceeded" for r in mine),
            }
        )
    return rows


def check_budgets(rows: Sequence[dict[str, Any]], verdict: Verdict) -> None:
    for row in rows:
        key, bound = row["key"], row["bound_usd"]
        verdict.check(row["client_spend_redis_up_usd"] <= bound, f"{key}: client-seen spend over limit + 1/replica")
        gateway = row["gateway_spend_usd"]
        allowed = bound + row["client_spend_redis_down_usd"]
        verdict.check(not gateway > allowed, f"{key}: gateway's spend {gateway:.6f} > {allowed:.6f}")
        verdict.check(row["refused_budget_exceeded"] > 0, f"{key}: budget never exhausted: test too weak")


def metrics(
    records: Sequence[Record], events: Sequence[Event], scrapes: Scrapes, flying: Sequence[Record]
) -> dict[str, Any]:
    excluded = {id(r) for r in flying}
    answered = [r for r in records if r.from_gateway and id(r) not in excluded]
    ends = [(e.detail, e.at) for e in events if e.name == "sigkill"]
    ends += [(e.detail.split()[0], e.at) for e in events if e.name == "exited"]
    unscraped = 0
    for replica, end in ends:
        since = scrapes.last_scrape_before(replica, end) - SCRAPE_SLACK_S
        unscraped += sum(1 for r in answered if r.backend == replica and since < r.done <= end + SCRAPE_SLACK_S)
    increase = scrapes.increase()
    counted = sum(increase.values())
    client_classes: dict[str, int] = {}
    for r in answered:
        status_class = f"{r.status // 100}xx"
        client_classes[status_class] = client_classes.get(status_class, 0) + 1
    return {
        "client_answers_from_gateways": len(answered),
        "metrics_increase_summed": counted,
        "difference": len(answered) - counted,
        "tolerance_unscraped_before_death": unscraped,
        "client_by_status_class": client_classes,
        "metrics_by_status_class": by_label(increase, "status_class"),
        "scrape_failures": scrapes.failures,
    }


def check_metrics(row: dict[str, Any], verdict: Verdict) -> None:
    difference, tolerance = row["difference"], row["tolerance_unscraped_before_death"]
    verdict.check(
        0 <= difference <= tolerance, f"metrics disagree: client - metrics = {difference}, allowed 0..{tolerance}"
    )


def phases(records: Sequence[Record], events: Sequence[Event], start: float, end: float) -> list[dict[str, Any]]:
    marks = [(start, "steady")]
    marks += [
        (e.at, f"{e.name} {e.detail.split()[0] if e.detail else ''}".strip()) for e in events if e.name != "chaos_error"
    ]
    marks.append((end, "end"))
    out = []
    for (begin, name), (stop, _next) in itertools.pairwise(marks):
        inside = [r for r in records if begin <= r.due < stop]
        latencies = [r.latency_ms for r in inside if r.status and not math.isnan(r.done)]
        out.append(
            {
                "phase": name,
                "from_s": round(begin - start, 2),
                "to_s": round(stop - start, 2),
                "requests": len(inside),
                "lost": sum(r.outcome in LOST for r in inside),
                "upstream_errors": sum(r.outcome in ("upstream_error", "stream_error") for r in inside),
                "refused": sum(r.outcome == "refused" for r in inside),
                "p50_ms": percentile(latencies, 50),
                "p99_ms": percentile(latencies, 99),
            }
        )
    return out
