"""PyBullet simulation: world builder, robot models, motion plans, checks, validator, simulated robot backend.

The only package that imports pybullet. Entry points: `validator.validate(batch)`, `validator.validate_scenario(s)`,
`executors.EXECUTORS`, `backend.SimulatedRobot`. PyBullet prints its build time on C stdout when imported; that line
is swallowed here so that `--json` output stays clean.
"""

from __future__ import annotations

import os
import sys


def _flush_c_stdout() -> None:
    """Flush C stdio buffers (PyBullet's printf) while stdout still points at /dev/null."""
    import contextlib
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).fflush(None)


def _import_pybullet_quietly() -> None:
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # no real stdout (e.g. captured): nothing to hide
        import pybullet

        return
    sys.stdout.flush()
    saved = os.dup(fd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    try:
        import pybullet  # noqa: F401
    finally:
        _flush_c_stdout()
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


_import_pybullet_quietly()
