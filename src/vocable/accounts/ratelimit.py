"""Requests per minute per key or IP, by plan, via the `limits` library (memory or Redis storage)."""

from __future__ import annotations

import time

from limits import RateLimitItemPerMinute
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
