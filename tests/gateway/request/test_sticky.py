"""Which conversation a turn continues (the documented hash), and how a turn moves its floor."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from gateway.config_ladder import Sticky
from gateway.request.sticky import Stickiness, conversation_id

FIRST = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Prove Fermat's little theorem."}]
LATER = [*FIRST, {"role": "assistant", "content": "..."}, {"role": "user", "content": "thanks!"}]


def test_turns_of_one_conversation_share_its_id_with_nothing_sent_by_the_client() -> None:
    assert conversation_id("t1", {"messages": FIRST}) == conversation_id("t1", {"messages": LATER})
    expected = hashlib.sha256(orjson.dumps(["t1", "content", "Be brief.", "Prove Fermat's little theorem."]))
    assert conversation_id("t1", {"messages": LATER}) == expected.hexdigest()[:32]


def test_other_tenants_system_prompts_and_openings_are_other_conversations() -> None:
    base = conversation_id("t1", {"messages": FIRST})
    assert conversation_id("t2", {"messages": FIRST}) != base
    other_system = [{"role": "system", "content": "Be thorough."}, FIRST[1]]
    assert conversation_id("t1", {"messages": other_system}) != base
    parts = [{"role": "system", "content": [{"type": "text", "text": "Be brief."}]}, FIRST[1]]
    assert conversation_id("t1", {"messages": parts}) == base  # text parts read like a string


def test_the_header_then_metadata_name_the_conversation_when_present() -> None:
    body: dict[str, Any] = {"messages": FIRST, "user": "u1", "metadata": {"conversation_id": "c-42"}}
    by_metadata = conversation_id("t1", body)
    assert by_metadata == conversation_id("t1", {**body, "messages": [{"role": "user", "content": "other"}]})
    assert by_metadata != conversation_id("t1", {**body, "user": "u2"})
    assert conversation_id("t1", body, header="h-1") == conversation_id("t1", {"messages": LATER}, header="h-1")
    assert conversation_id("t1", body, header="h-1") != by_metadata


async def test_a_turn_raises_the_floor_and_never_lowers_it() -> None:
    sticky = Stickiness({"ladder": Sticky(ttl_s=60)})
    rungs = ("small", "mid", "frontier")
    raw = {"messages": FIRST}
    assert "ladder" in sticky and "auto" not in sticky
    assert await sticky.recall("auto", raw, "t", None, 0.0) is None
    turn = await sticky.recall("ladder", raw, "t", None, 0.0)
    assert turn is not None and turn.floor is None
    await sticky.remember(turn, "mid", rungs, 0.0)
    turn = await sticky.recall("ladder", raw, "t", None, 1.0)
    assert turn is not None and turn.floor == "mid"
    await sticky.remember(turn, "small", rungs, 1.0)  # a breaker moved this turn down: the floor stays mid
    turn = await sticky.recall("ladder", raw, "t", None, 2.0)
    assert turn is not None and turn.floor == "mid"
    await sticky.remember(turn, "frontier", rungs, 2.0)
    turn = await sticky.recall("ladder", raw, "t", None, 61.5)  # 59.5 s after the last turn
    assert turn is not None and turn.floor == "frontier"
    assert (await sticky.recall("ladder", raw, "t", None, 200.0)).floor is None  # type: ignore[union-attr]
