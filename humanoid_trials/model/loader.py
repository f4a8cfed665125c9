"""Turn YAML files into validated, frozen model objects; every problem reported as file:line:column: field: message."""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from difflib import get_close_matches
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from humanoid_trials.model.errors import ConfigError, Problem
from humanoid_trials.model.robot import RobotProfile
from humanoid_trials.model.scenario import Scenario
from humanoid_trials.model.site import Site
from humanoid_trials.model.yamlio import Located, PathKey, format_path

M = TypeVar("M", bound=BaseModel)

KINDS: dict[str, type[BaseModel]] = {"robot profile": RobotProfile, "site": Site, "scenario": Scenario}
_INTERNAL_FIELDS = {"source_path"}

_TYPE_NAMES = {
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "string_type": "text",
    "bool_type": "true or false",
    "tuple_type": "a list",
    "list_type": "a list",
    "dict_type": "a mapping (key: value lines)",
    "model_type": "a mapping (key: value lines)",
    "model_attributes_type": "a mapping (key: value lines)",
}


def describe(value: Any) -> str:
    """How a YAML value reads to a person: `text 'abc'`, `number 3.5`, `a list of 2`."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{'true' if value else 'false'}"
    if isinstance(value, int | float):
        return f"number {value!r}"
    if isinstance(value, str):
        return f"text {value!r}"
    if isinstance(value, tuple | list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def validate(located: Located, model: type[M]) -> M:
    """Validate parsed YAML against `model`; raise ConfigError listing every problem with its position."""
    if not isinstance(located.data, dict):
        line, column = located.position(())
        raise ConfigError(
            [Problem(located.file, line, column, "", f"expected a mapping of fields, got {describe(located.data)}")]
        )
    try:
        return model.model_validate(located.data)
    except ValidationError as exc:
        raise ConfigError(_problems(located, model, exc)) from exc


def _problems(located: Located, model: type[BaseModel], exc: ValidationError) -> list[Problem]:
    errors = exc.errors(include_url=False)
    resolved = [(_resolve(model, located.data, err["loc"]), err) for err in errors]
    paths = [r[0][0] for r in resolved]
    problems: list[Problem] = []
    for (path, owner), err in resolved:
        kind = err["type"]
        if kind == "too_short" and any(len(p) > len(path) and p[: len(path)] == path for p in paths):
            continue  # the items themselves are reported
        problems.append(_problem(located, path, owner, err))
    return problems


def _problem(located: Located, path: PathKey, owner: Any, err: Any) -> Problem:
    kind = err["type"]
    value = err.get("input")
    ctx = err.get("ctx") or {}
    if kind == "missing":
        if path and isinstance(path[-1], int):
            return located.problem(path[:-1], f"too few values: item [{path[-1]}] is missing")
        return _missing(located, path, _expect(_child(owner, path[-1])) + _unit(path))
    if kind == "extra_forbidden":
        names = _model_fields(owner)
        key = str(path[-1])
        close = get_close_matches(key, names, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return located.problem(path, f"unknown field{hint}; expected one of: {', '.join(names)}", key=True)
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tags = [t.strip().strip("'") for t in str(ctx.get("expected_tags", "")).split(",") if t.strip()]
        tag = str(ctx.get("tag", ""))
        if kind == "union_tag_not_found":
            return located.problem(path, f"missing field 'type'; expected one of: {', '.join(tags)}")
        close = get_close_matches(tag, tags, n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return located.problem((*path, "type"), f"unknown type {tag!r}{hint}; expected one of: {', '.join(tags)}")
    if kind in _TYPE_NAMES:
        return located.problem(path, f"expected {_TYPE_NAMES[kind]}, got {describe(value)}")
    if kind == "literal_error":
        return located.problem(
            path, f"expected {ctx.get('expected', 'one of the listed values')}, got {describe(value)}"
        )
    if kind == "finite_number":
        return located.problem(path, f"expected a finite number, got {describe(value)}")
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        words = {
            "greater_than": "greater than",
            "greater_than_equal": "at least",
            "less_than": "less than",
            "less_than_equal": "at most",
        }[kind]
        bound = next(iter(ctx.values())) if ctx else "?"
        unit = _unit(path)
        return located.problem(path, f"must be {words} {bound}{unit}, got {value!r}{unit}")
    if kind == "too_short":
        return located.problem(path, f"needs at least {ctx.get('min_length')} item(s), got {ctx.get('actual_length')}")
    if kind == "too_long":
        return located.problem(
            path, f"has too many values: at most {ctx.get('max_length')}, got {ctx.get('actual_length')}"
        )
    if kind == "string_pattern_mismatch":
        return located.problem(
            path,
            f"{describe(value)} is not a valid id: use letters, digits, '_', '-' or '.', "
            "starting with a letter or digit",
        )
    if kind == "string_too_short":
        return located.problem(path, "must not be empty")
    if kind == "value_error":
        message = str(err.get("msg", "")).removeprefix("Value error, ")
        return located.problem(path, message)
    return located.problem(path, str(err.get("msg", kind)))


def _missing(located: Located, path: PathKey, expected: str) -> Problem:
    line, column = located.position(path[:-1])
    message = "required field is missing" + (f": expected {expected}" if expected else "")
    return Problem(located.file, line, column, format_path(path), message)


def _expect(annotation: Any) -> str:
    annotation = _unwrap(annotation)
    origin = typing.get_origin(annotation)
    if origin is tuple:
        args = typing.get_args(annotation)
        return "a list" if len(args) == 2 and args[1] is Ellipsis else f"a list of {len(args)} values"
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return "a mapping with a 'type' field"
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return "a mapping with fields " + ", ".join(_model_fields(annotation))
        return {float: "a number", int: "a whole number", str: "text", bool: "true or false"}.get(annotation, "")
    return ""


def _unit(path: PathKey) -> str:
    name = next((p for p in reversed(path) if isinstance(p, str)), "")
    for suffix, unit in (("_kg", " kg"), ("_m", " m"), ("_s", " s"), ("_n", " N"), ("_deg", "°"), ("_nm", " N·m")):
        if name.endswith(suffix):
            return unit
    return ""


def _model_fields(owner: Any) -> list[str]:
    if isinstance(owner, type) and issubclass(owner, BaseModel):
        return [name for name in owner.model_fields if name not in _INTERNAL_FIELDS]
    return []


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated/Optional wrappers."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) == 1:
                annotation = args[0]
                continue
        return annotation


def _child(owner: Any, key: str | int) -> Any:
    owner = _unwrap(owner)
    if isinstance(key, str) and isinstance(owner, type) and issubclass(owner, BaseModel):
        field = owner.model_fields.get(key)
        return field.annotation if field else None
    if isinstance(key, int) and typing.get_origin(owner) is tuple:
        args = typing.get_args(owner)
        if len(args) == 2 and args[1] is Ellipsis:
            return args[0]
        return args[key] if key < len(args) else None
    return None


def _union_member(owner: Any, tag: str) -> Any:
    owner = _unwrap(owner)
    if typing.get_origin(owner) in (typing.Union, types.UnionType):
        for member in typing.get_args(owner):
            field = getattr(member, "model_fields", {}).get("type")
            if field is not None and tag in typing.get_args(field.annotation):
                return member
    return None


def _resolve(model: type[BaseModel], data: Any, loc: Sequence[str | int]) -> tuple[PathKey, Any]:
    """Map a pydantic error location to (path in the YAML data, model class owning the last element)."""
    path: list[str | int] = []
    owner: Any = model
    parent: Any = model
    node = data
    for element in loc:
        if isinstance(node, dict) and isinstance(element, str) and element not in node and node.get("type") == element:
            member = _union_member(owner, element)
            if member is not None:
                owner = member
                continue
        path.append(element)
        parent = _unwrap(owner)
        owner = _child(owner, element)
        if isinstance(node, dict):
            node = node.get(element) if isinstance(element, str) else None
        elif isinstance(node, tuple) and isinstance(element, int) and element < len(node):
            node = node[element]
        else:
            node = None
    return tuple(path), parent
