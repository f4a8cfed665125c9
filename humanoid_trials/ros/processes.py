"""Node processes: start the graph's nodes as `python -m humanoid_trials.ros.<node> --ros-args ...`, each in a new
session (so a terminal's Ctrl-C reaches only the supervisor, and each node's process group can be killed as a whole),
with a private ROS_DOMAIN_ID; stop them all (SIGINT, then SIGKILL of every process group).

No rclpy here: the supervisor only manages processes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import humanoid_trials
from humanoid_trials.ros.errors import ProcessError
from humanoid_trials.ros.graph import NodeSpec

log = logging.getLogger(__name__)

STOP_GRACE_S = 10.0
"""Time (s) the nodes of one stop wave get to exit after SIGINT before they are killed."""
STOP_FIRST = ("trial_dispatcher", "safety_monitor")
"""Executables stopped in the first wave."""


def node_environment(domain_id: int, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for node processes: private domain, localhost discovery, this package importable."""
    env = dict(os.environ if base is None else base)
    env["ROS_DOMAIN_ID"] = str(domain_id)
    env["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    env["PYTHONUNBUFFERED"] = "1"
    package_root = str(Path(humanoid_trials.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    return env


def node_command(node: NodeSpec, params_files: list[Path]) -> list[str]:
    """The command line that starts `node` with this interpreter."""
    command = [sys.executable, "-m", node.module, "--ros-args", "-r", f"__node:={node.name}"]
    if node.namespace:
        command += ["-r", f"__ns:=/{node.namespace}"]
    for path in params_files:
        command += ["--params-file", str(path)]
    return command


@dataclass
class Running:
    node: NodeSpec
    process: subprocess.Popen[bytes]
    log_path: Path


class NodeProcesses:
    """The node processes of one trial run. Use as a context manager: every process is stopped on exit."""

    def __init__(self, domain_id: int, log_dir: Path, params_files: list[Path]) -> None:
        if not 0 <= domain_id <= 232:
            raise ProcessError(f"ROS_DOMAIN_ID {domain_id} is out of range 0..232")
        self.domain_id = domain_id
        self.log_dir = log_dir
        self.params_files = params_files
        self.env = node_environment(domain_id)
        self.running: list[Running] = []
        self._logs: list[IO[bytes]] = []

    def __enter__(self) -> NodeProcesses:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self, node: NodeSpec) -> Running:
        """Start one node in a new session (its process group id is its pid)."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{node.fqn.strip('/').replace('/', '.')}.log"
        out = log_path.open("wb")
        self._logs.append(out)
        command = node_command(node, self.params_files)
        try:
            process = subprocess.Popen(
                command,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as exc:
            raise ProcessError(f"cannot start node {node.fqn} ({' '.join(command)}): {exc}") from exc
        running = Running(node, process, log_path)
        self.running.append(running)
        log.info("started %s (pid %d), log %s", node.fqn, process.pid, log_path)
        return running

    def find(self, fqn: str) -> Running:
        for running in self.running:
            if running.node.fqn == fqn:
                return running
        raise ProcessError(f"no node {fqn} was started (started: {', '.join(r.node.fqn for r in self.running)})")

    def dead(self) -> list[Running]:
        """Processes that exited (with their return code set)."""
        return [r for r in self.running if r.process.poll() is not None]

    def log_tail(self, running: Running, lines: int = 15) -> str:
        text = running.log_path.read_text(encoding="utf-8", errors="replace") if running.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, grace_s: float = STOP_GRACE_S) -> None:
        """SIGINT in two waves — first the nodes that call others (dispatcher, safety monitor), then the robots and
        the recorder, so that no node is left waiting on a peer that is already gone — each wave waiting up to
        `grace_s`; then SIGKILL every node's process group."""
        first = [r for r in self.running if r.node.executable in STOP_FIRST]
        rest = [r for r in self.running if r.node.executable not in STOP_FIRST]
        for wave in (first, rest):
            for running in wave:
                if running.process.poll() is None:
                    with contextlib.suppress(ProcessLookupError):
                        running.process.send_signal(signal.SIGINT)
            deadline = time.monotonic() + grace_s
            for running in wave:
                try:
                    running.process.wait(timeout=max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    log.warning("node %s did not exit within %.1f s of SIGINT", running.node.fqn, grace_s)
        for running in self.running:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(running.process.pid, signal.SIGKILL)
        for running in self.running:
            if running.process.poll() is None:
                running.process.wait()
        for out in self._logs:
            out.close()
        self._logs.clear()
