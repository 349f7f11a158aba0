"""Run one function per node with a bounded number of workers and a per-node timeout."""

from __future__ import annotations

import concurrent.futures as cf
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
N = TypeVar("N")


@dataclass
class NodeOutcome(Generic[T]):
    node: str
    value: T | None = None
    error: BaseException | None = None
    duration_s: float = 0.0
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and not self.timed_out


def map_nodes(fn: Callable[[N], T], nodes: Sequence[N], *, name: Callable[[N], str],
              workers: int = 8, timeout_s: float | None = None,
              progress: Callable[[str, str], None] | None = None) -> list[NodeOutcome[T]]:
    """Call `fn(node)` for every node, at most `workers` at once. Results keep the input order.

    A node that raises gets its exception in `error`; a node still running after `timeout_s`
    is reported as timed out (its thread is left to finish; callers use SSH timeouts too).
    """
    outcomes: dict[int, NodeOutcome[T]] = {}
    pool = cf.ThreadPoolExecutor(max_workers=max(1, min(workers, len(nodes) or 1)))
    started: dict[cf.Future[T], tuple[int, float]] = {}
    try:
        for i, node in enumerate(nodes):
            fut = pool.submit(fn, node)
            started[fut] = (i, time.monotonic())
        deadline = time.monotonic() + timeout_s if timeout_s else None
        pending = set(started)
        while pending:
            wait_s = None if deadline is None else max(0.0, deadline - time.monotonic())
            done, pending = cf.wait(pending, timeout=wait_s, return_when=cf.FIRST_COMPLETED)
            for fut in done:
                i, t0 = started[fut]
                label = name(nodes[i])
                try:
                    outcomes[i] = NodeOutcome(label, value=fut.result(), duration_s=time.monotonic() - t0)
                    if progress:
                        progress(label, "done")
                except BaseException as e:  # noqa: BLE001 - reported per node
                    outcomes[i] = NodeOutcome(label, error=e, duration_s=time.monotonic() - t0)
                    if progress:
                        progress(label, f"error: {e}")
            if deadline is not None and time.monotonic() >= deadline and pending:
                for fut in pending:
                    i, t0 = started[fut]
                    outcomes[i] = NodeOutcome(name(nodes[i]), timed_out=True, duration_s=time.monotonic() - t0,
                                              error=TimeoutError(f"no answer within {timeout_s:.0f}s"))
                    fut.cancel()
                break
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return [outcomes[i] for i in range(len(nodes))]
