"""Requests per minute per key or IP, by plan, via the `limits` library (memory or Redis storage)."""

from __future__ import annotations

import time

from limits import RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from vocable.accounts.keys import Principal
from vocable.accounts.quota import LimitReached
from vocable.config import Plan


class RequestRateLimiter:
    def __init__(self, storage_uri: str, plans: dict[str, Plan]):
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self.plans = plans

    def hit(self, principal: Principal, family: str) -> None:
        plan = self.plans.get(principal.plan) or self.plans["free"]
        item = RateLimitItemPerMinute(plan.requests_per_minute)
        key = (family, principal.limit_key)
        if not self.limiter.hit(item, *key):
            reset_at, _ = self.limiter.get_window_stats(item, *key)
            raise LimitReached(
                f"Rate limit exceeded: {plan.requests_per_minute} requests per minute.",
                max(1, int(reset_at - time.time()) + 1),
            )

    # -- counted attempts (sign-in failures, sign-ups, reset requests), on the same storage -------
    def _window(self, family: str, key: str, limit: int, window_s: int):
        return RateLimitItemPerSecond(max(1, limit), max(1, window_s)), (family, key)

    def _refusal(self, item, key: tuple[str, str]) -> LimitReached:
        reset_at, _ = self.limiter.get_window_stats(item, *key)
        retry = max(1, int(reset_at - time.time()) + 1)
        return LimitReached(f"Too many attempts. Try again in {retry} s.", retry)

    def check(self, family: str, key: str, limit: int, window_s: int) -> None:
        """Refuse (``LimitReached``) when ``key`` has no attempt left in the window; counts nothing."""
        item, full = self._window(family, key, limit, window_s)
        if not self.limiter.test(item, *full):
            raise self._refusal(item, full)

    def attempt(self, family: str, key: str, limit: int, window_s: int) -> None:
        """Count one attempt of ``key``: at most ``limit`` per ``window_s`` (then ``LimitReached``)."""
        item, full = self._window(family, key, limit, window_s)
        if not self.limiter.hit(item, *full):
            raise self._refusal(item, full)

    def allow(self, family: str, key: str, limit: int, window_s: int) -> bool:
        """As ``attempt``, answering whether it was allowed instead of raising."""
        item, full = self._window(family, key, limit, window_s)
        return self.limiter.hit(item, *full)
