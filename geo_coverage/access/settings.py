"""How access is measured: catchments, decays, speeds, detour and the demand grid, frozen."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from ..catchment import RoadNetwork
from ..errors import DataError
from ..plan import DECAYS, DEFAULT_SPEED_KMH, Indicator

__all__ = ["AccessSettings"]


@dataclass(frozen=True)
class AccessSettings:
    """How access is measured.  Immutable; build a new one to change anything.

    Attributes
    ----------
    resolution_m
        Cell size of the population grid built from unit populations (when ``raster`` is None).
    detour_factor
        Travel distance per straight-line metre when no road network is given.  1.3 is the
        circuity commonly measured for urban street networks (network ÷ straight-line distance
        between random origin–destination pairs is about 1.2–1.4), and Beijing's large gated
        blocks push walking routes towards the upper end; the plan's catchments are travel
        distances, so a 1,000 m walk reaches about 770 m as the crow flies.
    walk_speed_kmh, drive_speed_kmh
        Turn minutes into distances (defaults: :data:`geo_coverage.plan.DEFAULT_SPEED_KMH`).
    network
        A :class:`~geo_coverage.catchment.RoadNetwork` in the dataset's CRS; ``None`` for straight
        lines with the detour factor.
    catchments
        ``indicator id -> catchment`` overriding the plan, in the indicator's own unit: metres for
        distance catchments (life circles), minutes for ``max_minutes`` ones.
    decays
        ``indicator id -> decay name`` (step | gaussian | gravity) overriding the plan.
    raster
        A population GeoTIFF; ``None`` spreads unit populations evenly.
    demand_cells_per_radius
        For 2SFCA, demand cells are merged into squares no wider than the catchment radius
        divided by this (a 30-minute drive uses 500 m squares, a walk keeps the 100 m grid).
    """

    resolution_m: float = 100.0
    detour_factor: float = 1.3
    walk_speed_kmh: float = DEFAULT_SPEED_KMH["walk"]
    drive_speed_kmh: float = DEFAULT_SPEED_KMH["drive"]
    network: RoadNetwork | None = None
    catchments: Mapping[str, float] = field(default_factory=dict)
    decays: Mapping[str, str] = field(default_factory=dict)
    raster: str | Path | None = None
    demand_cells_per_radius: float = 20.0

    def __post_init__(self):
        object.__setattr__(self, "catchments",
                           MappingProxyType({str(k): float(v) for k, v in self.catchments.items()}))
        object.__setattr__(self, "decays",
                           MappingProxyType({str(k): str(v) for k, v in self.decays.items()}))
        for name, decay in self.decays.items():
            if decay not in DECAYS:
                raise DataError(f"Unknown decay '{decay}' for '{name}'.", fix=f"Use one of {DECAYS}.")
        for name, value in (("resolution_m", self.resolution_m), ("walk_speed_kmh", self.walk_speed_kmh),
                            ("drive_speed_kmh", self.drive_speed_kmh)):
            if not value > 0:
                raise DataError(f"{name} must be positive, not {value}.")
        if self.detour_factor < 1:
            raise DataError(f"Detour factor {self.detour_factor} is below 1.", fix="Use 1 or more, e.g. 1.3.")
        for name, value in self.catchments.items():
            if not value > 0:
                raise DataError(f"Catchment {value} for '{name}' is not positive.")

    @property
    def speed_kmh(self) -> Mapping[str, float]:
        """Travel speeds by mode (``walk``, ``drive``) in km/h."""
        return MappingProxyType({"walk": float(self.walk_speed_kmh), "drive": float(self.drive_speed_kmh)})

    def catchment(self, indicator: Indicator) -> tuple[float, str]:
        """The indicator's catchment after overrides.

        Returns
        -------
        tuple
            ``(max_cost, weight)``: metres with ``'length'`` or minutes with ``'time'``.
        """
        override = self.catchments.get(indicator.id)
        if indicator.max_distance_m is not None:
            return (override if override is not None else float(indicator.max_distance_m)), "length"
        if indicator.max_minutes is not None:
            return (override if override is not None else float(indicator.max_minutes)), "time"
        raise DataError(f"Indicator '{indicator.id}' has no catchment.",
                        fix="Give it 'life_circle', 'max_distance_m' or 'max_minutes' in the plan.")

    def decay(self, indicator: Indicator) -> str:
        """The decay name for ``indicator``: the override, else the plan's."""
        return self.decays.get(indicator.id, indicator.decay)

    def straight_radius_m(self, max_cost: float, *, weight: str, mode: str) -> float:
        """The straight-line radius equivalent to a catchment (travel metres ÷ detour).

        Parameters
        ----------
        max_cost
            Metres (``weight='length'``) or minutes (``'time'``).
        weight, mode
            The cost's unit and the travel mode whose speed turns minutes into metres.

        Returns
        -------
        float
            Metres as the crow flies.
        """
        metres = max_cost if weight == "length" else max_cost / 60.0 * self.speed_kmh[mode] * 1000.0
        return metres / self.detour_factor

    def travel_key(self) -> tuple:
        """What, besides the catchment, decides costs: detour, speeds and the road network (by
        identity); part of the memo keys of catchments."""
        return (float(self.detour_factor), float(self.walk_speed_kmh), float(self.drive_speed_kmh),
                self.network)
