"""``redis.url`` forms and ``redis.cluster``: what each parses to, and clear errors for malformed ones."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.config_redis import RedisTopology, parse_redis_url
from gateway.settings import RedisSettings


@pytest.mark.parametrize(
    ("url", "cluster", "expected"),
    [
        ("redis://127.0.0.1:6379/2", False, RedisTopology("single", "redis://127.0.0.1:6379/2", db=2)),
        ("rediss://cache.internal:6380/0", False, RedisTopology("single", "rediss://cache.internal:6380/0", tls=True)),
        ("unix:///run/redis/redis.sock?db=1", False, RedisTopology("single", "unix:///run/redis/redis.sock?db=1")),
        (
            "redis+sentinel://h1:26379,h2:26380/mymaster/3",
            False,
            RedisTopology(
                "sentinel",
                "redis+sentinel://h1:26379,h2:26380/mymaster/3",
                (("h1", 26379), ("h2", 26380)),
                "mymaster",
                3,
            ),
        ),
        (
            "rediss+sentinel://:s%40cret@[::1],h2/primary",
            False,
            RedisTopology(
                "sentinel",
                "rediss+sentinel://:s%40cret@[::1],h2/primary",
                (("::1", 26379), ("h2", 26379)),
                "primary",
                tls=True,
                password="s@cret",
            ),
        ),
        (
            "redis+cluster://user:pw@n1:7000,n2:7001,n3",
            False,
            RedisTopology(
                "cluster",
                "redis+cluster://user:pw@n1:7000,n2:7001,n3",
                (("n1", 7000), ("n2", 7001), ("n3", 6379)),
                username="user",
                password="pw",
            ),
        ),
        ("redis://n1:7000/0", True, RedisTopology("cluster", "redis://n1:7000/0", (("n1", 7000),))),
        ("rediss://n1:7000", True, RedisTopology("cluster", "rediss://n1:7000", (("n1", 7000),), tls=True)),
    ],
)
def test_each_form_parses(url: str, cluster: bool, expected: RedisTopology) -> None:
    assert parse_redis_url(url, cluster) == expected
    assert RedisSettings(url=url, cluster=cluster).url == url  # and the config accepts it


@pytest.mark.parametrize(
    ("url", "cluster", "message"),
    [
        ("memcached://h:11211", False, "unsupported scheme (memcached://); use redis://host:port/db"),
        ("127.0.0.1:6379", False, "unsupported scheme"),
        ("redis+proxy://h:1", False, "unsupported scheme (redis+proxy://)"),
        ("unix+cluster:///x.sock", False, "unsupported scheme"),
        ("redis://", False, "redis:// needs a host"),
        ("redis://h:99999/0", False, "malformed port"),
        ("redis://h:6379/zero", False, "the database in redis://host:port/db must be a number, not 'zero'"),
        ("unix://", False, "unix:// needs the socket's path"),
        ("redis+sentinel://h1:26379", False, "needs /service_name[/db] after the sentinels"),
        ("redis+sentinel://h1:26379/mymaster/x", False, "must be a number, not 'x'"),
        ("redis+sentinel://h1:26379/a/0/extra", False, "needs /service_name[/db]"),
        ("redis+sentinel://h1:26379,,h2/m", False, "an empty node was given"),
        ("redis+sentinel://h1:port/m", False, "node 'h1:port' has a malformed port"),
        ("redis+sentinel://h1/m", True, "redis.cluster: true cannot be combined with a redis+sentinel:// URL"),
        ("redis+cluster://n1:7000/1", False, "a Redis Cluster has only database 0"),
        ("redis+cluster://n1:7000?ssl_cert_reqs=none", False, "take no query options"),
        ("redis://n1:7000/2", True, "a Redis Cluster has only database 0"),
        ("unix:///run/redis.sock", True, "Redis Cluster has no Unix sockets"),
    ],
)
def test_malformed_urls_are_clear_config_errors(url: str, cluster: bool, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_redis_url(url, cluster)
    assert message in str(raised.value)
    with pytest.raises(ValidationError) as invalid:
        RedisSettings(url=url, cluster=cluster)
    assert message in str(invalid.value) and "url" in str(invalid.value)


def test_cluster_needs_a_url() -> None:
    with pytest.raises(ValidationError, match=r"redis\.cluster: true needs a redis\.url"):
        RedisSettings(cluster=True)
    assert RedisSettings().url is None  # no URL, no cluster: the embedded stores
