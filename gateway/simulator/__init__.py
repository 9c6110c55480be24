"""Upstream simulator: a real OpenAI-compatible HTTP server on loopback for tests, demos and benchmarks.

It answers ``GET /v1/models``, ``POST /v1/chat/completions`` (plain and streaming, with usage and tool calls)
and ``GET /health`` for ``sim-cheap`` (fast), ``sim-mid``, ``sim-frontier`` (slow), ``sim-reasoning`` (slow to
its first token; like OpenAI's reasoning models it refuses a ``temperature`` or ``top_p`` other than 1) and
``sim-judge`` (a pairwise judge that follows a truth file of answer qualities: :mod:`gateway.simulator.judge`),
with deterministic text, realistic pacing and seeded fault injection (HTTP errors, hangs, TCP resets,
truncated and malformed bodies). Like a real
provider it honours ``response_format`` (JSON mode, strict structured outputs: :mod:`gateway.simulator.schema`),
``stop``, ``logprobs`` / ``top_logprobs``, ``max_tokens`` and ``n`` (:mod:`gateway.simulator.options`).
The same models answer ``POST /v1/responses`` and ``POST /v1/completions``, and ``sim-embedding`` answers
``POST /v1/embeddings``, with the same pacing and faults (:mod:`gateway.simulator.endpoints`).

Run it with ``triage simulate`` or ``python -m gateway.simulator``; in-process use
:class:`gateway.simulator.server.SimulatorServer` or :func:`gateway.simulator.server.serve`.
Fault grammar: see :mod:`gateway.simulator.faults`.
"""
