"""Real street outlines: the mosstool street/township polygons fitted to the district outlines.

``raw/facilities/mosstool_beijing_streets/beijing.shp`` (repository tsinghua-fib-lab/mosstool, MIT
per its package metadata; WGS84; about the 2015 division) holds the same 331 units as
``facts/streets_2020.csv``.  They are matched on district + street name (八里庄街道 exists in both
海淀区 and 朝阳区; the file still calls 密云 and 延庆 counties, 县), then fitted to our district
outlines, which come from another source (cnmaps, converted from GCJ-02) and so disagree with the
mosstool district lines by a band of metres to tens of metres:

1. all street edges and all district edges are noded together on the 1e-6 degree grid and the
   linework is cut into faces; every face lies inside exactly one district (or outside the city,
   and is dropped);
2. a face goes to the street *of its own district* that covers most of it; a face no street of its
   district covers (a gap between the two sources' lines) goes to the street of its district it
   shares the longest edge with, repeated until every face has a street;
3. a small detached piece that the clipping made (not a part the street already had: 丰台's
   exclaves stay) goes to the neighbour of the same district with the longest shared edge.

Streets therefore tile their district exactly (no gaps, no overlaps) with identical shared edges.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_coverage import io
from geo_coverage.errors import DataError

from .common import GRID_SIZE, SharedPaths
from .partition import give_part_to_neighbour

OUTLINE_QUALITY = "official (c. 2015 division)"


def read_mosstool_streets(shared: SharedPaths, districts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The mosstool polygons with ``district_code`` and ``street_name`` (WGS84)."""
    path = shared.street_outlines
    frame = io.read_vector(path)
    if frame.crs is None or frame.crs.to_epsg() != 4326:
        raise DataError(
            f"Expected WGS84 street outlines, found {frame.crs}.",
            file=path,
            fix="Use the mosstool beijing.shp with its .prj (GCS_WGS_1984).",
        )
    # The file predates 密云/延庆 becoming districts (县 → 区, 2015).
    district_names = frame["县"].str.replace("县$", "区", regex=True)
    codes = district_names.map(dict(zip(districts["name"], districts["code"], strict=True)))
    if codes.isna().any():
        unknown = sorted(set(district_names[codes.isna()]))
        raise DataError(
            f"Districts {unknown} of the street outlines are not among the 16 districts.",
            file=path,
            column="县",
        )
    return gpd.GeoDataFrame(
        {"district_code": codes.to_numpy(), "street_name": frame["乡"].to_numpy()},
        geometry=frame.geometry.values,
        crs=frame.crs,
    )


def match_outlines(table: pd.DataFrame, outlines: gpd.GeoDataFrame, *, source=None) -> np.ndarray:
    """The outline of each row of ``table`` (``district_code``, ``street_name``), one to one."""
    keyed = outlines.assign(position=np.arange(len(outlines)))
    if keyed.duplicated(["district_code", "street_name"]).any():
        raise DataError("Two street outlines share a district and name.", file=source, column="乡")
    merged = table[["district_code", "street_name"]].merge(
        keyed, how="left", on=["district_code", "street_name"]
    )
    missing = merged["position"].isna()
    if missing.any():
        names = (
            merged.loc[missing, "district_code"] + " " + merged.loc[missing, "street_name"]
        ).tolist()
        raise DataError(
            f"No street outline for {names}.",
            file=source,
            column="乡",
            fix="The outlines must hold the units of facts/streets_2020.csv (same district, name).",
        )
    if len(outlines) != len(table):
        raise DataError(f"{len(outlines)} street outlines for {len(table)} streets.", file=source)
    return outlines.geometry.values[merged["position"].astype(np.int64).to_numpy()]


def _faces_by_district(pieces: np.ndarray, district_geometries: np.ndarray, grid_size: float):
    """Faces of the noded street and district edges, and the district (position) holding each."""
    linework = shapely.union_all(
        np.concatenate([shapely.boundary(pieces), shapely.boundary(district_geometries)]),
        grid_size=grid_size,
    )
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(linework)))
    probe = shapely.point_on_surface(faces)
    face_idx, district_idx = shapely.STRtree(district_geometries).query(probe, predicate="within")
    face_district = np.full(len(faces), -1)
    face_district[face_idx] = district_idx
    inside = face_district >= 0
    return faces[inside], face_district[inside]


