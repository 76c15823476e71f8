"""Travel costs between demand points and facilities, kept sparse.

Two ways to measure a trip:

* **Straight line** with a detour factor (and a speed, for minutes): one KD-tree query for all
  pairs within reach (:func:`straight_line_costs`), or the nearest facility of every point
  (:func:`nearest_distance`, :func:`covered_by_any`).
* **Road network** (:class:`RoadNetwork`, compact CSR arrays in a metric CRS) loaded from OSM XML,
  osmnx GraphML or node/edge CSV files.  Points are snapped to their nearest node once (the snap
  distance is walked); cost-bounded shortest paths run from many sources at once with
  ``scipy.sparse.csgraph.dijkstra(limit=…, indices=…)`` on small spatial tiles of the graph, so
  a 15-minute catchment never pays for the whole city.

Costs come back as a :class:`CostTable`: long form (origin, destination, cost), only pairs within
the limit.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from .errors import DataError
from .plan import DEFAULT_SPEED_KMH

__all__ = [
    "CostTable",
    "RoadNetwork",
    "straight_line_costs",
    "nearest_distance",
    "covered_by_any",
    "network_costs",
    "network_nearest_cost",
    "network_from_graph",
    "network_from_file",
    "network_from_csv",
    "bounded_shortest_paths",
    "WEIGHTS",
]

WEIGHTS = ("length", "time")  # metres, minutes
# Dense result rows × columns held at once by one dijkstra call (float64: 32 MB); larger blocks
# only add page faults to the inf-filling csgraph does first.
_MAX_DENSE_CELLS = 4_000_000


def _metres_per_minute(speed_kmh: float) -> float:
    return float(speed_kmh) * 1000.0 / 60.0


# --- the cost table ---------------------------------------------------------------------------


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

    def within(self, max_cost: float) -> "CostTable":
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
                    unit: str = "m") -> "CostTable":
        return cls(np.asarray(origins, dtype=np.int64), np.asarray(destinations, dtype=np.int64),
                   np.asarray(costs, dtype=float), int(n_origins), int(n_destinations), unit)


# --- straight line ----------------------------------------------------------------------------


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
            import shapely  # only geometry input needs it

            points = shapely.get_coordinates(np.asarray(points))
        trees.append(_tree(points))
    origin_tree, destination_tree = trees
    if max_cost is None:
        from scipy.spatial.distance import cdist  # only the all-pairs path needs it

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


# --- road networks ------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """A road graph as compact arrays in a metric CRS.

    Attributes
    ----------
    node_ids
        Original node ids (text).
    x, y
        Node coordinates in ``crs`` (metres).
    tail, head
        Directed edges as node positions (a two-way road is two edges).
    length_m
        Edge length in metres.
    seconds
        The edge's own travel time in seconds where the source gave one (NaN elsewhere); used for
        driving instead of length ÷ speed.
    crs, source
    """

    node_ids: np.ndarray
    x: np.ndarray
    y: np.ndarray
    tail: np.ndarray
    head: np.ndarray
    length_m: np.ndarray
    seconds: np.ndarray
    crs: object
    source: str = ""
    _memo: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_nodes(self) -> int:
        return len(self.x)

    @property
    def n_edges(self) -> int:
        return len(self.tail)

    def edge_costs(self, *, weight: str = "time", mode: str = "walk",
                   speed_kmh: Mapping[str, float] = DEFAULT_SPEED_KMH) -> np.ndarray:
        """Cost of every edge: metres (``length``) or minutes (``time``) for ``mode``."""
        if weight not in WEIGHTS:
            raise DataError(f"Unknown cost weight '{weight}'.", fix=f"Use one of {WEIGHTS}.")
        if weight == "length":
            return self.length_m
        minutes = self.length_m / _metres_per_minute(speed_kmh[mode])
        if mode == "drive":
            # The edge's own travel time (e.g. osmnx add_edge_travel_times) beats a flat speed.
            minutes = np.where(np.isfinite(self.seconds), self.seconds / 60.0, minutes)
        return minutes

    def graph(self, *, weight: str = "time", mode: str = "walk",
              speed_kmh: Mapping[str, float] = DEFAULT_SPEED_KMH, reverse: bool = False
              ) -> sparse.csr_matrix:
        """The CSR adjacency for ``mode`` (walking ignores one-way rules), cheapest parallel edge kept.

        ``reverse`` flips every edge, so paths from a facility in it are paths *to* the facility.
        """
        key = ("graph", weight, mode, tuple(sorted(speed_kmh.items())), reverse)
        if key not in self._memo:
            cost = self.edge_costs(weight=weight, mode=mode, speed_kmh=speed_kmh)
            tail, head = (self.head, self.tail) if reverse else (self.tail, self.head)
            if mode == "walk":
                tail, head = np.concatenate([tail, head]), np.concatenate([head, tail])
                cost = np.concatenate([cost, cost])
            self._memo[key] = _csr_min(tail, head, cost, self.n_nodes)
        return self._memo[key]

    def reach_ratio(self, *, weight: str = "time", mode: str = "walk",
                    speed_kmh: Mapping[str, float] = DEFAULT_SPEED_KMH) -> float:
        """Largest straight-line metres covered per unit of cost on any edge.

        Anything reachable within cost ``c`` lies within ``c × reach_ratio`` metres of the start:
        the bound that lets shortest paths run on a spatial tile of the graph instead of all of it.
        """
        key = ("reach", weight, mode, tuple(sorted(speed_kmh.items())))
        if key not in self._memo:
            cost = self.edge_costs(weight=weight, mode=mode, speed_kmh=speed_kmh)
            span = np.hypot(self.x[self.tail] - self.x[self.head], self.y[self.tail] - self.y[self.head])
            if len(span) == 0:
                ratio = 0.0
            elif np.any((cost <= 0) & (span > 0)):
                ratio = np.inf
            else:
                with np.errstate(divide="ignore", invalid="ignore"):
                    ratio = float(np.nanmax(np.where(cost > 0, span / cost, 0.0)))
            self._memo[key] = ratio
        return self._memo[key]

    def snap(self, points) -> tuple[np.ndarray, np.ndarray]:
        """Nearest node of each point and the straight-line distance to it (metres)."""
        if self.n_nodes == 0:
            raise DataError("The road network has no nodes.", fix="Load a network covering the area.")
        if "tree" not in self._memo:
            self._memo["tree"] = cKDTree(np.column_stack([self.x, self.y]))
        distance, node = self._memo["tree"].query(_as_xy(points), k=1)
        return node.astype(np.int64), distance


def _csr_min(tail, head, cost, n) -> sparse.csr_matrix:
    """CSR matrix keeping the cheapest of parallel edges (a sum would be wrong) and no self-loops."""
    keep = (tail != head) & np.isfinite(cost)
    tail, head, cost = tail[keep], head[keep], cost[keep]
    order = np.lexsort((cost, head, tail))
    tail, head, cost = tail[order], head[order], cost[order]
    first = np.ones(len(tail), dtype=bool)
    first[1:] = (tail[1:] != tail[:-1]) | (head[1:] != head[:-1])
    tail, head, cost = tail[first], head[first], cost[first]
    indptr = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.bincount(tail, minlength=n), out=indptr[1:])
    return sparse.csr_matrix((cost.astype(float), head.astype(np.int32), indptr), shape=(n, n))


def _utm_crs(lon: np.ndarray, lat: np.ndarray):
    from pyproj import CRS

    lon0, lat0 = float(np.nanmean(lon)), float(np.nanmean(lat))
    zone = int((lon0 + 180.0) // 6.0) + 1
    return CRS.from_epsg((32600 if lat0 >= 0 else 32700) + zone)


def _project(lon, lat, source_crs, crs):
    from pyproj import CRS, Transformer

    source_crs = CRS.from_user_input(source_crs)
    if crs is None:
        crs = _utm_crs(lon, lat) if source_crs.is_geographic else source_crs
    crs = CRS.from_user_input(crs)
    if crs == source_crs:
        return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float), crs
    if crs.is_geographic:
        raise DataError(f"The network CRS {crs} is not metric.", fix="Use a projected CRS (e.g. UTM).")
    x, y = Transformer.from_crs(source_crs, crs, always_xy=True).transform(lon, lat)
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float), crs


def network_from_graph(graph, *, crs=None, source: str = "") -> RoadNetwork:
    """A :class:`RoadNetwork` from a networkx (osmnx) graph with node ``x``/``y``.

    Parameters
    ----------
    graph
        A (Multi)(Di)Graph; its ``graph['crs']`` says the node coordinates' CRS (WGS84 if absent).
        Edges may have ``length`` (metres) and ``travel_time`` (seconds); undirected graphs
        become two-way.
    crs
        Metric CRS to hold the network in (default: the graph's own if projected, else its UTM zone).
    """
    nodes = list(graph.nodes)
    if not nodes:
        raise DataError("The road network has no nodes.", file=source or None,
                        fix="Load a network covering the area (check the bounding box or place).")
    position = {node: i for i, node in enumerate(nodes)}
    try:
        node_x = np.array([graph.nodes[n]["x"] for n in nodes], dtype=float)
        node_y = np.array([graph.nodes[n]["y"] for n in nodes], dtype=float)
    except KeyError:
        raise DataError("Road network nodes need 'x' and 'y' coordinates.", file=source or None,
                        fix="Load an osmnx graph (graph_from_xml / load_graphml).") from None
    x, y, crs = _project(node_x, node_y, graph.graph.get("crs", "EPSG:4326"), crs)
    edges = list(graph.edges(data=True))
    tail = np.array([position[u] for u, _, _ in edges], dtype=np.int64)
    head = np.array([position[v] for _, v, _ in edges], dtype=np.int64)
    straight = np.hypot(x[tail] - x[head], y[tail] - y[head]) if len(edges) else np.zeros(0)
    length = np.array([_number_or_nan(data.get("length")) for _, _, data in edges], dtype=float)
    length = np.where(np.isfinite(length), length, straight)
    seconds = np.array([_number_or_nan(data.get("travel_time")) for _, _, data in edges], dtype=float)
    if not graph.is_directed():
        tail, head = np.concatenate([tail, head]), np.concatenate([head, tail])
        length, seconds = np.concatenate([length, length]), np.concatenate([seconds, seconds])
    return RoadNetwork(node_ids=np.array([str(n) for n in nodes], dtype=object), x=x, y=y,
                       tail=tail, head=head, length_m=length, seconds=seconds, crs=crs,
                       source=str(source))


def _number_or_nan(value) -> float:
    if isinstance(value, list):  # osmnx keeps merged attributes as lists
        value = value[0] if value else None
    try:
        return float(value)
    except (TypeError, ValueError):
        return np.nan


def network_from_file(path: str | Path, *, crs=None) -> RoadNetwork:
    """Load OSM XML (``.osm``/``.xml``) or osmnx GraphML (``.graphml``) into a :class:`RoadNetwork`."""
    from . import io

    return network_from_graph(io.read_road_graph(path), crs=crs, source=str(path))


def network_from_csv(nodes_path: str | Path, edges_path: str | Path, *, crs=None) -> RoadNetwork:
    """Load a network from two CSV files.

    ``nodes``: ``id, lon, lat`` (WGS84).  ``edges``: ``u, v`` (node ids) and optionally ``length``
    (metres; default the straight line), ``travel_time`` (seconds) and ``oneway`` (true/false;
    default false: the edge is added in both directions).
    """
    from . import io

    nodes = io.read_csv(nodes_path)
    edges = io.read_csv(edges_path)
    for column in ("id", "lon", "lat"):
        if column not in nodes:
            raise DataError(f"Missing column '{column}'.", file=nodes_path, column=column,
                            fix="Node files need id, lon, lat (WGS84).")
    for column in ("u", "v"):
        if column not in edges:
            raise DataError(f"Missing column '{column}'.", file=edges_path, column=column,
                            fix="Edge files need u and v (node ids), optionally length, travel_time, oneway.")
    lon = _numeric_column(nodes, "lon", nodes_path)
    lat = _numeric_column(nodes, "lat", nodes_path)
    ids = nodes["id"].astype(str).to_numpy(dtype=object)
    duplicated = pd.Series(ids).duplicated().to_numpy()
    if duplicated.any():
        row = int(np.flatnonzero(duplicated)[0]) + 2
        raise DataError(f"Duplicate node id '{ids[row - 2]}'.", file=nodes_path, row=row, column="id")
    position = pd.Index(ids)
    tail = position.get_indexer(edges["u"].astype(str))
    head = position.get_indexer(edges["v"].astype(str))
    for column, found in (("u", tail), ("v", head)):
        if (found < 0).any():
            row = int(np.flatnonzero(found < 0)[0]) + 2
            raise DataError(f"Unknown node id '{edges[column].iloc[row - 2]}'.", file=edges_path,
                            row=row, column=column, fix="Every edge end must be a node id of the node file.")
    x, y, crs = _project(lon, lat, "EPSG:4326", crs)
    straight = np.hypot(x[tail] - x[head], y[tail] - y[head])
    length = _numeric_column(edges, "length", edges_path, default=straight)
    seconds = _numeric_column(edges, "travel_time", edges_path, default=np.full(len(edges), np.nan))
    oneway = (edges["oneway"].astype(str).str.strip().str.lower().isin(("true", "1", "yes", "t"))
              .to_numpy() if "oneway" in edges else np.zeros(len(edges), dtype=bool))
    two_way = ~oneway
    tail, head = np.concatenate([tail, head[two_way]]), np.concatenate([head, tail[two_way]])
    length = np.concatenate([length, length[two_way]])
    seconds = np.concatenate([seconds, seconds[two_way]])
    return RoadNetwork(node_ids=ids, x=x, y=y, tail=tail.astype(np.int64), head=head.astype(np.int64),
                       length_m=length, seconds=seconds, crs=crs, source=f"{nodes_path} + {edges_path}")


def _numeric_column(frame: pd.DataFrame, column: str, origin, *, default=None) -> np.ndarray:
    if column not in frame:
        if default is None:
            raise DataError(f"Missing column '{column}'.", file=origin, column=column)
        return np.asarray(default, dtype=float)
    text = frame[column].astype(str).str.strip()
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    blank = text.eq("").to_numpy()
    bad = np.isnan(values) & ~blank
    if default is None:
        bad |= blank
    if bad.any():
        row = int(np.flatnonzero(bad)[0]) + 2
        raise DataError(f"'{frame[column].iloc[row - 2]}' is not a number.", file=origin, row=row,
                        column=column, fix="Use plain numbers (a dot for decimals).")
    if default is not None:
        values = np.where(blank, np.asarray(default, dtype=float), values)
    return values


# --- bounded shortest paths ---------------------------------------------------------------------


def bounded_shortest_paths(graph: sparse.csr_matrix, sources, *, limit, x=None, y=None,
                           reach_ratio: float = np.inf, workers: int = 1
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Costs from each source to every node within ``limit``, in long form.

    Parameters
    ----------
    graph
        CSR adjacency (costs ≥ 0).
    sources
        Node positions.
    limit
        One cost bound, or one per source.
    x, y, reach_ratio
        Node coordinates and the largest straight-line metres per unit of cost (see
        :meth:`RoadNetwork.reach_ratio`).  With them, sources are grouped in square tiles and each
        group runs on the sub-graph of nodes it could possibly reach (exact: every node on a path
        within the limit is itself within reach); without, on the whole graph.
    workers
        Threads running tile groups at once (scipy's Dijkstra releases the GIL).

    Returns
    -------
    source_position, node, cost
        ``source_position`` indexes ``sources``.
    """
    sources = np.asarray(sources, dtype=np.int64)
    limits = np.broadcast_to(np.asarray(limit, dtype=float), sources.shape)
    graph = _as_csgraph(graph)
    n = graph.shape[0]
    if len(sources) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy(), np.zeros(0)
    reach = float(np.max(limits)) * reach_ratio if x is not None else np.inf
    area = float(np.ptp(x) * np.ptp(y)) if x is not None else 0.0
    tile = _tile_size(reach, area, len(sources)) if np.isfinite(reach) and reach > 0 else np.inf
    scratch = threading.local()

    if np.isfinite(tile) and (tile + 2 * reach) ** 2 < 0.25 * area:
        # Node buckets finer than the tiles, so a tile's neighbourhood is close to its box ± reach.
        node_tiles = _NodeTiles(x, y, min(tile, reach) / 2.0)

        def task(group):
            members, (ti, tj) = group
            local = getattr(scratch, "local", None)
            if local is None:
                local = scratch.local = np.full(n, -1, dtype=np.int32)
            sub_nodes = node_tiles.within(ti * tile - reach, (ti + 1) * tile + reach,
                                          tj * tile - reach, (tj + 1) * tile + reach)
            local[sub_nodes] = np.arange(len(sub_nodes), dtype=np.int32)
            try:
                sub = _subgraph(graph, sub_nodes, local)
                return [_run(sub, local[sources[chunk]], limits[chunk], chunk, sub_nodes)
                        for chunk in _chunks(members, len(sub_nodes))]
            finally:
                local[sub_nodes] = -1

        groups = list(_tile_groups(sources, x, y, tile))
    else:
        def task(chunk):
            return [_run(graph, sources[chunk], limits[chunk], chunk, None)]

        groups = list(_chunks(np.arange(len(sources)), n))
    if workers > 1 and len(groups) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=workers) as pool:
            parts = [part for result in pool.map(task, groups) for part in result]
    else:
        parts = [part for group in groups for part in task(group)]
    source_position = np.concatenate([p[0] for p in parts])
    node = np.concatenate([p[1] for p in parts])
    cost = np.concatenate([p[2] for p in parts])
    return source_position, node, cost


