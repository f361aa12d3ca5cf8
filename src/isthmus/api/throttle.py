"""Service protection: at most N requests per user over a sliding window, answered with 429 and ``Retry-After``
(Dataverse's limit is 6,000 requests per 5 minutes per user; ours is configurable and generous by default).

The window is kept as per-second buckets, so a check is O(1) amortised and memory is bounded by the window length.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

from isthmus.errors import RateLimitedError


class TooManyRequestsError(RateLimitedError):
    code = "0x80072322"

    def __init__(self, limit: int, window_s: int, retry_after_s: int) -> None:
        super().__init__(
            f"Number of requests exceeded the limit of {limit} over time window of {window_s} seconds.",
            next_step=f"Retry after {retry_after_s} seconds.",
            retry_after_s=retry_after_s,
        )


class RequestLimiter:
    def __init__(self, limit: int, window_s: int, clock: callable = time.monotonic) -> None:  # type: ignore[valid-type]
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self._buckets: dict[str, deque[list[int]]] = {}
        self._lock = threading.Lock()

    def check(self, user: str) -> None:
        now = int(self.clock())
        with self._lock:
            buckets = self._buckets.setdefault(user, deque())
            while buckets and buckets[0][0] <= now - self.window_s:
                buckets.popleft()
            used = sum(count for _, count in buckets)
            if used >= self.limit:
                oldest = buckets[0][0]
                raise TooManyRequestsError(self.limit, self.window_s, max(1, math.ceil(oldest + self.window_s - now)))
            if buckets and buckets[-1][0] == now:
                buckets[-1][1] += 1
            else:
                buckets.append([now, 1])
