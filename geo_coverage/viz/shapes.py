"""Units and facilities made light for display: simplified outlines as GeoJSON, facility rows.

Outlines are simplified in metres (topology preserved) before reprojecting, coordinates rounded
to about a metre and shifted to the base map's datum.  Build them once per level and datum; a map
only adds what depends on the indicator.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..dataset import Dataset, source_class
from ..datum import transform_geometry
from ..plan import Plan
from .legend import LABELS, SOURCE_COLOURS
from .topology import simplify_shared_edges

__all__ = ["unit_shapes", "facility_rows", "DEFAULT_TOLERANCE_M", "COORDINATE_DIGITS"]

# Display simplification: metres in the dataset's CRS (well under a street's width at city zoom).
DEFAULT_TOLERANCE_M = 30.0
COORDINATE_DIGITS = 5  # ~1 m at Beijing's latitude


def unit_shapes(dataset: Dataset, level: str, *, datum: str = "wgs84",
                tolerance_m: float = DEFAULT_TOLERANCE_M) -> dict:
    """The outlines of one level as a light GeoJSON FeatureCollection for display.

    Simplified in metres edge by edge (:func:`.topology.simplify_shared_edges`) before
    reprojecting, coordinates rounded to
    ~1 m, and shifted to ``datum`` (e.g. ``gcj02`` for Amap tiles).  Build once per level and
    datum; :func:`coverage_map` only adds the properties that depend on the indicator.

    Parameters
    ----------
    dataset, level
        The units to draw.
    datum
        The base map's datum (``wgs84``, ``gcj02``…).
    tolerance_m
        Simplification tolerance in metres.

    Returns
    -------
    dict
        A GeoJSON FeatureCollection (feature ids are unit codes) with its ``bbox``.
    """
    units = dataset.units_at(level)
    # Edge by edge, so neighbouring units keep meeting exactly (no slivers between them).
    geometry = simplify_shared_edges(units.geometry.values, tolerance_m)
    frame = gpd.GeoDataFrame(
        {"code": units["code"].astype(str).to_numpy(),
         "name": units["name"].astype(str).to_numpy(),
         "name_en": units.get("name_en", pd.Series("", index=units.index)).fillna("").astype(str)
         .to_numpy(),
         "parent_code": units["parent_code"].astype(str).to_numpy(),
         "outline_quality": units.get("outline_quality", pd.Series("", index=units.index))
         .fillna("").astype(str).to_numpy()},
        geometry=geometry, crs=units.crs).to_crs(4326)
    geoms = frame.geometry.values
    if datum != "wgs84":
        geoms = transform_geometry(geoms, source="wgs84", target=datum)
    frame = frame.set_geometry(shapely.transform(geoms, lambda xy: np.round(xy, COORDINATE_DIGITS)))
    collection = json.loads(frame.to_json(drop_id=True))
    for feature, code in zip(collection["features"], frame["code"]):
        feature["id"] = code
    west, south, east, north = frame.total_bounds
    collection["bbox"] = [float(west), float(south), float(east), float(north)]
    return collection


def _facility_frame(dataset: Dataset, kind: str, *, datum: str) -> gpd.GeoDataFrame | None:
    frame = dataset.layer(kind)
    if frame is None or frame.empty:
        return None
    frame = frame.to_crs(4326)
    if datum != "wgs84":
        frame = frame.set_geometry(transform_geometry(frame.geometry.values, source="wgs84",
                                                      target=datum))
    return frame


def facility_rows(dataset: Dataset, plan: Plan, kind: str, *, language: str = "zh",
                  datum: str = "wgs84") -> dict:
    """The facilities of ``kind`` compactly, for markers whose popups show attributes and source.

    Returns
    -------
    dict
        ``rows``: ``[lat, lon, source_index, name, id, *attribute values, status,
        location_quality]`` per facility; ``labels``: the popup's row labels; ``sources``:
        ``[class label, colour, source text]`` per distinct ``source`` (rows point into it, so
        a long source note is sent once, not once per facility).
    """
    frame = _facility_frame(dataset, kind, datum=datum)
    if frame is None:
        return {"rows": [], "labels": [], "sources": []}
    text = LABELS[language]
    kind_spec = plan.kinds.get(kind)
    attributes = [a for a in (kind_spec.attributes if kind_spec else {}) if a in frame]
    source_codes, source_texts = pd.factorize(frame["source"].astype(str))
    sources = []
    for source in source_texts:
        cls = source_class(source)
        sources.append([text.get(cls, cls), SOURCE_COLOURS.get(cls, SOURCE_COLOURS["imported"]),
                        source])
    columns = [np.round(frame.geometry.y.to_numpy(), COORDINATE_DIGITS).tolist(),
               np.round(frame.geometry.x.to_numpy(), COORDINATE_DIGITS).tolist(),
               source_codes.tolist(), frame["name"].astype(str).tolist(),
               frame["id"].astype(str).tolist()]
    for attribute in attributes:
        values = frame[attribute]
        columns.append(values.astype(object).where(values.notna(), "—").astype(str).tolist())
    columns.append(frame["status"].astype(str).map(lambda s: text.get(s, s)).tolist())
    columns.append(frame["location_quality"].astype(str).tolist())
    labels = ["ID", *attributes, text["status_label"], text["location_quality"], text["source"]]
    return {"rows": [list(row) for row in zip(*columns)], "labels": labels, "sources": sources}
