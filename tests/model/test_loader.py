"""YAML problems are reported as file:line:column: field.path: message — all of a file's problems at once."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from humanoid_trials.model import ConfigError, Problem, check_files
from humanoid_trials.model.yamlio import parse_yaml

PICK = """\
id: t-{n}
site: ulsan-door-assembly
description: test scenario
tasks:
  - id: pick
    type: pick_place
    params:
      part: {{name: bolt_kit, mass_kg: 0.4, size_m: [0.1, 0.08, 0.05]}}
      source: bolt_bin
      target: kit_tray
"""


def write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def problems_of(path: Path) -> list[Problem]:
    _, problems = check_files([path])
    return problems


def one(problems: list[Problem], field: str) -> Problem:
    found = [p for p in problems if p.field == field]
    assert len(found) == 1, f"expected one problem at {field}, got {problems}"
    return found[0]


def test_valid_scenario_has_no_problems(tmp_path: Path) -> None:
    assert problems_of(write(tmp_path, PICK.format(n=1))) == []


def test_wrong_type_names_line_column_and_value(tmp_path: Path) -> None:
    path = write(tmp_path, PICK.format(n=1) + "    repetitions: three\n")
    problem = one(problems_of(path), "tasks[0].repetitions")
    assert (problem.line, problem.column) == (11, 18)
    assert problem.message == "expected a whole number, got text 'three'"
    assert str(problem) == f"{path}:11:18: tasks[0].repetitions: expected a whole number, got text 'three'"


def test_missing_field_points_at_its_parent_mapping(tmp_path: Path) -> None:
    text = PICK.format(n=1).replace("      target: kit_tray\n", "")
    problem = one(problems_of(write(tmp_path, text)), "tasks[0].params.target")
    assert problem.line == 8  # the params mapping starts on line 8
    assert problem.message == "required field is missing: expected text"


def test_unknown_key_suggests_the_closest_field(tmp_path: Path) -> None:
    text = PICK.format(n=1).replace("      source: bolt_bin", "      sorce: bolt_bin")
    problems = problems_of(write(tmp_path, text))
    typo = one(problems, "tasks[0].params.sorce")
    assert (typo.line, typo.column) == (9, 7)
    assert "unknown field (did you mean 'source'?)" in typo.message
    assert "expected one of: part, source, target, arm" in typo.message
    one(problems, "tasks[0].params.source")  # and the real field is reported missing


@pytest.mark.parametrize(
    ("replacement", "field", "message"),
    [
        ("mass_kg: -2.0", "tasks[0].params.part.mass_kg", "must be at least 0.0 kg, got -2.0 kg"),
        ("mass_kg: .nan", "tasks[0].params.part.mass_kg", "expected a finite number, got number nan"),
        ("mass_kg: .inf", "tasks[0].params.part.mass_kg", "expected a finite number, got number inf"),
    ],
)
def test_bad_ranges_and_units(tmp_path: Path, replacement: str, field: str, message: str) -> None:
    text = PICK.format(n=1).replace("mass_kg: 0.4", replacement)
    problem = one(problems_of(write(tmp_path, text)), field)
    assert problem.message == message
    assert problem.line == 8


def test_all_problems_of_a_file_at_once(tmp_path: Path) -> None:
    text = """\
    id: many
    site: ulsan-door-assembly
    description: several mistakes
    time_limit_s: -1
    tasks:
      - id: a
        type: pick_plac
        params: {}
      - id: b
        type: pick_place
        params:
          part: {name: x, mass_kg: 1.0, size_m: [0.1, 0.1]}
          source: bolt_bin
          target: kit_tray
          colour: red
    """
    problems = problems_of(write(tmp_path, text))
    fields = {p.field: p for p in problems}
    assert set(fields) == {
        "time_limit_s",
        "tasks[0].type",
        "tasks[1].params.part.size_m",
        "tasks[1].params.colour",
    }
    assert "unknown type 'pick_plac' (did you mean 'pick_place'?)" in fields["tasks[0].type"].message
    assert fields["tasks[1].params.part.size_m"].message == "too few values: item [2] is missing"
    assert (fields["time_limit_s"].line, fields["time_limit_s"].column) == (4, 15)


def test_unknown_references_name_what_exists(tmp_path: Path) -> None:
    text = (
        PICK.format(n=1)
        .replace("source: bolt_bin", "source: bolt_bim")
        .replace("site: ulsan-door-assembly", "site: ulsan-door-assembly")
        + "    robots: [rby1-09]\n"
    )
    problems = problems_of(write(tmp_path, text))
    source = one(problems, "tasks[0].params.source")
    assert (source.line, source.column) == (9, 15)
    assert "unknown object 'bolt_bim' at site 'ulsan-door-assembly' (did you mean 'bolt_bin'?)" in source.message
    robot = one(problems, "tasks[0].robots[0]")
    assert "unknown robot 'rby1-09'" in robot.message and "biped-01, rby1-01, rby1-02" in robot.message


def test_unknown_site(tmp_path: Path) -> None:
    text = PICK.format(n=1).replace("site: ulsan-door-assembly", "site: ulsan-door-asembly")
    problem = one(problems_of(write(tmp_path, text)), "site")
    assert (problem.line, problem.column) == (2, 7)
    assert "unknown site 'ulsan-door-asembly' (did you mean 'ulsan-door-assembly'?)" in problem.message


def test_dependency_cycle_is_reported_with_its_path(tmp_path: Path) -> None:
    text = """\
    id: cyc
    site: ulsan-door-assembly
    description: a cycle
    tasks:
      - {id: a, type: press, depends_on: [c], params: {panel: andon_panel, button_m: [0, 0, 0], force_n: 5}}
      - {id: b, type: press, depends_on: [a], params: {panel: andon_panel, button_m: [0, 0, 0], force_n: 5}}
      - {id: c, type: press, depends_on: [b, d], params: {panel: andon_panel, button_m: [0, 0, 0], force_n: 5}}
    """
    problems = problems_of(write(tmp_path, text))
    cycles = [p for p in problems if p.message.startswith("dependency cycle")]
    assert len(cycles) == 1
    assert cycles[0].message in {
        "dependency cycle: a -> c -> b -> a",
        "dependency cycle: c -> b -> a -> c",
        "dependency cycle: b -> a -> c -> b",
    }
    missing = one(problems, "tasks[2].depends_on[1]")
    assert missing.message == "unknown task 'd'; expected one of: a, b, c"


def test_task_no_deployed_robot_can_carry(tmp_path: Path) -> None:
    text = PICK.format(n=1).replace("mass_kg: 0.4", "mass_kg: 25.0")
    problem = one(problems_of(write(tmp_path, text)), "tasks[0].params")
    assert problem.message == "needs a payload of 25 kg (one arm); the largest on site is 3 kg (rby1-01, rby1-class)"


def test_task_type_no_allowed_robot_has(tmp_path: Path, data_copy: Path) -> None:
    profile = data_copy / "sim/robots/biped-class/profile.yaml"
    text = profile.read_text()
    start = text.index("capabilities:")
    end = text.index("\n", start)
    profile.write_text(text[:start] + "capabilities: [pick_place, inspect]" + text[end:])
    scenario = write(
        tmp_path,
        PICK.format(n=1)
        .replace("type: pick_place", "type: fasten")
        .replace(
            """params:
      part: {name: bolt_kit, mass_kg: 0.4, size_m: [0.1, 0.08, 0.05]}
      source: bolt_bin
      target: kit_tray""",
            """robots: [biped-01]
    params: {fixture: door_fixture, points_m: [[0, 0, 0.05]], tool_mass_kg: 1.0, torque_nm: 10}""",
        ),
    )
    _, problems = check_files([scenario], root=data_copy)
    problem = one(problems, "tasks[0].type")
    assert problem.message == (
        "no deployed robot can do 'fasten': allowed robots at 'ulsan-door-assembly' are "
        "biped-01 (biped-class: pick_place, inspect)"
    )


def test_yaml_syntax_error_has_position(tmp_path: Path) -> None:
    path = write(tmp_path, "id: x\ntasks: [1, 2\nsite: y\n")
    [problem] = problems_of(path)
    assert problem.line == 3 and "YAML syntax error" in problem.message


def test_duplicate_keys_are_an_error() -> None:
    with pytest.raises(ConfigError) as info:
        parse_yaml("id: a\nsite: b\nid: c\n", "dup.yaml")
    [problem] = info.value.problems
    assert (problem.line, problem.column, problem.field) == (3, 1, "id")
    assert problem.message == "duplicate key (first given on line 1)"


def test_site_problems(tmp_path: Path, share: Path) -> None:
    text = (share / "sites/ulsan-door-assembly.yaml").read_text()
    text = text.replace("id: ulsan-door-assembly", "id: ulsan-copy")
    text = text.replace("profile: biped-class", "profile: biped-clas")
    text = text.replace("station: inspection_cell, pose: {x_m: 15.60", "station: inspection_cel, pose: {x_m: 15.60")
    text = text.replace("takt_time_s: 72", "takt_time_s: 0")
    path = write(tmp_path, text, "site.yaml")
    problems = problems_of(path)
    assert [p.field for p in problems] == ["takt_time_s"]  # schema problems first; references need a valid file
    fixed = write(tmp_path, text.replace("takt_time_s: 0", "takt_time_s: 60"), "site.yaml")
    fields = {p.field: p.message for p in problems_of(fixed)}
    assert "unknown robot profile 'biped-clas' (did you mean 'biped-class'?)" in fields["robots[2].profile"]
    assert "unknown station 'inspection_cel' (did you mean 'inspection_cell'?)" in fields["layout.objects[4].station"]


def test_problem_in_an_unrelated_file_kind(tmp_path: Path) -> None:
    [problem] = problems_of(write(tmp_path, "hello: world\n", "x.yaml"))
    assert problem.line == 1 and "not a site, robot profile, scenario or body-region limit file" in problem.message
