"""Django's Redis cache with one redis-py client per connection pool instead of one per call.

Django's RedisCacheClient builds a new `redis.Redis` around its pool for every cache operation;
redis-py's constructor (its response-callback table) cost about as much as the round trip, and
the API's rate limit (oms/api/throttling.py) makes two cache calls on every request
(bench/availability_profile.py, docs/performance.md). The client keeps no per-call state: the
pool holds the connections, and redis-py clients are safe to share between threads. Cache
behaviour, keys, values, timeouts and errors are Django's.
"""

from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class SharedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        django: Any = self  # RedisCacheClient's private attributes (not in django-stubs)
        index = django._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            pools = django._pools
            if index not in pools:  # as Django's _get_connection_pool, for this index
                pools[index] = django._pool_class.from_url(
                    django._servers[index], **django._pool_options
                )
            client = self._clients[index] = django._client(connection_pool=pools[index])
        return client


class SharedClientRedisCache(RedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient
