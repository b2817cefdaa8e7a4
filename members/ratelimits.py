"""Counting uses of an action in the shared cache (Redis), for limits on what a person does.

Fixed windows: the first use opens a window of `period`; once `limit` uses are counted
in it, further ones are refused until it closes. Every web process shares the count, so
the limit holds however many run behind the load balancer.
"""

from datetime import timedelta

from django.core.cache import cache

PREFIX = "ratelimit"


def consume(*, key: str, limit: int, period: timedelta) -> bool:
    """Count one use of `key`; False (and nothing counted) once the window is full."""
    cache_key = f"{PREFIX}:{key}"
    seconds = max(int(period.total_seconds()), 1)
    if cache.add(cache_key, 1, timeout=seconds):
        return True
    try:
        used = cache.incr(cache_key)
    except ValueError:  # the window closed between the two calls
        cache.set(cache_key, 1, timeout=seconds)
        return True
    if used > limit:
        cache.decr(cache_key)
        return False
    return True