def _as_csgraph(graph) -> sparse.csr_matrix:
    """CSR with int32 indices and float64 costs: what csgraph wants, so no call copies it."""
    graph = sparse.csr_matrix(graph)
    if graph.indptr.dtype != np.int32 or graph.indices.dtype != np.int32 or graph.data.dtype != float:
        graph = sparse.csr_matrix((graph.data.astype(float), graph.indices.astype(np.int32),
                                   graph.indptr.astype(np.int32)), shape=graph.shape)
    return graph


def _tile_size(reach: float, area: float, n_sources: int) -> float:
    # Tiles at least half the reach (the neighbourhood stays near 2 reach wide), large enough to
    # hold about eight sources on average so small catchments share one Dijkstra call, and at
    # most four reaches wide so the neighbourhood is mostly tile.
    crowd = float(np.sqrt(max(area, 1.0) * 8.0 / max(n_sources, 1)))
    return max(reach / 2.0, min(crowd, 4.0 * reach))


def _chunks(members: np.ndarray, n_columns: int):
    size = max(1, _MAX_DENSE_CELLS // max(n_columns, 1))
    for start in range(0, len(members), size):
        yield members[start:start + size]


def _run(graph, local_sources, limits, chunk, sub_nodes):
    distances = dijkstra(graph, directed=True, indices=local_sources,
                         limit=max(float(np.max(limits)), 0.0))
    flat = np.flatnonzero(distances <= limits[:, None])
    row, column = np.divmod(flat, distances.shape[1])
    cost = distances.ravel()[flat]
    node = column if sub_nodes is None else sub_nodes[column]
    return chunk[row], node.astype(np.int64), cost


def _tile_groups(sources, x, y, size):
    ti = np.floor(x[sources] / size).astype(np.int64)
    tj = np.floor(y[sources] / size).astype(np.int64)
    order = np.lexsort((tj, ti))
    keys = np.column_stack([ti[order], tj[order]])
    cuts = np.flatnonzero(np.any(keys[1:] != keys[:-1], axis=1)) + 1
    for group in np.split(order, cuts):
        yield group, (ti[group[0]], tj[group[0]])


class _NodeTiles:
    """Nodes bucketed in square cells, so the nodes of the cells covering a box are a few
    contiguous slices (one per cell column)."""

    def __init__(self, x, y, size):
        ti = np.floor(x / size).astype(np.int64)
        tj = np.floor(y / size).astype(np.int64)
        self.size = float(size)
        self.ti0, self.tj0 = ti.min(), tj.min()
        self.width = int(ti.max() - self.ti0 + 1)
        self.height = int(tj.max() - self.tj0 + 1)
        key = (ti - self.ti0) * self.height + (tj - self.tj0)
        self.order = np.argsort(key, kind="stable")
        self.starts = np.searchsorted(key[self.order], np.arange(self.width * self.height + 1))

    def within(self, x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
        """Nodes of every cell meeting the box (a superset of the nodes inside it)."""
        pieces = []
        i0 = int(np.floor(x0 / self.size)) - self.ti0
        i1 = int(np.floor(x1 / self.size)) - self.ti0
        j0 = max(int(np.floor(y0 / self.size)) - self.tj0, 0)
        j1 = min(int(np.floor(y1 / self.size)) - self.tj0, self.height - 1)
        for i in range(max(i0, 0), min(i1, self.width - 1) + 1):
            if j0 > j1:
                break
            start, stop = self.starts[i * self.height + j0], self.starts[i * self.height + j1 + 1]
            pieces.append(self.order[start:stop])
        return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)


def _subgraph(graph: sparse.csr_matrix, nodes: np.ndarray, local: np.ndarray) -> sparse.csr_matrix:
    """The sub-graph on ``nodes`` (``local`` maps a global node to its position, -1 if absent)."""
    starts = graph.indptr[nodes].astype(np.int64)
    counts = graph.indptr[nodes + 1] - starts
    total = int(counts.sum())
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
    edges = np.arange(total) + offsets
    rows = np.repeat(np.arange(len(nodes)), counts)
    columns = local[graph.indices[edges]]
    keep = columns >= 0
    rows, columns, data = rows[keep], columns[keep], graph.data[edges][keep]
    indptr = np.zeros(len(nodes) + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows, minlength=len(nodes)), out=indptr[1:])
    return sparse.csr_matrix((data, columns.astype(np.int32), indptr), shape=(len(nodes), len(nodes)))


