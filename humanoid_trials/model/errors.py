"""Errors of the model layer: every problem of a YAML file with its file, line, column and field path."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from humanoid_trials.errors import TrialsError


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in one file. `line` and `column` are 1-based; 0 means the whole file."""

    file: str
    line: int
    column: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class ModelError(TrialsError):
    """Base of the model layer's errors."""


class ConfigError(ModelError):
    """One or more problems in site, robot profile or scenario files; `problems` lists all of them."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(sorted(set(problems)))
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} found"
        super().__init__(head + ":\n" + "\n".join(f"  {p}" for p in self.problems))

    @classmethod
    def single(cls, file: str | Path, message: str, *, line: int = 0, column: int = 0, field: str = "") -> ConfigError:
        return cls([Problem(str(file), line, column, field, message)])


class UnknownNameError(ModelError, KeyError):
    """A site, robot profile or scenario id that the catalog does not have."""

    def __init__(self, what: str, name: str, known: Sequence[str]) -> None:
        from difflib import get_close_matches

        close = get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        listing = ", ".join(sorted(known)) or "none"
        self.message = f"unknown {what} {name!r}{hint}; known: {listing}"
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message
