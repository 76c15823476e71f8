"""Cost-bounded shortest paths on a road network, tiled so a short catchment never pays for a
whole city, and the origin–destination costs built from them.

``scipy.sparse.csgraph.dijkstra(limit=…, indices=…)`` runs from many sources at once on small
spatial tiles of the graph; points are snapped to their nearest node once and the snap distance
is walked.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from ..plan import DEFAULT_SPEED_KMH
from .costs import CostTable, _as_xy, _metres_per_minute
from .network import RoadNetwork, _csr_min

__all__ = ["bounded_shortest_paths", "network_costs", "network_nearest_cost"]

# Dense result rows × columns held at once by one dijkstra call (float64: 32 MB); larger blocks
# only add page faults to the inf-filling csgraph does first.
_MAX_DENSE_CELLS = 4_000_000


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

    Parameters
    ----------
    network
        The road network (same CRS as the points).
    origins, destinations
        ``(n, 2)`` metric coordinates.
    max_cost, weight, mode, speed_kmh
        As for :func:`network_costs`.

    Returns
    -------
    numpy.ndarray
        One cost per origin.
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
