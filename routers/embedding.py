"""The ``embedding`` router: all-MiniLM-L6-v2 (ONNX, int8 per-channel) plus logistic heads.

The heads (``heads.npz``: ``outcome``, ``everyday``, ``domain``) are combined by the
domain-gated blend and Platt map in ``blend.json`` (``routers.blend``).

Run time needs only onnxruntime, tokenizers and numpy. The encoder reads the first
``MAX_TOKENS`` (96) tokens of the view (``prompt_text``), padded only within a batch;
its output is the mean-pooled, L2-normalised sentence embedding (pooling is inside the
ONNX graph, see ``routers.training.export_encoder``). 96 tokens hold 70% of the dev
prompts whole; on routing-dev a 96-token cap scored the same APGR as 128 (0.666 vs 0.667)
at ~3/4 of the cost. One prompt costs up to ~9 ms of CPU, so inference never runs on
the event loop: single requests go through a micro-batcher that runs one batch at a time
on a single worker thread. A lone request runs at once; when several are waiting, it
collects for at most ``max_wait_s`` (2 ms) or ``max_batch`` (8) requests; requests that
arrive while a batch runs form the next batch. (On this CPU a batch costs about as much
per prompt as single prompts do, so small batches keep the tail short.)

Dynamic int8 quantisation takes activation ranges per batch, so a prompt's score moves a
little (typically < 0.01) with its batch-mates; the same batch always gives the same scores.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from routers.artifact import Heads, load_blend, load_calibration, require
from routers.base import Conversation, RouterScore, prompt_text
from routers.blend import GatedBlend
from routers.calibration import Calibration

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

MAX_TOKENS = 96
CHUNK = 32


@dataclass(frozen=True, slots=True)
class OnnxEncoder:
    """Tokenizer + ONNX session; ``encode`` gives L2-normalised float32 rows."""

    session: Any
    tokenizer: Any

    @classmethod
    def load(cls, folder: Path, threads: int = 1) -> OnnxEncoder:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(folder / "encoder.int8.onnx"), options, providers=["CPUExecutionProvider"])
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        tokenizer.enable_padding()  # to the longest in the batch, not to a fixed length
        return cls(session, tokenizer)

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        import numpy as np

        encodings = self.tokenizer.encode_batch(list(texts))
        ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
        (out,) = self.session.run(None, {"input_ids": ids, "attention_mask": mask})
        return np.asarray(out, dtype=np.float32)


class MicroBatcher:
    """Coalesces concurrent single requests into batches run on one worker thread."""

    def __init__(self, fn: Callable[[list[str]], list[float]], max_batch: int = 8, max_wait_s: float = 0.002) -> None:
        self._fn = fn
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="router-embedding")
        self._queue: asyncio.Queue[tuple[str, asyncio.Future[float]]] | None = None
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def submit(self, text: str) -> float:
        loop = asyncio.get_running_loop()
        if self._queue is None or self._task is None or self._task.done() or self._loop is not loop:
            self._loop = loop  # (re)start the collector on the loop that is asking
            self._queue = asyncio.Queue()
            self._task = loop.create_task(self._collect(self._queue))
        future: asyncio.Future[float] = loop.create_future()
        await self._queue.put((text, future))
        return await future

    async def run(self, texts: list[str]) -> list[float]:
        """Run one batch on the worker thread (used for explicit batches too)."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, self._fn, texts)

    async def _collect(self, queue: asyncio.Queue[tuple[str, asyncio.Future[float]]]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await queue.get()]
            await asyncio.sleep(0)  # let requests started in the same tick enqueue
            self._drain(queue, batch)
            deadline = loop.time() + self.max_wait_s
            # A lone request runs at once; under concurrency, collect for at most max_wait_s.
            while 1 < len(batch) < self.max_batch and (left := deadline - loop.time()) > 0:
                try:
                    batch.append(await asyncio.wait_for(queue.get(), left))
                except TimeoutError:
                    break
                self._drain(queue, batch)
            await self._settle(batch)

    def _drain(self, queue: asyncio.Queue[tuple[str, asyncio.Future[float]]], batch: list[Any]) -> None:
        while len(batch) < self.max_batch and not queue.empty():
            batch.append(queue.get_nowait())

    async def _settle(self, batch: list[tuple[str, asyncio.Future[float]]]) -> None:
        try:
            values = await self.run([text for text, _ in batch])
        except Exception as exc:  # every waiter learns about the failure
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), value in zip(batch, values, strict=True):
            if not future.done():
                future.set_result(value)

    async def aclose(self) -> None:
        if self._task is not None and self._loop is asyncio.get_running_loop():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._task = None
        # wait for a running batch without blocking the event loop
        await asyncio.to_thread(self.executor.shutdown, wait=True)


class EmbeddingRouter:
    """MiniLM embedding, logistic heads and their gated blend, off the event loop, micro-batched."""

    def __init__(
        self, encoder: OnnxEncoder, heads: Heads, blend: GatedBlend, calibration: Calibration | None = None
    ) -> None:
        self.name = "embedding"
        self.calibration = calibration or Calibration.uniform()
        self.encoder = encoder
        self.heads = heads
        self.blend = blend
        self.platt = blend.platt
        self.batcher = MicroBatcher(self.score_texts)

    @classmethod
    def from_artifacts(cls, folder: Path) -> EmbeddingRouter:
        require(folder, "encoder.int8.onnx", "tokenizer.json", "heads.npz", "blend.json")
        heads = Heads.load(folder / "heads.npz")
        return cls(OnnxEncoder.load(folder), heads, load_blend(folder), load_calibration(folder))

    def logits(self, texts: Sequence[str]) -> list[float]:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths pad less
        out = [0.0] * len(texts)
        for start in range(0, len(order), CHUNK):
            rows = order[start : start + CHUNK]
            heads = self.heads.by_name("embedding", self.encoder.encode([texts[i] for i in rows]))
            for i, h in zip(rows, heads, strict=True):
                out[i] = self.blend.logit(h)
        return out

    def score_texts(self, texts: Sequence[str]) -> list[float]:
        return [self.platt(z) for z in self.logits(texts)]

    async def score(self, messages: Conversation) -> RouterScore:
        start = time.perf_counter()
        value = await self.batcher.submit(prompt_text(messages))
        return RouterScore(value, self.name, time.perf_counter() - start)

    async def score_batch(self, conversations: Sequence[Conversation]) -> list[RouterScore]:
        start = time.perf_counter()
        values = await self.batcher.run([prompt_text(c) for c in conversations])
        each = (time.perf_counter() - start) / max(len(conversations), 1)
        return [RouterScore(v, self.name, each) for v in values]

    async def aclose(self) -> None:
        await self.batcher.aclose()
