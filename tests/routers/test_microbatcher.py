"""The embedding router's micro-batcher, with a stand-in model (no weights needed)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from routers.embedding import MicroBatcher


class Recorder:
    """A fake model: records batch sizes and the thread it ran on."""

    def __init__(self, fail: bool = False) -> None:
        self.batches: list[int] = []
        self.threads: set[str] = set()
        self.fail = fail

    def __call__(self, texts: list[str]) -> list[float]:
        self.batches.append(len(texts))
        self.threads.add(threading.current_thread().name)
        if self.fail:
            raise RuntimeError("model broke")
        return [len(t) / 100 for t in texts]


async def test_concurrent_requests_are_coalesced_off_the_loop() -> None:
    model = Recorder()
    batcher = MicroBatcher(model, max_batch=8, max_wait_s=0.01)
    try:
        texts = ["x" * i for i in range(20)]
        values = await asyncio.gather(*(batcher.submit(t) for t in texts))
        assert values == [i / 100 for i in range(20)]
        assert sum(model.batches) == 20 and max(model.batches) <= 8 and len(model.batches) < 20
        assert model.threads and threading.current_thread().name not in model.threads
    finally:
        await batcher.aclose()


async def test_lone_request_waits_at_most_max_wait() -> None:
    model = Recorder()
    batcher = MicroBatcher(model, max_batch=64, max_wait_s=0.002)
    try:
        assert await asyncio.wait_for(batcher.submit("abc"), timeout=1.0) == 0.03
        assert model.batches == [1]
    finally:
        await batcher.aclose()


async def test_failures_reach_every_waiter_and_the_batcher_recovers() -> None:
    model = Recorder(fail=True)
    batcher = MicroBatcher(model, max_batch=4, max_wait_s=0.005)
    try:
        results = await asyncio.gather(*(batcher.submit("a") for _ in range(3)), return_exceptions=True)
        assert all(isinstance(r, RuntimeError) for r in results)
        model.fail = False
        assert await batcher.submit("abcd") == 0.04
    finally:
        await batcher.aclose()


async def test_explicit_batches_run_on_the_worker() -> None:
    model = Recorder()
    batcher = MicroBatcher(model)
    try:
        assert await batcher.run(["a", "bb"]) == [0.01, 0.02]
    finally:
        await batcher.aclose()
    with pytest.raises(RuntimeError):
        await batcher.run(["a"])  # closed executor refuses work


def test_a_batcher_survives_a_new_event_loop() -> None:
    model = Recorder()
    batcher = MicroBatcher(model, max_wait_s=0.001)
    assert asyncio.run(batcher.submit("ab")) == 0.02  # first loop ends with the collector pending
    assert asyncio.run(asyncio.wait_for(batcher.submit("abc"), 2.0)) == 0.03
    asyncio.run(batcher.aclose())
