"""Test sites: layout (site frame: x, y on the floor, z up, origin at a floor corner), human zones, robots, safety."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from humanoid_trials.values import (
    Angle,
    Frozen,
    Identifier,
    Length,
    NonNegative,
    Point2,
    Positive,
    PositiveLength,
    Size3,
    Text,
    deg2rad,
    polygon_area,
)

Industry = Literal["automotive", "shipbuilding", "heavy_industry", "battery", "electronics", "logistics", "other"]
ObjectKind = Literal["table", "bin", "tray", "conveyor", "fixture", "machine", "rack", "panel", "shelf"]


class Location(Frozen):
    city: Text
    country: Text


class Pose(Frozen):
    """A pose in the site frame: position (m) and heading about z (degrees; 0 faces +x)."""

    x_m: Length
    y_m: Length
    z_m: Length = 0.0
    yaw_deg: Angle = 0.0

    @property
    def yaw_rad(self) -> float:
        return deg2rad(self.yaw_deg)


class Station(Frozen):
    """Where a robot base stands to work."""

    id: Identifier
    pose: Pose


class SiteObject(Frozen):
    """A static object: pose is the centre of its footprint with z at its bottom; size (x, y, z) in m."""

    id: Identifier
    kind: ObjectKind
    station: Identifier
    pose: Pose
    size_m: Size3

    @property
    def top_z_m(self) -> float:
        """Height of the top surface, where parts sit (m)."""
        return self.pose.z_m + self.size_m[2]


class Layout(Frozen):
    floor_m: tuple[PositiveLength, PositiveLength]
    stations: tuple[Station, ...] = Field(min_length=1)
    objects: tuple[SiteObject, ...] = ()


class HumanZone(Frozen):
    """An area where people work: a polygon on the floor (site frame, m) up to a height (m)."""

    id: Identifier
    polygon_m: tuple[Point2, ...] = Field(min_length=3)
    height_m: PositiveLength = 2.0

    @model_validator(mode="after")
    def _has_area(self) -> HumanZone:
        if abs(polygon_area(self.polygon_m)) < 1e-6:
            raise ValueError("polygon_m has no area: its points are on one line")
        return self


class DeployedRobot(Frozen):
    id: Identifier
    profile: Identifier
    home_station: Identifier


class SafetyParams(Frozen):
    """Safety parameters (ISO 13855 / ISO 10218-2 / ISO/TS 15066 symbols in the comments)."""

    human_speed_m_s: Positive = 1.6  # K_h
    reaction_time_s: NonNegative = 0.1  # T_r
    stopping_time_s: NonNegative = 0.3  # T_s
    intrusion_distance_m: NonNegative = 0.2  # C
    sensor_uncertainty_m: NonNegative = 0.05  # Z_d
    robot_uncertainty_m: NonNegative = 0.02  # Z_r
    min_clearance_m: NonNegative = 0.10
    max_tilt_deg: Positive = 10.0
    body_region_limits: Identifier = "iso_ts_15066"


class Site(Frozen):
    id: Identifier
    name: Text
    company: Text
    industry: Industry
    location: Location
    takt_time_s: Positive
    layout: Layout
    human_zones: tuple[HumanZone, ...] = ()
    robots: tuple[DeployedRobot, ...] = Field(min_length=1)
    safety: SafetyParams = SafetyParams()

    def station(self, station_id: str) -> Station:
        for station in self.layout.stations:
            if station.id == station_id:
                return station
        raise KeyError(f"site {self.id!r} has no station {station_id!r}")

    def object(self, object_id: str) -> SiteObject:
        for obj in self.layout.objects:
            if obj.id == object_id:
                return obj
        raise KeyError(f"site {self.id!r} has no object {object_id!r}")

    def robot(self, robot_id: str) -> DeployedRobot:
        for robot in self.robots:
            if robot.id == robot_id:
                return robot
        raise KeyError(f"site {self.id!r} has no robot {robot_id!r}")

    def zone(self, zone_id: str) -> HumanZone:
        for zone in self.human_zones:
            if zone.id == zone_id:
                return zone
        raise KeyError(f"site {self.id!r} has no human zone {zone_id!r}")
