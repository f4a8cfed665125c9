"""Shared pieces of the command line: consoles, exit codes, error handling, JSON output."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from rich.console import Console

from humanoid_trials.errors import TrialsError
from humanoid_trials.model import Catalog, ConfigError, load_catalog

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2

console = Console()
err_console = Console(stderr=True)


class UserError(click.ClickException):
    """Bad input from the user (unknown id, missing file …): message, no traceback, exit code 2."""

    exit_code = EXIT_USAGE

    def show(self, file: Any = None) -> None:
        err_console.print(f"[bold red]error:[/] {self.format_message()}", highlight=False)


class CheckFailed(click.ClickException):
    """Input that was read but failed its checks: message, no traceback, exit code 1."""

    exit_code = EXIT_CHECK_FAILED

    def show(self, file: Any = None) -> None:
        err_console.print(self.format_message(), highlight=False, markup=False)


def print_problems(error: ConfigError) -> None:
    count = len(error.problems)
    err_console.print(f"[bold red]{count} problem{'s' if count != 1 else ''} found[/]", highlight=False)
    for problem in error.problems:
        err_console.print(f"  {problem}", highlight=False, markup=False, soft_wrap=True)


def catalog() -> Catalog:
    """The bundled catalog; a broken bundled file is reported like any other check failure."""
    try:
        return load_catalog()
    except ConfigError as exc:
        print_problems(exc)
        raise click.exceptions.Exit(EXIT_CHECK_FAILED) from exc


def emit_json(data: Any) -> None:
    """Write data as JSON to stdout (no rich markup, no wrapping)."""
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def translate_errors(exc: BaseException) -> click.ClickException | None:
    """Map a user-facing error of any layer to a click exception; None for bugs (they keep their traceback)."""
    if isinstance(exc, ConfigError):
        print_problems(exc)
        return CheckFailed(f"{len(exc.problems)} problem(s) in the input files; fix them and run again")
    if isinstance(exc, TrialsError):
        return UserError(str(exc))
    return None
