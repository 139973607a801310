"""How much the process's resident memory grows while a block runs, sampled from /proc."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def resident_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


@dataclass
class Growth:
    peak: int = 0  # the highest resident size seen, less the size at the start


@contextmanager
def resident_memory(every: float = 0.005) -> Iterator[Growth]:
    """Sample the resident size every ``every`` seconds in a thread while the block runs (the block
    may be async code awaited on this thread's loop: the sampler does not need the loop)."""
    growth, start, done = Growth(), resident_bytes(), threading.Event()

    def sample() -> None:
        while True:
            growth.peak = max(growth.peak, resident_bytes() - start)
            if done.is_set():
                return
            done.wait(every)

    sampler = threading.Thread(target=sample, name="resident-memory", daemon=True)
    sampler.start()
    try:
        yield growth
    finally:
        done.set()
        sampler.join()  # its last sample is taken after the block ended
