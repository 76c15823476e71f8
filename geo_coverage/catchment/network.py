"""Road networks as compact arrays (:class:`RoadNetwork`) loaded from graphs and files.

A network is held in a metric CRS as CSR-ready edge arrays; the adjacency for a mode (walking
ignores one-way rules) and the reach bound of tiled shortest paths are memoised with it.
Loaders: osmnx / networkx graphs, OSM XML or GraphML files, node and edge CSV files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import CRS, Transformer
from scipy import sparse
from scipy.spatial import cKDTree

from .. import io
from .._validate import first_true, known_positions, spreadsheet_row
from ..errors import DataError
from ..plan import DEFAULT_SPEED_KMH
from .costs import WEIGHTS, _as_xy, _metres_per_minute

__all__ = ["RoadNetwork", "network_from_graph", "network_from_file", "network_from_csv"]


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
        """How many nodes."""
        return len(self.x)

    @property
    def n_edges(self) -> int:
        """How many directed edges."""
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


def _utm_crs(lon: np.ndarray, lat: np.ndarray) -> CRS:
    lon0, lat0 = float(np.nanmean(lon)), float(np.nanmean(lat))
    zone = int((lon0 + 180.0) // 6.0) + 1
    return CRS.from_epsg((32600 if lat0 >= 0 else 32700) + zone)


def _project(lon, lat, source_crs, crs):
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
    """Load OSM XML (``.osm``/``.xml``) or osmnx GraphML (``.graphml``) into a :class:`RoadNetwork`.

    Parameters
    ----------
    path
        The file.
    crs
        Metric CRS to hold the network in (default: the UTM zone of the graph).

    Returns
    -------
    RoadNetwork
    """
    return network_from_graph(io.read_road_graph(path), crs=crs, source=str(path))


def network_from_csv(nodes_path: str | Path, edges_path: str | Path, *, crs=None) -> RoadNetwork:
    """Load a network from two CSV files.

    ``nodes``: ``id, lon, lat`` (WGS84).  ``edges``: ``u, v`` (node ids) and optionally ``length``
    (metres; default the straight line), ``travel_time`` (seconds) and ``oneway`` (true/false;
    default false: the edge is added in both directions).

    Parameters
    ----------
    nodes_path, edges_path
        The two files (text; ids keep leading zeros).
    crs
        Metric CRS to hold the network in (default: the UTM zone of the nodes).

    Returns
    -------
    RoadNetwork

    Raises
    ------
    DataError
        A missing column, a duplicate or unknown node id, or a value that is not a number, naming
        the file, row and column.
    """
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
    repeated = first_true(pd.Series(ids).duplicated().to_numpy())
    if repeated is not None:
        raise DataError(f"Duplicate node id '{ids[repeated]}'.", file=nodes_path, row=spreadsheet_row(repeated),
                        column="id")
    position = pd.Index(ids)
    tail, head = (known_positions(edges[column].astype(str), position, file=edges_path, column=column,
                                  message="Unknown node id '{value}'.",
                                  fix="Every edge end must be a node id of the node file.")
                  for column in ("u", "v"))
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
    wrong = first_true(bad)
    if wrong is not None:
        raise DataError(f"'{frame[column].iloc[wrong]}' is not a number.", file=origin, row=spreadsheet_row(wrong),
                        column=column, fix="Use plain numbers (a dot for decimals).")
    if default is not None:
        values = np.where(blank, np.asarray(default, dtype=float), values)
    return values

