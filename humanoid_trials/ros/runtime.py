"""Shared node plumbing: spinning a node in a MultiThreadedExecutor with a clean shutdown, and parameter helpers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import rclpy
from rclpy.executors import Executor, ExternalShutdownException, MultiThreadedExecutor, SingleThreadedExecutor
from rclpy.node import Node

from humanoid_trials.errors import TrialsError
from humanoid_trials.model import Catalog, load_catalog
from humanoid_trials.ros.errors import NodeConfigError

N = TypeVar("N", bound=Node)
SHUTDOWN_WAIT_S = 3.0
"""Longest wait (s) for running callbacks when a node shuts down (a callback blocked on a dead peer must not keep
the process alive)."""
log = logging.getLogger(__name__)


def run_node(factory: Callable[[], N], args: Sequence[str] | None = None, threads: int = 4) -> int:
    """Init rclpy, build the node, spin until SIGINT/SIGTERM, then shut down in the safe order (executor, node,
    context). `threads` 1 gives a single-threaded executor. Returns an exit code: 0, or 2 for a configuration error."""
    rclpy.init(args=list(args) if args is not None else None)
    executor: Executor = SingleThreadedExecutor() if threads == 1 else MultiThreadedExecutor(num_threads=threads)
    node: N | None = None
    code = 0
    try:
        node = factory()
        executor.add_node(node)
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except TrialsError as exc:  # configuration the user can fix: bad parameter, unknown site, store unreachable
        logging.getLogger("humanoid_trials.ros").error("%s", exc)
        code = 2
    finally:
        executor.shutdown(timeout_sec=SHUTDOWN_WAIT_S)
        if node is not None:
            close = getattr(node, "close", None)
            if callable(close):
                close()
            node.destroy_node()
        rclpy.try_shutdown()
    return code


def catalog_from(extra_files: str) -> Catalog:
    """The bundled catalog plus `extra_files` (os.pathsep-separated site/scenario/profile files)."""
    extra = [Path(item) for item in extra_files.split(":") if item]
    missing = [str(path) for path in extra if not path.is_file()]
    if missing:
        raise NodeConfigError(f"parameter extra_files: no such file(s): {', '.join(missing)}")
    return load_catalog(extra=extra)


def require(value: str, name: str, node: str) -> str:
    """A required string parameter's value; NodeConfigError when it is empty."""
    if not value:
        raise NodeConfigError(f"node {node}: parameter {name!r} is required (pass -p {name}:=... or a params file)")
    return value
