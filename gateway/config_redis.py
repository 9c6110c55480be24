"""``redis.url`` and ``redis.cluster``: which Redis topology the gateway talks to.

Accepted forms (``rediss`` instead of ``redis`` means TLS in each):

- ``redis://[user:password@]host:port/db`` or ``unix:///path/to/redis.sock?db=0``: one server
  (or a managed endpoint that fails over behind one address);
- ``redis+sentinel://[user:password@]host:port,host:port/service_name/db``: Sentinel; the
  gateway asks the sentinels (default port 26379) for ``service_name``'s primary and asks
  again after a failover. The user and password are the data nodes', not the sentinels';
- ``redis+cluster://[user:password@]host:port,host:port``, or any ``redis://host:port`` with
  ``redis.cluster: true``: Redis Cluster; the nodes are startup nodes (default port 6379),
  the client discovers the rest and follows slot moves and failovers. A cluster has only
  database 0 and no Unix sockets.

``parse_redis_url`` is pure (no redis import): the config validates with it and
``gateway.state.redis_topology`` builds the client from what it returns.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote, urlsplit

TopologyKind = Literal["single", "sentinel", "cluster"]
FORMS = (
    "redis://host:port/db, rediss://host:port/db, unix:///path.sock, "
    "redis+sentinel://host:port,host:port/service_name/db or redis+cluster://host:port,host:port"
)
_DEFAULT_PORT = {"sentinel": 26379, "cluster": 6379}


@dataclass(frozen=True, slots=True)
class RedisTopology:
    kind: TopologyKind
    url: str  # as configured (a single server is opened with redis-py's own ``from_url``)
    nodes: tuple[tuple[str, int], ...] = ()  # sentinels, or a cluster's startup nodes
    service: str | None = None  # Sentinel's name for the primary
    db: int = 0
    tls: bool = False
    username: str | None = None
    password: str | None = None


def parse_redis_url(url: str, cluster: bool = False) -> RedisTopology:
    """The topology ``url`` (and ``redis.cluster``) names; ``ValueError`` with a readable reason if malformed."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    base, plus, suffix = scheme.partition("+")
    known = (
        base in ("redis", "rediss") and suffix in ("sentinel", "cluster")
        if plus
        else base in ("redis", "rediss", "unix")
    )
    if not known:
        named = f"{parts.scheme}://" if parts.scheme else f"none in {url!r}"
        raise ValueError(f"unsupported scheme ({named}); use {FORMS}")
    if suffix == "sentinel" and cluster:
        raise ValueError("redis.cluster: true cannot be combined with a redis+sentinel:// URL")
    if suffix == "" and not cluster:
        return _single(url, base, parts.hostname if base != "unix" else None, parts.path)
    if parts.query or parts.fragment:
        raise ValueError(f"{scheme}:// URLs take no query options (found {parts.query or parts.fragment!r})")
    if base == "unix":
        raise ValueError("redis.cluster: true needs a redis:// or rediss:// URL (Redis Cluster has no Unix sockets)")
    kind: TopologyKind = "sentinel" if suffix == "sentinel" else "cluster"
    nodes = _nodes(parts.netloc.rpartition("@")[2], _DEFAULT_PORT[kind], scheme)
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    service, db = _path(kind, parts.path, scheme)
    return RedisTopology(kind, url, nodes, service, db, base == "rediss", username, password)


def _single(url: str, base: str, host: str | None, path: str) -> RedisTopology:
    if base == "unix":
        if not path:
            raise ValueError("unix:// needs the socket's path, e.g. unix:///run/redis/redis.sock")
        return RedisTopology("single", url)
    if not host:
        raise ValueError(f"{base}:// needs a host, e.g. {base}://127.0.0.1:6379/0")
    db = path.strip("/")
    if db and not db.isdigit():
        raise ValueError(f"the database in {base}://host:port/db must be a number, not {db!r}")
    try:
        urlsplit(url).port  # noqa: B018 - raises on a malformed port
    except ValueError as exc:
        raise ValueError(f"{base}:// has a malformed port ({exc})") from None
    return RedisTopology("single", url, db=int(db or 0), tls=base == "rediss")


def _nodes(netloc: str, default_port: int, scheme: str) -> tuple[tuple[str, int], ...]:
    nodes: list[tuple[str, int]] = []
    for item in netloc.split(","):
        host, port = _host_port(item.strip(), default_port, scheme)
        nodes.append((host, port))
    return tuple(nodes)


def _host_port(item: str, default_port: int, scheme: str) -> tuple[str, int]:
    if not item:
        raise ValueError(f"{scheme}:// needs host:port[,host:port...] (an empty node was given)")
    if item.startswith("["):  # [ipv6]:port
        host, _, rest = item[1:].partition("]")
        port_text = rest.removeprefix(":")
    else:
        host, _, port_text = item.rpartition(":") if ":" in item else (item, "", "")
    if not host:
        raise ValueError(f"{scheme}:// node {item!r} has no host")
    if not port_text:
        return host, default_port
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"{scheme}:// node {item!r} has a malformed port")
    return host, int(port_text)


def _path(kind: TopologyKind, path: str, scheme: str) -> tuple[str | None, int]:
    segments = [s for s in path.split("/") if s]
    if kind == "cluster":
        if segments not in ([], ["0"]):
            raise ValueError(f"a Redis Cluster has only database 0 ({scheme}:// was given {path!r})")
        return None, 0
    if not segments or len(segments) > 2:
        raise ValueError(
            f"{scheme}:// needs /service_name[/db] after the sentinels, e.g. {scheme}://h1:26379/mymaster/0"
        )
    if len(segments) == 2 and not segments[1].isdigit():
        raise ValueError(f"the database in {scheme}://.../{segments[0]}/db must be a number, not {segments[1]!r}")
    return unquote(segments[0]), int(segments[1]) if len(segments) == 2 else 0


def redis_url_from_env(
    variable: str | None, cluster: bool, source: str, environ: Mapping[str, str] | None
) -> str | None:
    """The URL ``redis.url_env`` names, read once at start-up; unset, empty or malformed is a config error."""
    from gateway.config_checks import ConfigError

    if variable is None:
        return None
    value = (os.environ if environ is None else environ).get(variable, "")
    if not value:
        raise ConfigError(f"{source}: redis.url_env: environment variable {variable} is not set")
    try:
        parse_redis_url(value, cluster)
    except ValueError as exc:
        raise ConfigError(f"{source}: redis.url_env: {variable} does not hold a Redis URL: {exc}") from None
    return value
