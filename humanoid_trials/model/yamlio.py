"""YAML loading that remembers where every value came from (line and column), for error messages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from humanoid_trials.model.errors import ConfigError, Problem

PathKey = tuple[str | int, ...]


def format_path(path: Sequence[str | int]) -> str:
    """`('tasks', 0, 'params', 'source')` -> `tasks[0].params.source`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass
class Located:
    """Parsed YAML data (mappings as dicts, sequences as tuples) plus the position of every value and key."""

    file: str
    data: Any
    text: str
    values: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    keys: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def position(self, path: PathKey, *, key: bool = False) -> tuple[int, int]:
        """Line and column (1-based) of the value at `path` (or of its key), else of the nearest parent."""
        probe = tuple(path)
        if key and probe in self.keys:
            return self.keys[probe]
        while probe:
            if probe in self.values:
                return self.values[probe]
            probe = probe[:-1]
        return self.values.get((), (1, 1))

    def problem(self, path: PathKey, message: str, *, key: bool = False) -> Problem:
        line, column = self.position(path, key=key)
        return Problem(self.file, line, column, format_path(path), message)


def load_yaml(path: Path, *, display: str | None = None) -> Located:
    """Parse one YAML file. Raises ConfigError for unreadable files, syntax errors and duplicate keys."""
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError.single(name, "file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError.single(name, f"cannot read file: {exc}") from exc
    return parse_yaml(text, name)


def parse_yaml(text: str, name: str) -> Located:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        what = exc.problem or exc.context or "invalid YAML"
        raise ConfigError.single(name, f"YAML syntax error: {what}", line=line, column=column) from exc
    except yaml.YAMLError as exc:
        raise ConfigError.single(name, f"YAML error: {exc}") from exc
    finally:
        loader.dispose()
    located = Located(file=name, data=None, text=text)
    if node is None:
        raise ConfigError.single(name, "file is empty: expected a YAML mapping", line=1, column=1)
    problems: list[Problem] = []
    located.data = _convert(node, (), located, loader, problems)
    if problems:
        raise ConfigError(problems)
    return located


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _convert(node: yaml.Node, path: PathKey, located: Located, loader: yaml.SafeLoader, problems: list[Problem]) -> Any:
    located.values[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                key = str(key)
            child = (*path, key)
            if key in result:
                line, column = _mark(key_node)
                first = located.keys[child][0]
                problems.append(
                    Problem(
                        located.file, line, column, format_path(child), f"duplicate key (first given on line {first})"
                    )
                )
                continue
            located.keys[child] = _mark(key_node)
            result[key] = _convert(value_node, child, located, loader, problems)
        return result
    if isinstance(node, yaml.SequenceNode):
        return tuple(_convert(item, (*path, i), located, loader, problems) for i, item in enumerate(node.value))
    return loader.construct_object(node, deep=True)
