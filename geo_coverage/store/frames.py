"""Frames to rows and back, exactly: a saved layer loads as the same columns, dtypes, values,
order and geometries (WKB, so coordinates are bit-for-bit those saved).

Each row's attributes go into one JSON ``properties`` value; each part remembers its columns and
their dtypes, so integers stay ``int32``, flags ``bool``, text ``str`` and missing values missing.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
from collections.abc import Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..errors import DataError

__all__ = ["Part", "part_from_frame", "frame_from_part", "json_dumps"]

GEOMETRY_DTYPE = "geometry"


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (pd.Timestamp, _dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot be stored")


def json_dumps(value) -> str:
    """JSON as the store writes it (both backends): UTF-8 text, no NaN (missing is null)."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, default=_json_default)


class Part:
    """One frame ready for the store: its column list, its rows' properties, WKB and bounds."""

    __slots__ = (
        "name",
        "columns",
        "geometry_name",
        "crs",
        "records",
        "wkb",
        "bounds",
        "codes",
        "names",
    )

    def __init__(self, name, columns, geometry_name, crs, records, wkb, bounds, codes, names):
        self.name = name
        self.columns = columns
        self.geometry_name = geometry_name
        self.crs = crs
        self.records = records
        self.wkb = wkb
        self.bounds = bounds
        self.codes = codes
        self.names = names

    def digest(self) -> str:
        """SHA-256 of everything a load gives back (columns, values, geometry bytes)."""
        digest = hashlib.sha256()
        digest.update(json_dumps([self.name, self.columns, self.geometry_name, self.crs]).encode())
        digest.update(json_dumps(self.records).encode())
        for wkb in self.wkb:
            digest.update(b"\x00" if wkb is None else wkb)
        return digest.hexdigest()


def _clean(value):
    if value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        if math.isnan(value):
            return None
        raise ValueError("infinite")
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def part_from_frame(
    name: str, frame: gpd.GeoDataFrame, *, key: str, label: str, origin=None
) -> Part:
    """Serialise ``frame``; ``key`` and ``label`` name the columns copied into the table's own
    ``code``/``facility_id`` and ``name`` columns (for queries and QGIS)."""
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame:
        raise DataError(
            "The layer has no geometry column.",
            file=origin,
            fix="Give a GeoJSON / GeoPackage layer with geometries.",
        )
    geometry_name = frame.geometry.name
    columns = [
        [str(column), GEOMETRY_DTYPE if column == geometry_name else str(frame[column].dtype)]
        for column in frame.columns
    ]
    if len({c for c, _ in columns}) != len(columns):
        raise DataError(
            "The layer has two columns of the same name.", file=origin, fix="Rename one of them."
        )
    attributes = frame.drop(columns=geometry_name)
    try:
        records = [
            {k: _clean(v) for k, v in row.items()} for row in attributes.to_dict(orient="records")
        ]
    except ValueError:
        raise DataError(
            "The layer holds an infinite number, which cannot be stored.",
            file=origin,
            fix="Replace it with a finite value or leave the cell empty.",
        ) from None
    geoms = frame.geometry.values
    wkb = list(shapely.to_wkb(np.asarray(geoms), hex=False))
    bounds = shapely.bounds(np.asarray(geoms))
    codes = (
        attributes[key]
        .astype(object)
        .where(attributes[key].notna(), None)
        .map(lambda v: None if v is None else str(v))
        .tolist()
        if key in attributes
        else [None] * len(frame)
    )
    names = (
        attributes[label]
        .astype(object)
        .where(attributes[label].notna(), None)
        .map(lambda v: None if v is None else str(v))
        .tolist()
        if label in attributes
        else [None] * len(frame)
    )
    crs = frame.crs.to_string() if frame.crs is not None else ""
    return Part(name, columns, geometry_name, crs, records, wkb, bounds, codes, names)


def frame_from_part(
    columns: Sequence[Sequence[str]],
    geometry_name: str,
    crs: str,
    records: Sequence[Mapping],
    wkb: Sequence[bytes | None],
) -> gpd.GeoDataFrame:
    """The frame a :class:`Part` was made from."""
    data = {}
    for column, dtype in columns:
        if dtype == GEOMETRY_DTYPE:
            continue
        values = [record.get(column) for record in records]
        data[column] = _series(values, dtype)
    data[geometry_name] = gpd.GeoSeries(
        shapely.from_wkb(np.array(wkb, dtype=object)),
        crs=crs or None,
        index=pd.RangeIndex(len(wkb)),
    )
    frame = gpd.GeoDataFrame(
        data, geometry=geometry_name, crs=crs or None, index=pd.RangeIndex(len(wkb))
    )
    return frame[[column for column, _ in columns]]


def _series(values: list, dtype: str) -> pd.Series:
    if dtype.startswith("datetime64"):
        return pd.Series(pd.to_datetime(pd.Series(values, dtype=object)), dtype=dtype)
    try:
        return pd.Series(values, dtype=dtype)
    except (TypeError, ValueError):
        return pd.Series(values, dtype=object)
