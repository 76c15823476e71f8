"""Display outlines simplified edge by edge, so that neighbours still meet.

Simplifying each polygon on its own (``shapely.simplify`` per unit) moves a shared edge
differently on either side: thin gaps and overlaps open between neighbouring streets at every
zoom.  Here the outlines are cut into *arcs* (runs of edge between the points where three or more
units meet), each arc is simplified once, and the units are rebuilt from the simplified arcs: two
neighbours share the very same simplified edge (the idea of TopoJSON and mapshaper).
"""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["shared_arcs", "simplify_shared_edges"]


def simplify_shared_edges(geometries, tolerance: float) -> np.ndarray:
    """Simplify polygons that tile a region without opening gaps or overlaps between them.

    Parameters
    ----------
    geometries
        Polygons or multipolygons that meet edge to edge (vertices shared where they meet, as in
        a noded partition), in a projected CRS.
    tolerance
        Douglas-Peucker tolerance in the CRS's units (metres).

    Returns
    -------
    numpy.ndarray
        One geometry per input, in the same order.  Every input keeps a geometry: a unit whose
        simplified faces all vanished (a sliver under the tolerance) keeps its own outline
        simplified alone.
    """
    geometries = np.asarray(geometries, dtype=object)
    if len(geometries) == 0:
        return geometries
    # Each shared edge once, cut into arcs at the junctions.  Douglas-Peucker keeps an arc's two
    # ends, so junctions stay put and both neighbours get the same simplified edge.
    arcs = shared_arcs(geometries)
    simple = shapely.simplify(arcs, tolerance, preserve_topology=True)
    # Two simplified arcs may now cross: node them again before cutting faces.
    noded = shapely.union_all(simple)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    owner = _owners(faces, geometries)
    out = np.empty(len(geometries), dtype=object)
    for position in range(len(geometries)):
        mine = faces[owner == position]
        if len(mine):
            out[position] = shapely.union_all(mine) if len(mine) > 1 else mine[0]
        else:
            out[position] = shapely.simplify(
                geometries[position], tolerance, preserve_topology=True
            )
    return out


def shared_arcs(geometries) -> np.ndarray:
    """The boundaries of noded polygons as arcs: every segment once, joined into lines that run
    from junction to junction (a vertex where other than two segments meet); a ring with no
    junction is one closed arc.

    Vectorised segment deduplication plus one walk over the segments (GEOS ``union_all`` and
    ``line_merge`` take ~6 s on Beijing's 331 streets; this takes a fraction of a second).
    """
    rings = shapely.get_rings(shapely.get_parts(np.asarray(geometries, dtype=object)))
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[1:] == ring[:-1]
    start, end = coords[:-1][same], coords[1:][same]
    points, inverse = _unique_points(np.vstack([start, end]))
    u, v = inverse[: len(start)], inverse[len(start) :]
    keep = u != v
    u, v = np.minimum(u[keep], v[keep]), np.maximum(u[keep], v[keep])
    n_points = len(points)
    keys = np.unique(u.astype(np.int64) * n_points + v)
    edges = np.column_stack([keys // n_points, keys % n_points])
    if len(edges) == 0:
        return np.empty(0, dtype=object)
    ends = np.concatenate([edges[:, 0], edges[:, 1]])
    incident = np.concatenate([np.arange(len(edges)), np.arange(len(edges))])
    order = np.argsort(ends, kind="stable")
    ends, incident = ends[order], incident[order]
    offsets = np.searchsorted(ends, np.arange(n_points + 1))
    degree = np.diff(offsets)
    # The walk is a plain Python loop over lists (numpy scalars would make it ten times slower).
    edge_list, incident_list = edges.tolist(), incident.tolist()
    offset_list, degree_list = offsets.tolist(), degree.tolist()
    used = [False] * len(edge_list)
    arcs = []

    def walk(vertex: int, edge: int) -> list[int]:
        path = [vertex]
        while True:
            used[edge] = True
            a, b = edge_list[edge]
            vertex = b if a == vertex else a
            path.append(vertex)
            if degree_list[vertex] != 2:
                return path
            first, second = incident_list[offset_list[vertex] : offset_list[vertex] + 2]
            edge = second if first == edge else first
            if used[edge]:
                return path

    for vertex in np.flatnonzero(degree != 2).tolist():
        for edge in incident_list[offset_list[vertex] : offset_list[vertex + 1]]:
            if not used[edge]:
                arcs.append(walk(vertex, edge))
    for edge in range(len(edge_list)):  # closed rings without a junction
        if not used[edge]:
            arcs.append(walk(edge_list[edge][0], edge))
    if not arcs:
        return np.empty(0, dtype=object)
    lengths = np.array([len(path) for path in arcs])
    flat = np.concatenate(arcs)
    return shapely.linestrings(points[flat], indices=np.repeat(np.arange(len(arcs)), lengths))


def _unique_points(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of an (n, 2) float array and each row's index among them (exact match;
    a lexsort on the two columns is far faster than ``np.unique(axis=0)``)."""
    order = np.lexsort((xy[:, 1], xy[:, 0]))
    ordered = xy[order]
    new = np.ones(len(xy), dtype=bool)
    new[1:] = np.any(ordered[1:] != ordered[:-1], axis=1)
    group = np.cumsum(new) - 1
    inverse = np.empty(len(xy), dtype=np.int64)
    inverse[order] = group
    return ordered[new], inverse


def _owners(faces: np.ndarray, geometries: np.ndarray) -> np.ndarray:
    """The input each face belongs to (the one holding a point inside the face; else the one it
    overlaps most), -1 for faces outside every input (holes of the region)."""
    owner = np.full(len(faces), -1)
    if len(faces) == 0:
        return owner
    tree = shapely.STRtree(geometries)
    probe = shapely.point_on_surface(faces)
    face_idx, unit_idx = tree.query(probe, predicate="within")
    owner[face_idx] = unit_idx
    rest = np.flatnonzero(owner < 0)
    if len(rest):
        face_idx, unit_idx = tree.query(faces[rest], predicate="intersects")
        if len(face_idx):
            overlap = shapely.area(
                shapely.intersection(faces[rest][face_idx], geometries[unit_idx])
            )
            order = np.lexsort((-overlap, face_idx))
            face_idx, unit_idx, overlap = face_idx[order], unit_idx[order], overlap[order]
            first = np.r_[True, face_idx[1:] != face_idx[:-1]]
            keep = first & (overlap > 0.5 * shapely.area(faces[rest][face_idx]))
            owner[rest[face_idx[keep]]] = unit_idx[keep]
    return owner
