"""Where `validator.validate(batch)` runs: this process, a local process pool, or Ray (local or a cluster).

Registry `EXECUTORS = {'local': LocalExecutor, 'ray': RayExecutor}`. An executor is a context manager with
`run(items, progress) -> verdicts` (same order as `items`). Items are cut into batches of one site each, so that a
worker keeps a warm world; the order and batching do not change any verdict.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Any

from humanoid_trials.model.validation import RobotVerdict
from humanoid_trials.sim.errors import ExecutorError
from humanoid_trials.sim.validator import Progress, WorkItem, validate

log = logging.getLogger(__name__)

MAX_BATCH = 8


def batches(items: Sequence[WorkItem], workers: int) -> list[list[int]]:
    """Indices of `items` cut into batches: same world per batch, about 4 batches per worker, at most MAX_BATCH."""
    size = max(1, min(MAX_BATCH, math.ceil(len(items) / max(1, 4 * workers))))
    groups: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        groups.setdefault(item.world_key, []).append(index)
    cut: list[list[int]] = []
    for indices in groups.values():
        cut.extend(indices[i : i + size] for i in range(0, len(indices), size))
    return cut


class Executor:
    """Base: runs batches somewhere; subclasses implement `_map`."""

    name = "base"

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ExecutorError(f"--workers must be at least 1, got {workers}")
        self.workers = workers

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Release workers (nothing to do by default)."""

    def run(self, items: Sequence[WorkItem], progress: Progress | None = None) -> list[RobotVerdict]:
        cut = batches(items, self.workers)
        results: list[RobotVerdict | None] = [None] * len(items)
        for indices, verdicts in self._map([[items[i] for i in indices] for indices in cut], cut):
            for index, verdict in zip(indices, verdicts, strict=True):
                results[index] = verdict
            if progress is not None:
                progress(len(indices))
        return [verdict for verdict in results if verdict is not None]

    def _map(self, jobs: list[list[WorkItem]], cut: list[list[int]]) -> Iterator[tuple[list[int], list[RobotVerdict]]]:
        raise NotImplementedError


class LocalExecutor(Executor):
    """`workers == 1`: this process. More: a process pool (spawn), one warm world per worker process."""

    name = "local"

    def __init__(self, workers: int, address: str | None = None) -> None:
        super().__init__(workers)
        if address:
            raise ExecutorError("--address is only for --executor ray")
        self._pool: Any = None
        if workers > 1:
            self._pool = multiprocessing.get_context("spawn").Pool(processes=workers)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None

    def _map(self, jobs: list[list[WorkItem]], cut: list[list[int]]) -> Iterator[tuple[list[int], list[RobotVerdict]]]:
        if self._pool is None:
            for indices, job in zip(cut, jobs, strict=True):
                yield indices, validate(job)
            return
        for indices, verdicts in zip(cut, self._pool.imap(validate, jobs), strict=True):
            yield indices, verdicts


class RayExecutor(Executor):
    """Ray: a local `ray.init(num_cpus=workers)` or a cluster at `address` (`ray://host:10001` or `auto`)."""

    name = "ray"

    def __init__(self, workers: int, address: str | None = None) -> None:
        super().__init__(workers)
        try:
            import ray
        except ImportError as exc:
            raise ExecutorError("--executor ray needs the `ray` package (pip install ray)") from exc
        self._ray = ray
        self._started = False
        if not ray.is_initialized():
            os.environ.setdefault("RAY_DEDUP_LOGS", "0")
            try:
                if address:
                    ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
                else:
                    ray.init(
                        num_cpus=workers, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING
                    )
            except (ConnectionError, RuntimeError, ValueError) as exc:
                where = address or "a local Ray instance"
                raise ExecutorError(f"cannot start Ray on {where}: {exc}") from exc
            self._started = True
        self._remote = ray.remote(num_cpus=1, max_retries=2)(validate)

    def close(self) -> None:
        if self._started:
            self._ray.shutdown()
            self._started = False

    def _map(self, jobs: list[list[WorkItem]], cut: list[list[int]]) -> Iterator[tuple[list[int], list[RobotVerdict]]]:
        ray = self._ray
        pending = {self._remote.remote(job): indices for job, indices in zip(jobs, cut, strict=True)}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                yield pending.pop(ref), ray.get(ref)


EXECUTORS: dict[str, type[Executor]] = {"local": LocalExecutor, "ray": RayExecutor}


def make_executor(name: str, workers: int, address: str | None = None) -> Executor:
    if name not in EXECUTORS:
        raise ExecutorError(f"unknown executor {name!r}: expected one of {', '.join(EXECUTORS)}")
    cls = EXECUTORS[name]
    if cls is LocalExecutor:
        return LocalExecutor(workers, address)
    return RayExecutor(workers, address)
