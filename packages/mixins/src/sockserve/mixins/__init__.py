"""sockserve.mixins: the stdlib's threading and forking mix-ins, typed and fixed, and a pool.

`ThreadingMixIn` reaps finished threads as they end; `ForkingMixIn` enforces
``max_children`` before forking and waits only for its own children;
`ThreadPoolMixIn` serves on a bounded pool of threads, taking no request
while every one is busy.
"""

from ._forking import ForkingMixIn as ForkingMixIn
from ._pool import DEFAULT_POOL_SIZE as DEFAULT_POOL_SIZE
from ._pool import ThreadPoolMixIn as ThreadPoolMixIn
from ._threading import ThreadingMixIn as ThreadingMixIn

__all__ = ["DEFAULT_POOL_SIZE", "ForkingMixIn", "ThreadPoolMixIn", "ThreadingMixIn"]
