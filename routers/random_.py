"""The ``random`` router: a seeded baseline that scores uniformly at random.

Any learned router must beat it; on the routing data it gives the quality/cost line
that joins "all cheap" and "all frontier".
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence

from routers.base import Conversation, RouterScore, prompt_text
from routers.calibration import Calibration


class RandomRouter:
    """Scores a conversation with a pseudo-random number derived from its text and a seed.

    The score depends only on (seed, text), so the same prompt always gets the same
    score: runs repeat and replicas agree.
    """

    name = "random"

    def __init__(self, seed: int = 0) -> None:
        self._seed = seed.to_bytes(8, "little", signed=True)
        self.calibration = Calibration.uniform()

    def score_now(self, messages: Conversation) -> float:
        digest = hashlib.blake2b(prompt_text(messages).encode(), key=self._seed, digest_size=8).digest()
        return int.from_bytes(digest, "little") / 2**64

    async def score(self, messages: Conversation) -> RouterScore:
        start = time.perf_counter()
        value = self.score_now(messages)
        return RouterScore(value, self.name, time.perf_counter() - start)

    async def score_batch(self, conversations: Sequence[Conversation]) -> list[RouterScore]:
        return [await self.score(c) for c in conversations]

    async def aclose(self) -> None:
        return None
