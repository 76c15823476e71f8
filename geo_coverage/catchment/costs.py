"""Sparse travel costs (:class:`CostTable`) and straight-line reach with a detour factor.

One KD-tree query finds all pairs within reach (:func:`straight_line_costs`), or the nearest
facility of every point (:func:`nearest_distance`, :func:`covered_by_any`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist

from ..errors import DataError

__all__ = ["CostTable", "WEIGHTS", "straight_line_costs", "nearest_distance", "covered_by_any"]

WEIGHTS = ("length", "time")  # metres, minutes


def _metres_per_minute(speed_kmh: float) -> float:
    return float(speed_kmh) * 1000.0 / 60.0


@dataclass(frozen=True)
class CostTable:
    """Sparse travel costs in long form: ``costs[k]`` from ``origins[k]`` to ``destinations[k]``.

    Indices are positions in the origin and destination arrays the table was built from; pairs
    missing from the table are out of reach.  ``unit`` is ``"m"`` or ``"min"``.
    """

    origins: np.ndarray
    destinations: np.ndarray
    costs: np.ndarray
    n_origins: int
    n_destinations: int
    unit: str = "m"

    def __post_init__(self):
        lengths = {len(self.origins), len(self.destinations), len(self.costs)}
        if len(lengths) != 1:
            raise DataError("Cost table columns have different lengths.")

    def __len__(self) -> int:
        return len(self.costs)

    def within(self, max_cost: float) -> CostTable:
        """Only the pairs with ``cost <= max_cost``."""
        keep = self.costs <= max_cost
        return CostTable(self.origins[keep], self.destinations[keep], self.costs[keep],
                         self.n_origins, self.n_destinations, self.unit)

    def to_sparse(self) -> sparse.csr_matrix:
        """``n_origins × n_destinations`` CSR matrix; a zero cost stays an explicit entry."""
        return sparse.csr_matrix((self.costs, (self.origins, self.destinations)),
                                 shape=(self.n_origins, self.n_destinations))

    def to_frame(self, origin_ids=None, destination_ids=None) -> pd.DataFrame:
        """``origin_id, destination_id, cost`` (ids as text when given, else positions)."""
        origin = self.origins if origin_ids is None else np.asarray(origin_ids, dtype=object)[self.origins]
        destination = (self.destinations if destination_ids is None
                       else np.asarray(destination_ids, dtype=object)[self.destinations])
        return pd.DataFrame({"origin_id": origin, "destination_id": destination, "cost": self.costs})

    @classmethod
    def from_arrays(cls, origins, destinations, costs, *, n_origins: int, n_destinations: int,
                    unit: str = "m") -> CostTable:
        """A table from array-likes (positions as int64, costs as float)."""
        return cls(np.asarray(origins, dtype=np.int64), np.asarray(destinations, dtype=np.int64),
                   np.asarray(costs, dtype=float), int(n_origins), int(n_destinations), unit)


def _as_xy(points) -> np.ndarray:
    xy = np.asarray(points, dtype=float)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise DataError("Points must be an (n, 2) array of metric coordinates.")
    return xy


def _tree(points) -> cKDTree:
    return points if isinstance(points, cKDTree) else cKDTree(_as_xy(points))


def straight_line_costs(origins, destinations, *, max_cost: float | None,
                        detour_factor: float = 1.0, speed_kmh: float | None = None,
                        metric: str = "euclidean") -> CostTable:
    """All origin–destination pairs within ``max_cost`` by straight line times a detour factor.

    The one straight-line cost function of the package: access measures and the siting models
    (:mod:`geo_coverage.optimize`, whose ``from_cost_matrix`` takes the table as it is) both
    call it.

    Parameters
    ----------
    origins, destinations
        ``(n, 2)`` metric coordinates, arrays of shapely points, or a prebuilt ``cKDTree`` of
        coordinates.
    max_cost
        Metres, or minutes when ``speed_kmh`` is given.  ``None`` keeps every pair (refused
        above 20 million pairs: give the service radius instead).
    detour_factor
        Travel distance per straight-line metre (≥ 1).
    speed_kmh
        Turns travel distance into minutes.
    metric
        ``"euclidean"``, or ``"manhattan"`` for a grid of streets.

    Returns
    -------
    CostTable
        One ``sparse_distance_matrix`` query between the two KD-trees (every pair when
        ``max_cost`` is ``None``); a zero cost stays a pair; cost in ``m`` or ``min``.
    """
    norms = {"euclidean": 2, "manhattan": 1}
    if metric not in norms:
        raise DataError(f"Unknown metric '{metric}'.", fix="Use 'euclidean' or 'manhattan'.")
    if not detour_factor >= 1.0:  # also refuses NaN
        raise DataError(f"Detour factor {detour_factor} is below 1.",
                        fix="Use 1 for straight lines or a larger circuity, e.g. 1.3.")
    metres_per_unit = 1.0 if speed_kmh is None else _metres_per_minute(speed_kmh)
    unit = "m" if speed_kmh is None else "min"
    trees = []
    for points in (origins, destinations):
        if not isinstance(points, cKDTree) and np.asarray(points).dtype == object:
            points = shapely.get_coordinates(np.asarray(points))
        trees.append(_tree(points))
    origin_tree, destination_tree = trees
    if max_cost is None:
        if origin_tree.n * destination_tree.n > 20_000_000:
            raise DataError(f"{origin_tree.n:,} × {destination_tree.n:,} pairs are too many "
                            "without max_cost.",
                            fix="Give max_cost (the service radius) so only pairs within reach "
                                "are kept.")
        distance = cdist(origin_tree.data, destination_tree.data,
                         "cityblock" if metric == "manhattan" else "euclidean")
        origin, destination = np.indices(distance.shape).reshape(2, -1)
        costs = distance.ravel() * (float(detour_factor) / metres_per_unit)
        return CostTable.from_arrays(origin, destination, costs, n_origins=origin_tree.n,
                                     n_destinations=destination_tree.n, unit=unit)
    radius = float(max_cost) * metres_per_unit / float(detour_factor)
    pairs = destination_tree.sparse_distance_matrix(origin_tree, radius, p=norms[metric],
                                                    output_type="ndarray")
    costs = pairs["v"] * (float(detour_factor) / metres_per_unit)
    return CostTable.from_arrays(pairs["j"], pairs["i"], costs, n_origins=origin_tree.n,
                                 n_destinations=destination_tree.n, unit=unit)


def nearest_distance(origins, destinations, *, max_distance: float = np.inf
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Straight-line distance to, and index of, each origin's nearest destination.

    Beyond ``max_distance`` the distance is ``inf`` and the index ``-1``.

    Parameters
    ----------
    origins
        ``(n, 2)`` metric coordinates.
    destinations
        ``(m, 2)`` metric coordinates, or a prebuilt ``cKDTree`` of them.
    max_distance
        Metres; farther destinations are not found.

    Returns
    -------
    tuple
        ``(distance, index)``, one of each per origin.
    """
    xy = _as_xy(origins)
    tree = _tree(destinations)
    if tree.n == 0:
        return np.full(len(xy), np.inf), np.full(len(xy), -1, dtype=np.int64)
    distance, index = tree.query(xy, k=1, distance_upper_bound=max_distance)
    index = np.where(np.isfinite(distance), index, -1).astype(np.int64)
    return distance, index


def covered_by_any(origins, destinations, *, radius: float) -> np.ndarray:
    """Boolean mask of origins within ``radius`` (straight line) of at least one destination.

    ``origins`` may be a prebuilt tree (e.g. :meth:`DemandPoints.tree`): one ball query from the
    destinations, whose hits are flattened into the mask.

    Parameters
    ----------
    origins
        ``(n, 2)`` metric coordinates, or a prebuilt ``cKDTree`` of them.
    destinations
        ``(m, 2)`` metric coordinates.
    radius
        Metres as the crow flies.

    Returns
    -------
    numpy.ndarray
        Boolean, one per origin.
    """
    origin_tree = _tree(origins)
    covered = np.zeros(origin_tree.n, dtype=bool)
    destination_xy = np.asarray(destinations, dtype=float).reshape(-1, 2)
    if len(destination_xy) == 0 or origin_tree.n == 0:
        return covered
    hits = origin_tree.query_ball_point(destination_xy, float(radius), return_sorted=False)
    if len(hits):
        flat = np.concatenate([np.asarray(h, dtype=np.int64) for h in hits])
        covered[flat] = True
    return covered

