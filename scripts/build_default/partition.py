"""Exact partitions on the coordinate grid: near-tilings noded so that neighbours share edges."""

from __future__ import annotations

import numpy as np
import shapely

from .common import GRID_SIZE


def snap_partition(pieces: np.ndarray, *, grid_size: float = GRID_SIZE, region=None) -> np.ndarray:
    """Rebuild nearly-tiling polygons as an exact partition with vertices on a grid.

    All edges are noded together on the grid (one fixed-precision union), the linework is
    polygonised into faces, and each face goes to the piece it overlaps most (thin slivers that
    overlap nothing go to the piece they share the longest edge with).  Neighbouring outputs
    therefore share identical edges: no gaps, no overlaps.

    Parameters
    ----------
    pieces
        Array of polygons that tile a region up to numerical noise.
    grid_size
        The precision grid (degrees for WGS84 output).
    region
        Optional polygon the result must cover exactly; its boundary joins the linework and faces
        outside it are dropped.

    Returns
    -------
    numpy.ndarray
        One (Multi)Polygon per piece, in the same order.
    """
    pieces = np.asarray(pieces, dtype=object)
    boundaries = list(shapely.boundary(pieces))
    if region is not None:
        boundaries.append(shapely.boundary(region))
    linework = shapely.union_all(np.array(boundaries, dtype=object), grid_size=grid_size)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(linework)))
    face_area = shapely.area(faces)
    if region is not None:
        inside = shapely.contains_properly(region, shapely.point_on_surface(faces)) | (
            shapely.area(shapely.intersection(faces, region)) > 0.5 * face_area
        )
        faces, face_area = faces[inside], face_area[inside]
    tree = shapely.STRtree(pieces)
    face_idx, piece_idx = tree.query(faces, predicate="intersects")
    overlap = shapely.area(shapely.intersection(faces[face_idx], pieces[piece_idx]))
    shared = shapely.length(
        shapely.intersection(shapely.boundary(faces[face_idx]), pieces[piece_idx])
    )
    # Sort so the best candidate for each face comes first: most overlap, then longest shared edge.
    order = np.lexsort((-shared, -overlap, face_idx))
    face_idx, piece_idx, overlap = face_idx[order], piece_idx[order], overlap[order]
    first = np.ones(len(face_idx), dtype=bool)
    first[1:] = face_idx[1:] != face_idx[:-1]
    face_idx, piece_idx, overlap = face_idx[first], piece_idx[first], overlap[first]
    if region is None:
        # Without a region, a face that overlaps no piece and is not a sliver is a true hole.
        total = face_area.sum()
        keep = (overlap > 0.5 * face_area[face_idx]) | (face_area[face_idx] < 1e-6 * total)
        face_idx, piece_idx = face_idx[keep], piece_idx[keep]
    out = np.empty(len(pieces), dtype=object)
    for position in range(len(pieces)):
        mine = faces[face_idx[piece_idx == position]]
        out[position] = (
            shapely.union_all(mine, grid_size=grid_size) if len(mine) else shapely.Polygon()
        )
    return out


def merge_fragments(
    geometries: np.ndarray, parents: np.ndarray, sites: np.ndarray, *, max_share: float = 0.1
) -> np.ndarray:
    """Give stray pieces of a street to the neighbour they share the longest edge with.

    Clipping a power cell to a concave district can leave a street with small detached pieces
    away from its representative point.  Each such piece (below ``max_share`` of the street's
    area, and not the piece holding the point) goes to the street of the same district that shares
    the most boundary with it; pieces with no such neighbour stay.  Pieces move whole between
    streets whose edges are identical on the grid, so the tiling stays exact.
    """
    geometries = np.array(geometries, dtype=object)
    tree = shapely.STRtree(geometries)
    for index in np.flatnonzero(shapely.get_num_geometries(geometries) > 1):
        parts = shapely.get_parts(geometries[index])
        areas = shapely.area(parts)
        holds_site = shapely.contains(parts, sites[index])
        keep = int(np.argmax(holds_site)) if holds_site.any() else int(np.argmax(areas))
        for position in np.argsort(-areas):
            part = parts[position]
            if position == keep or areas[position] >= max_share * areas.sum():
                continue
            give_part_to_neighbour(geometries, tree, index, part, parents)
    return geometries


def give_part_to_neighbour(
    geometries: np.ndarray,
    tree: shapely.STRtree,
    index: int,
    part,
    parents: np.ndarray,
    *,
    grid_size: float = GRID_SIZE,
) -> bool:
    """Move ``part`` of ``geometries[index]`` to the unit of the same parent that shares the
    longest edge with it (in place); False when no such neighbour touches it.

    Parts move whole between units whose edges are identical on the grid, so a tiling stays exact.
    """
    neighbours = tree.query(part, predicate="intersects")
    neighbours = neighbours[(neighbours != index) & (parents[neighbours] == parents[index])]
    if len(neighbours) == 0:
        return False
    shared = shapely.length(shapely.intersection(shapely.boundary(part), geometries[neighbours]))
    if shared.max() <= 0:
        return False
    target = neighbours[int(np.argmax(shared))]
    geometries[target] = shapely.union(geometries[target], part, grid_size=grid_size)
    geometries[index] = shapely.difference(geometries[index], part, grid_size=grid_size)
    return True