def tile_districts(
    pieces: np.ndarray,
    piece_district: np.ndarray,
    district_geometries: np.ndarray,
    *,
    grid_size: float = GRID_SIZE,
) -> np.ndarray:
    """Fit street polygons to district outlines so that the streets tile each district exactly.

    Parameters
    ----------
    pieces
        One street polygon per street (WGS84), from a source whose district lines differ a little
        from ``district_geometries``.
    piece_district
        Position in ``district_geometries`` of each street's district.
    district_geometries
        The district outlines the streets must tile (they tile the city themselves).
    grid_size
        The precision grid the output vertices lie on.

    Returns
    -------
    numpy.ndarray
        One (Multi)Polygon per street, each inside its district; the streets of a district have
        that district as their union and never overlap.
    """
    pieces = np.asarray(pieces, dtype=object)
    piece_district = np.asarray(piece_district)
    faces, face_district = _faces_by_district(
        pieces, np.asarray(district_geometries, dtype=object), grid_size
    )
    owner = np.full(len(faces), -1)
    face_idx, piece_idx = shapely.STRtree(pieces).query(faces, predicate="intersects")
    same = piece_district[piece_idx] == face_district[face_idx]
    face_idx, piece_idx = face_idx[same], piece_idx[same]
    overlap = shapely.area(
        shapely.intersection(faces[face_idx], pieces[piece_idx], grid_size=grid_size)
    )
    covered = overlap > 0.5 * shapely.area(faces[face_idx])
    # A face inside a street of its district belongs to it (faces never straddle an edge); where
    # the source overlaps itself, the face goes to the first of the streets covering it.
    face_idx, piece_idx = face_idx[covered], piece_idx[covered]
    order = np.lexsort((piece_idx, face_idx))
    face_idx, piece_idx = face_idx[order], piece_idx[order]
    first = np.r_[True, face_idx[1:] != face_idx[:-1]]
    owner[face_idx[first]] = piece_idx[first]
    _assign_by_longest_edge(faces, face_district, owner, piece_district, grid_size)
    out = np.empty(len(pieces), dtype=object)
    for position in range(len(pieces)):
        mine = faces[owner == position]
        out[position] = (
            shapely.union_all(mine, grid_size=grid_size) if len(mine) else shapely.Polygon()
        )
    return out


def _assign_by_longest_edge(
    faces: np.ndarray,
    face_district: np.ndarray,
    owner: np.ndarray,
    piece_district: np.ndarray,
    grid_size: float,
) -> None:
    """Give each face without a street to the street of its district it shares the longest edge
    with, in rounds (a gap face may touch only other gap faces at first).  Edits ``owner``."""
    for _ in range(len(faces)):
        open_faces = np.flatnonzero(owner < 0)
        if len(open_faces) == 0:
            return
        held = np.flatnonzero(owner >= 0)
        left, right = shapely.STRtree(faces[held]).query(faces[open_faces], predicate="touches")
        right = held[right]
        left = open_faces[left]
        same = face_district[left] == face_district[right]
        left, right = left[same], right[same]
        shared = shapely.length(
            shapely.intersection(
                shapely.boundary(faces[left]), shapely.boundary(faces[right]), grid_size=grid_size
            )
        )
        keep = shared > 0
        left, right, shared = left[keep], right[keep], shared[keep]
        if len(left) == 0:
            break
        # Sum the shared edge per (face, street), then take the street with the longest edge.
        pairs = pd.DataFrame({"face": left, "street": owner[right], "shared": shared})
        best = pairs.groupby(["face", "street"], sort=True)["shared"].sum().reset_index()
        best = best.sort_values(
            ["face", "shared", "street"], ascending=[True, False, True], kind="stable"
        )
        best = best.drop_duplicates("face")
        owner[best["face"].to_numpy()] = best["street"].to_numpy()
    if (owner < 0).any():
        raise DataError(
            f"{int((owner < 0).sum())} pieces of district land touch no street of their district.",
            fix="Check that every district has street outlines.",
        )


def merge_clipping_fragments(
    geometries: np.ndarray,
    sources: np.ndarray,
    parents: np.ndarray,
    *,
    max_share: float = 0.1,
    grid_size: float = GRID_SIZE,
) -> np.ndarray:
    """Give the small detached pieces that fitting to the districts made to a neighbour.

    A part of a street is such a fragment when it is under ``max_share`` of the street and under
    half of the source part it came from (so a real exclave, a part the source street already had,
    stays).  It goes to the street of the same district that shares the longest edge with it.
    """
    geometries = np.array(geometries, dtype=object)
    tree = shapely.STRtree(geometries)
    for index in np.flatnonzero(shapely.get_num_geometries(geometries) > 1):
        parts = shapely.get_parts(geometries[index])
        areas = shapely.area(parts)
        source_parts = shapely.get_parts(sources[index])
        source_areas = shapely.area(source_parts)
        for position in np.argsort(-areas):
            part = parts[position]
            overlap = shapely.area(shapely.intersection(part, source_parts))
            # A part made only of gap land has no source part: it is a fragment whatever its size.
            origin = source_areas[int(np.argmax(overlap))] if overlap.max() > 0 else np.inf
            if areas[position] >= max_share * areas.sum() or areas[position] >= 0.5 * origin:
                continue
            give_part_to_neighbour(geometries, tree, index, part, parents, grid_size=grid_size)
    return geometries


def official_street_outlines(
    shared: SharedPaths, table: pd.DataFrame, districts: gpd.GeoDataFrame
) -> np.ndarray:
    """The mosstool outline of each street of ``table``, fitted so streets tile their districts.

    Parameters
    ----------
    shared
        The inputs folder (for the mosstool Shapefile).
    table
        One row per street: ``district_code`` and ``street_name``.
    districts
        The district outlines (``code``, geometry, WGS84 on the grid).

    Returns
    -------
    numpy.ndarray
        One (Multi)Polygon per row of ``table`` on the 1e-6 degree grid.
    """
    sources = match_outlines(
        table, read_mosstool_streets(shared, districts), source=shared.street_outlines
    )
    position = {code: number for number, code in enumerate(districts["code"])}
    parents = table["district_code"].to_numpy()
    piece_district = np.array([position[code] for code in parents])
    geometry = tile_districts(sources, piece_district, districts.geometry.values)
    return merge_clipping_fragments(geometry, sources, parents)
