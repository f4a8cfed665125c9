"""Power and force limiting against the ISO/TS 15066 body-region table (site data)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from humanoid_trials.model.errors import ConfigError
from humanoid_trials.model.events import Severity
from humanoid_trials.safety.errors import LimitTableError
from humanoid_trials.safety.force import (
    FORCE_EVENT,
    PRESSURE_EVENT,
    BodyRegionTable,
    Contact,
    ContactKind,
    check_contact,
    contact_events,
    load_limit_table,
    max_transient_speed_m_s,
    robot_effective_mass_kg,
    transient_force_n,
)
from humanoid_trials.safety.worker import contact_region, regions_at_height

T0 = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def table() -> BodyRegionTable:
    return load_limit_table("iso_ts_15066")


def test_bundled_table_has_the_twelve_regions_and_doubles_transient_where_permitted(table: BodyRegionTable) -> None:
    assert len(table.regions) == 12
    assert table.transient_max_duration_s == 0.5
    for region_id, region in table.regions.items():
        limits = [region.force_n, *region.pressure_n_cm2.values()]
        for limit in limits:
            if region_id in ("skull_forehead", "face"):
                assert limit.transient is None, region_id
            else:
                assert limit.transient == 2 * limit.quasi_static, region_id


@pytest.mark.parametrize(
    ("region", "quasi_static_n"),
    [
        ("skull_forehead", 130),
        ("face", 65),
        ("neck", 150),
        ("back_shoulders", 210),
        ("chest", 140),
        ("abdomen", 110),
        ("pelvis", 180),
        ("upper_arms_elbows", 150),
        ("lower_arms_wrists", 160),
        ("hands_fingers", 140),
        ("thighs_knees", 220),
        ("lower_legs", 130),
    ],
)
def test_table_a2_force_limits(table: BodyRegionTable, region: str, quasi_static_n: float) -> None:
    assert table.region(region).force_n.quasi_static == quasi_static_n


def test_table_a3_body_model(table: BodyRegionTable) -> None:
    chest, hands, face = table.region("chest"), table.region("hands_fingers"), table.region("face")
    assert (chest.spring_constant_n_mm, chest.effective_mass_kg) == (25.0, 40.0)
    assert (hands.spring_constant_n_mm, hands.effective_mass_kg) == (75.0, 0.6)
    assert (face.spring_constant_n_mm, face.effective_mass_kg) == (75.0, 4.4)


def test_transient_impact_force_and_speed_limit_from_the_energy_model(table: BodyRegionTable) -> None:
    chest = table.region("chest")
    # m_R = 20 kg: mu = 1 / (1/40 + 1/20) = 13.333 kg; k = 25 N/mm = 25000 N/m
    # sqrt(mu * k) = sqrt(333333.3) = 577.35 N s/m; at 0.5 m/s: F = 288.68 N > 280 N transient limit
    assert transient_force_n(chest, 0.5, 20.0) == pytest.approx(288.675, abs=1e-3)
    assert max_transient_speed_m_s(chest, 20.0) == pytest.approx(280.0 / 577.350, abs=1e-5)  # 0.48497 m/s
    assert transient_force_n(chest, -0.3, 20.0) == 0.0  # moving apart: no impact
    # rby1 class: M = 131 kg, payload 0.4 kg -> m_R = 65.5 + 0.4 = 65.9 kg
    m_r = robot_effective_mass_kg(131.0, 0.4)
    assert m_r == pytest.approx(65.9)
    # hands: mu = 1 / (1/0.6 + 1/65.9) = 0.594590 kg; sqrt(0.594590 * 75000) = 211.17; v_max = 280 / 211.17
    assert max_transient_speed_m_s(table.region("hands_fingers"), m_r) == pytest.approx(1.32593, abs=1e-5)
    # face: transient contact not permitted, the quasi-static 65 N bounds the speed
    # mu = 1 / (1/4.4 + 1/65.5) = 4.12302 kg; sqrt(4.12302 * 75000) = 556.08; v_max = 65 / 556.08 = 0.11689 m/s
    assert max_transient_speed_m_s(table.region("face"), 65.5) == pytest.approx(0.116889, abs=1e-5)


def test_short_free_contact_is_held_to_twice_the_quasi_static_limit(table: BodyRegionTable) -> None:
    # chest, 200 N for 0.1 s, free to recoil: transient, limit 2 * 140 = 280 N -> no event
    check = check_contact(table, Contact("r1", "chest", 200.0, 0.1))
    assert check.kind is ContactKind.TRANSIENT
    assert check.force_limit_n == 280.0
    assert not check.force_exceeded
    assert contact_events("site-a", table, [Contact("r1", "chest", 200.0, 0.1)], T0) == []


def test_long_or_clamped_contact_is_quasi_static(table: BodyRegionTable) -> None:
    # 0.8 s > 0.5 s: quasi-static, limit 140 N; clamped for 0.1 s: quasi-static as well
    long_contact = Contact("r1", "chest", 200.0, 0.8, robot_link="right_tcp", location_m=(1.0, 2.0, 1.3))
    clamped = Contact("r1", "chest", 200.0, 0.1, clamped=True)
    events = contact_events("site-a", table, [long_contact, clamped], T0)
    assert [(e.type, e.measured, e.limit, e.unit, e.severity) for e in events] == [
        (FORCE_EVENT, 200.0, 140.0, "N", Severity.CRITICAL),
        (FORCE_EVENT, 200.0, 140.0, "N", Severity.CRITICAL),
    ]
    assert events[0].evidence["region"] == "chest"
    assert events[0].evidence["contact_kind"] == "quasi_static"
    assert events[0].evidence["robot_link"] == "right_tcp"
    assert events[0].location_m == (1.0, 2.0, 1.3)


def test_exactly_half_a_second_is_still_transient(table: BodyRegionTable) -> None:
    assert check_contact(table, Contact("r1", "abdomen", 200.0, 0.5)).force_limit_n == 220.0


def test_face_has_no_transient_allowance(table: BodyRegionTable) -> None:
    # face: transient contact not permitted, the quasi-static 65 N applies to a 0.05 s bump of 100 N
    (event,) = contact_events("site-a", table, [Contact("r1", "face", 100.0, 0.05)], T0)
    assert (event.measured, event.limit) == (100.0, 65.0)


def test_pressure_against_named_area_and_lowest_area_of_region(table: BodyRegionTable) -> None:
    # 100 N on 0.25 cm² = 400 N/cm²; transient; hands: lowest area limit back_of_hand_non_dominant 2 * 190 = 380
    unnamed = check_contact(table, Contact("r1", "hands_fingers", 100.0, 0.1, contact_area_cm2=0.25))
    assert unnamed.pressure_n_cm2 == pytest.approx(400.0)
    assert (unnamed.pressure_area, unnamed.pressure_limit_n_cm2) == ("back_of_hand_non_dominant", 380.0)
    assert unnamed.pressure_exceeded and not unnamed.force_exceeded
    # same contact on the dominant forefinger pad: 2 * 300 = 600 N/cm² -> fine
    pad = check_contact(
        table, Contact("r1", "hands_fingers", 100.0, 0.1, area="forefinger_pad_dominant", contact_area_cm2=0.25)
    )
    assert pad.pressure_limit_n_cm2 == 600.0
    assert not pad.pressure_exceeded
    (event,) = contact_events("site-a", table, [Contact("r1", "hands_fingers", 100.0, 0.1, contact_area_cm2=0.25)], T0)
    assert (event.type, event.unit) == (PRESSURE_EVENT, "N/cm2")
    assert (event.measured, event.limit) == pytest.approx((400.0, 380.0))


def test_unknown_region_or_area_names_what_is_known(table: BodyRegionTable) -> None:
    with pytest.raises(LimitTableError, match=r"no region 'elbow'.*chest"):
        check_contact(table, Contact("r1", "elbow", 10.0, 0.1))
    with pytest.raises(LimitTableError, match="no specific area 'sternum'"):
        check_contact(table, Contact("r1", "face", 10.0, 0.1, area="sternum", contact_area_cm2=1.0))


def test_bad_table_file_reports_file_line_and_field(tmp_path: Path) -> None:
    (tmp_path / "safety").mkdir()
    (tmp_path / "safety" / "strict.yaml").write_text(
        "id: strict\n"
        "source: test\n"
        "transient_max_duration_s: 0.5\n"
        "regions:\n"
        "  chest:\n"
        "    name: Chest\n"
        "    spring_constant_n_mm: 25\n"
        "    effective_mass_kg: 40\n"
        "    force_n: {quasi_static: 140, transient: 100}\n"
        "    pressure_n_cm2:\n"
        "      sternum: {quasi_static: -1, transient: null}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_limit_table("strict", root=tmp_path)
    text = str(info.value)
    assert "strict.yaml:9:14: regions.chest.force_n: transient limit 100.0 is below the quasi-static limit" in text
    assert "strict.yaml:11:31: regions.chest.pressure_n_cm2.sternum.quasi_static: must be greater than 0" in text
    with pytest.raises(ConfigError, match="file not found"):
        load_limit_table("missing", root=tmp_path)


@pytest.mark.parametrize(
    ("z_m", "candidates", "judged_as"),
    [
        (0.30, ("lower_legs",), "lower_legs"),
        (0.75, ("thighs_knees", "hands_fingers"), "hands_fingers"),  # 140 N < 220 N
        (1.30, ("upper_arms_elbows", "chest"), "chest"),  # 140 N < 150 N
        (1.72, ("skull_forehead",), "skull_forehead"),
        (1.90, (), None),
    ],
)
def test_simulated_worker_body_regions(
    table: BodyRegionTable, z_m: float, candidates: tuple[str, ...], judged_as: str | None
) -> None:
    assert regions_at_height(z_m) == candidates
    assert contact_region(table, z_m) == judged_as