def _group_by(values: np.ndarray, n: int):
    """Members of each value 0..n-1: (order, starts) so members of v are order[starts[v]:starts[v+1]]."""
    order = np.argsort(values, kind="stable")
    starts = np.searchsorted(values[order], np.arange(n + 1))
    return order, starts


def _expand(keys: np.ndarray, order: np.ndarray, starts: np.ndarray):
    """For each entry with key k, one row per member of k: (entry position, member)."""
    counts = starts[keys + 1] - starts[keys]
    entry = np.repeat(np.arange(len(keys)), counts)
    first = np.repeat(starts[keys] - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
    members = order[np.arange(int(counts.sum())) + first]
    return entry, members


def _snap_cost(distance_m: np.ndarray, *, weight: str, speed_kmh: Mapping[str, float]) -> np.ndarray:
    # The walk between a point and its nearest node is on foot whatever the mode.
    return distance_m if weight == "length" else distance_m / _metres_per_minute(speed_kmh["walk"])


def network_costs(network: RoadNetwork, origins, destinations, *, max_cost: float,
                  weight: str = "time", mode: str = "walk",
                  speed_kmh: Mapping[str, float] = DEFAULT_SPEED_KMH) -> CostTable:
    """Costs from each origin to each destination within ``max_cost`` on the road network.

    Origins and destinations are snapped to their nearest nodes once; the snap distances are
    walked.  Shortest paths run from the destinations on the reversed graph (so one-way streets
    count in the direction of travel when driving), tiled and bounded by ``max_cost``.

    Parameters
    ----------
    network
        The road network (same CRS as the points).
    origins, destinations
        ``(n, 2)`` metric coordinates.
    max_cost
        Metres (``weight='length'``) or minutes (``weight='time'``).
    mode
        ``walk`` (ignores one-way rules) or ``drive``.
    """
    origin_xy, destination_xy = _as_xy(origins), _as_xy(destinations)
    origin_node, origin_snap = network.snap(origin_xy) if len(origin_xy) else (np.zeros(0, int), np.zeros(0))
    destination_node, destination_snap = (network.snap(destination_xy) if len(destination_xy)
                                          else (np.zeros(0, int), np.zeros(0)))
    origin_extra = _snap_cost(origin_snap, weight=weight, speed_kmh=speed_kmh)
    destination_extra = _snap_cost(destination_snap, weight=weight, speed_kmh=speed_kmh)
    unit = "m" if weight == "length" else "min"
    if len(origin_xy) == 0 or len(destination_xy) == 0:
        return CostTable.from_arrays([], [], [], n_origins=len(origin_xy),
                                     n_destinations=len(destination_xy), unit=unit)
    # One search per distinct node; destinations sharing a node share it.
    source_nodes, source_of_destination = np.unique(destination_node, return_inverse=True)
    cheapest_snap = np.full(len(source_nodes), np.inf)
    np.minimum.at(cheapest_snap, source_of_destination, destination_extra)
    graph = network.graph(weight=weight, mode=mode, speed_kmh=speed_kmh, reverse=True)
    source, node, cost = bounded_shortest_paths(
        graph, source_nodes, limit=max_cost - cheapest_snap, x=network.x, y=network.y,
        reach_ratio=network.reach_ratio(weight=weight, mode=mode, speed_kmh=speed_kmh))
    # Nodes → origins snapped there.
    order, starts = _group_by(origin_node, network.n_nodes)
    entry, origin = _expand(node, order, starts)
    source, cost = source[entry], cost[entry] + origin_extra[origin]
    keep = cost <= max_cost - cheapest_snap[source]
    source, origin, cost = source[keep], origin[keep], cost[keep]
    # Sources → destinations at that node.
    order, starts = _group_by(source_of_destination, len(source_nodes))
    entry, destination = _expand(source, order, starts)
    origin, cost = origin[entry], cost[entry] + destination_extra[destination]
    keep = cost <= max_cost
    return CostTable.from_arrays(origin[keep], destination[keep], cost[keep],
                                 n_origins=len(origin_xy), n_destinations=len(destination_xy),
                                 unit=unit)


def network_nearest_cost(network: RoadNetwork, origins, destinations, *, max_cost: float = np.inf,
                         weight: str = "time", mode: str = "walk",
                         speed_kmh: Mapping[str, float] = DEFAULT_SPEED_KMH) -> np.ndarray:
    """Each origin's cost to its nearest destination on the network (``inf`` beyond ``max_cost``).

    One Dijkstra run from a virtual source joined to every destination's node by that
    destination's snap cost, on the reversed graph: the cheapest way to any destination for every
    node at once.
    """
    origin_xy, destination_xy = _as_xy(origins), _as_xy(destinations)
    result = np.full(len(origin_xy), np.inf)
    if len(origin_xy) == 0 or len(destination_xy) == 0:
        return result
    origin_node, origin_snap = network.snap(origin_xy)
    destination_node, destination_snap = network.snap(destination_xy)
    graph = network.graph(weight=weight, mode=mode, speed_kmh=speed_kmh, reverse=True).tocoo()
    n = network.n_nodes
    extra = _snap_cost(destination_snap, weight=weight, speed_kmh=speed_kmh)
    # Explicit zero costs stay edges in csgraph's sparse input.
    rows = np.concatenate([graph.row, np.full(len(destination_node), n)])
    columns = np.concatenate([graph.col, destination_node])
    data = np.concatenate([graph.data, extra])
    joined = _csr_min(rows.astype(np.int64), columns.astype(np.int64), data, n + 1)
    distance = dijkstra(joined, directed=True, indices=n, limit=float(max_cost))
    result = distance[origin_node] + _snap_cost(origin_snap, weight=weight, speed_kmh=speed_kmh)
    return np.where(result <= max_cost, result, np.inf)
