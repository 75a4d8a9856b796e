"""The chats' leases against the real Redis (a db of their own, a key prefix per test): one holder at a time, renewed
only by its holder, released only by its holder, and handed over by expiry when a holder stops renewing."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest
import redis

from chat.lease import AgentLeases, Holder

LEASE_REDIS_URL = "redis://127.0.0.1:6379/13"  # never the db of the suite's channel layer
TTL = 0.5

ALPHA = Holder("host-a:101:aaaa", "agent-mailbox.a!1")
BETA = Holder("host-b:202:bbbb", "agent-mailbox.b!2")


def redis_is_running() -> bool:
    try:
        return bool(redis.Redis.from_url(LEASE_REDIS_URL, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


@pytest.fixture
async def leases() -> AsyncIterator[AgentLeases]:
    if not redis_is_running():
        if os.environ.get("VIDEOAGENT_REQUIRE_SERVICES") == "1":
            pytest.fail(f"Redis is not reachable at {LEASE_REDIS_URL}")
        pytest.skip(f"Redis is not reachable at {LEASE_REDIS_URL}")
    store = AgentLeases(url=LEASE_REDIS_URL, prefix=f"test-lease-{uuid.uuid4().hex}", ttl_seconds=TTL)
    yield store
    client = redis.Redis.from_url(LEASE_REDIS_URL)
    for key in client.scan_iter(f"{store.prefix}:*"):
        client.delete(key)
    await store.aclose()


async def test_the_first_holder_gets_the_lease_and_a_second_is_refused(leases):
    assert await leases.acquire("chat", ALPHA)
    assert not await leases.acquire("chat", BETA)
    assert not await leases.acquire("chat", ALPHA)  # set-if-absent: not even the holder itself sets it twice
    assert await leases.holder("chat") == ALPHA
    assert await leases.acquire("another chat", BETA)


async def test_the_lease_carries_the_expiry_and_the_holders_mailbox(leases):
    await leases.acquire("chat", ALPHA)
    client = redis.Redis.from_url(LEASE_REDIS_URL)
    assert client.get(leases.key("chat")) == b"host-a:101:aaaa agent-mailbox.a!1"
    assert 0 < client.pttl(leases.key("chat")) <= TTL * 1000
    assert leases.key("chat") == f"{leases.prefix}:agent-lease:chat"


async def test_an_unrenewed_lease_expires_and_another_process_takes_over(leases):
    assert await leases.acquire("chat", ALPHA)
    await asyncio.sleep(TTL + 0.2)
    assert await leases.holder("chat") is None
    assert await leases.acquire("chat", BETA)
    assert await leases.holder("chat") == BETA


async def test_renewing_keeps_the_lease_past_its_first_expiry(leases):
    assert await leases.acquire("chat", ALPHA)
    for _ in range(4):
        await asyncio.sleep(TTL / 2)
        assert await leases.renew({"chat": ALPHA}) == {"chat"}
    assert not await leases.acquire("chat", BETA)
    assert await leases.holder("chat") == ALPHA


async def test_only_the_holder_renews_and_a_lapsed_lease_is_not_revived(leases):
    await leases.acquire("mine", ALPHA)
    await leases.acquire("theirs", BETA)
    assert await leases.renew({"mine": ALPHA, "theirs": ALPHA, "nobody's": ALPHA}) == {"mine"}
    assert await leases.holder("nobody's") is None
    await asyncio.sleep(TTL + 0.2)
    assert await leases.renew({"mine": ALPHA}) == set()
    assert await leases.holder("mine") is None


async def test_release_frees_the_lease_for_the_next_holder(leases):
    await leases.acquire("chat", ALPHA)
    assert await leases.release("chat", ALPHA)
    assert await leases.holder("chat") is None
    assert await leases.acquire("chat", BETA)


async def test_release_does_not_delete_someone_elses_lease(leases):
    """A slow owner whose lease lapsed and was taken over must not free the new owner's lease."""
    await leases.acquire("chat", ALPHA)
    await asyncio.sleep(TTL + 0.2)
    assert await leases.acquire("chat", BETA)
    assert not await leases.release("chat", ALPHA)
    assert await leases.holder("chat") == BETA


async def test_waiting_for_a_holder_ends_when_its_lease_lapses(leases):
    await leases.acquire("chat", ALPHA)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await leases.wait_until_released("chat", ALPHA, within=5)
    assert loop.time() - started < TTL + 0.5


async def test_waiting_for_a_holder_that_keeps_renewing_gives_up(leases):
    await leases.acquire("chat", ALPHA)

    async def keep_renewing() -> None:
        while True:
            await leases.renew({"chat": ALPHA})
            await asyncio.sleep(TTL / 3)

    renewing = asyncio.create_task(keep_renewing())
    try:
        assert not await leases.wait_until_released("chat", ALPHA, within=TTL * 3)
    finally:
        renewing.cancel()
    assert await leases.holder("chat") == ALPHA


async def test_a_holder_reads_back_as_it_was_written():
    assert Holder.decode(ALPHA.encode()) == ALPHA
    assert Holder.decode(BETA.encode().encode()) == BETA


async def test_only_one_process_reports_a_holders_loss(leases):
    """Every process whose tabs waited on a dead owner sees it go; the chat's tabs should hear it once."""
    assert await leases.first_to_report_loss("chat", ALPHA)
    assert not await leases.first_to_report_loss("chat", ALPHA)
    assert await leases.first_to_report_loss("chat", BETA)  # another holder's loss is news again
    assert await leases.first_to_report_loss("another chat", ALPHA)
