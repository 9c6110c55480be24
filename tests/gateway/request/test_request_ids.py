"""Request ids (#16.6): the SDK's ``_request_id`` works, a client's well-formed ``x-request-id`` is
kept, and ids are per tenant, so feedback can never reach another tenant's request."""

from __future__ import annotations

from pathlib import Path

import httpx
import openai

from tests.gateway.quality.test_shadow import MASTER, config, gateway, judge_prefers, rows


async def test_the_sdk_sees_the_request_id_and_client_ids_are_per_tenant(tmp_path: Path) -> None:
    settings = config(tmp_path, {"rate": 0.0}, auth={"mode": "keys", "master_key_env": "M"})
    async with gateway(settings, judge_prefers("frontier"), {"M": MASTER}) as (client, _runtime):
        admin = {"Authorization": f"Bearer {MASTER}"}
        a = (await client.post("/admin/keys", headers=admin, json={"name": "a"})).json()["key"]
        b = (await client.post("/admin/keys", headers=admin, json={"name": "b"})).json()["key"]
        transport = client._transport
        async with httpx.AsyncClient(transport=transport, base_url="http://gw/v1") as http:
            sdk = openai.AsyncOpenAI(api_key=a, base_url="http://gw/v1", http_client=http, max_retries=0)
            completion = await sdk.chat.completions.create(model="auto", messages=[{"role": "user", "content": "hi"}])
            assert completion._request_id is not None and completion._request_id.startswith("req_")
        body = {"model": "auto", "messages": [{"role": "user", "content": "hi"}]}
        mine = "order-42:retry-1"
        first = await client.post(
            "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {a}", "x-request-id": mine}
        )
        assert first.headers["x-request-id"] == first.headers["x-triage-request-id"] == mine
        same = await client.post(
            "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {b}", "x-request-id": mine}
        )
        assert same.headers["x-request-id"] == mine  # tenant b may use the same id...
        bad = await client.post(
            "/v1/chat/completions",
            json=body,
            headers={"Authorization": f"Bearer {a}", "x-request-id": "no spaces allowed!"},
        )
        assert bad.headers["x-request-id"].startswith("req_")  # a malformed id is replaced
        up = {"request_id": mine, "thumbs": "up"}
        ok_a = await client.post("/v1/feedback", headers={"Authorization": f"Bearer {a}"}, json=up)
        ok_b = await client.post("/v1/feedback", headers={"Authorization": f"Bearer {b}"}, json=up)
        assert ok_a.status_code == ok_b.status_code == 200  # ...and each reaches only its own request
        assert ok_a.json()["request_id"] == ok_b.json()["request_id"] == mine
    feedback = [r for r in rows(tmp_path) if r["kind"] == "feedback"]
    assert [r["request_id"] for r in feedback] == [mine, mine]
    assert feedback[0]["tenant"] != feedback[1]["tenant"]
