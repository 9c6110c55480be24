"""Upstream simulator: a real OpenAI-compatible HTTP server on loopback for tests, demos and benchmarks.

It answers ``GET /v1/models``, ``POST /v1/chat/completions`` (plain and streaming, with usage and tool calls)
and ``GET /health`` for two models, ``sim-cheap`` (fast) and ``sim-frontier`` (slow), with deterministic text,
realistic pacing and seeded fault injection (HTTP errors, hangs, TCP resets, truncated and malformed bodies).

Run it with ``triage simulate`` or ``python -m gateway.simulator``; in-process use
:class:`gateway.simulator.server.SimulatorServer` or :func:`gateway.simulator.server.serve`.
Fault grammar: see :mod:`gateway.simulator.faults`.
"""
