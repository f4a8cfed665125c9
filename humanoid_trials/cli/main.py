"""`humanoid-trials`: the command line of the stack."""

from __future__ import annotations

from typing import Any

import click

from humanoid_trials import __version__
from humanoid_trials.cli import catalog as catalog_commands
from humanoid_trials.cli.common import translate_errors


class TrialsGroup(click.Group):
    """A click group that turns user-facing errors of every layer into a message and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.exceptions.Exit:
            raise
        except click.ClickException:
            raise
        except Exception as exc:
            translated = translate_errors(exc)
            if translated is None:
                raise
            raise translated from exc


@click.group(cls=TrialsGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, "--version", prog_name="humanoid-trials")
def cli() -> None:
    """Run humanoid-robot field trials: describe sites and scenarios in YAML, pre-validate them in PyBullet,
    dispatch them to robots over ROS 2, record results and compare sites.

    \b
    Start here:
      humanoid-trials scenarios              list the bundled scenarios
      humanoid-trials check FILE...          check site / robot / scenario files
      humanoid-trials validate SCENARIO      pre-validate a scenario in simulation
      humanoid-trials run SCENARIO --sim     run a trial with simulated robots
      humanoid-trials report --site SITE     per-site trial report

    Exit codes: 0 ok, 1 a check failed, 2 usage error.
    """


def _register_all() -> None:
    catalog_commands.register(cli)
    for name in ("validate", "store", "run", "safety"):
        module = _optional(name)
        if module is not None:
            module.register(cli)


def _optional(name: str) -> Any:
    import importlib

    try:
        return importlib.import_module(f"humanoid_trials.cli.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"humanoid_trials.cli.{name}":
            return None
        raise


_register_all()


def main(args: list[str] | None = None) -> None:
    cli.main(args=args, prog_name="humanoid-trials")


if __name__ == "__main__":
    main()
