"""Django's Redis cache with one client per connection pool instead of one per call.

django.core.cache.backends.redis builds a new redis.Redis object for every cache call (get,
set, add...), and building one fills a table of about 170 response callbacks: a fifth of a
millisecond of CPU each time, twice on every API request (the rate throttle's read and write,
oms/api/throttling.py). A redis.Redis client is safe to share between threads (it takes a
connection from its pool per command), so one per pool is kept and reused. Nothing else
changes: same pools, options, serializer and errors.
"""

from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class ReusedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]  # Django's private API, not in the stubs
        client = self._clients.get(id(pool))  # pools live as long as this object
        if client is None:
            client = self._client(connection_pool=pool)  # type: ignore[attr-defined]  # as above
            self._clients[id(pool)] = client
        return client


class ReusedClientRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient
