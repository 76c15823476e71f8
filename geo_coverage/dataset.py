"""The dataset: units (city, districts, streets) with population, and facility layers by kind.

On disk every geometry is WGS84; a loaded dataset holds everything in one projected (metric) CRS,
chosen once at load.  Each facility carries the codes of the street and district it falls in,
computed once per layer with one spatial-index query, so evaluation never repeats a spatial join.

Folder layout (the data contract)::

    DIR/boundaries/city.geojson        optional; else the districts are dissolved
    DIR/boundaries/districts.geojson
    DIR/boundaries/streets.geojson     optional
    DIR/layers/<kind>.geojson          one file per facility kind
    (each may be GeoParquet instead, ``.parquet``: the embedded default is)
    DIR/dataset.yaml                   optional: name, crs
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import data, io
from .errors import DataError

__all__ = [
    "Dataset",
    "load_dataset",
    "read_dataset_frames",
    "dataset_from_frames",
    "DatasetFrames",
    "default_data_dir",
    "UNIT_LEVELS",
    "UNIT_FILES",
    "layer_files",
    "stored_file",
    "POPULATION_COLUMNS",
    "assign_points",
    "prepare_units",
    "prepare_layer",
]

UNIT_LEVELS = ("city", "district", "street")
UNIT_FILES = {"city": "city.geojson", "district": "districts.geojson", "street": "streets.geojson"}
# Beds, places, staff of one facility: the largest hospitals have about 10,000 beds, so more than
# 100,000 is a typing or unit error (1e308 beds would overflow every sum it enters).  Registers
# (importers) and scenario edits share this bound.
MAX_FACILITY_ATTRIBUTE = 1e5

POPULATION_COLUMNS = ("pop_total", "pop_0_2", "pop_0_14", "pop_60_plus", "pop_65_plus")
# The embedded default's name in exports ("数据集 Dataset"); a folder's name would say where the
# package happens to be installed.
DEFAULT_DATASET_NAME = "北京（内置默认数据）Beijing (embedded default)"


def default_data_dir() -> Path:
    """The embedded Beijing default: the installed package data holding ``boundaries/`` and ``layers/``.

    Found through :mod:`importlib.resources` (see :mod:`geo_coverage.data`), so it works from a
    wheel installed anywhere as well as from an editable install.
    """
    return data.root()


@dataclass(frozen=True)
class Dataset:
    """Units and facility layers in one metric CRS.  Immutable: edits return a new dataset.

    Attributes
    ----------
    units
        ``level -> GeoDataFrame`` indexed by ``code`` (str) with ``name``, ``parent_code``,
        population columns and ``pop_source``.
    layers
        ``kind -> GeoDataFrame`` of points with ``id``, ``kind``, ``name``, ``status``, ``source``,
        ``location_quality``, the kind's attributes, and ``street_code`` / ``district_code``.
    crs
        The metric CRS everything is held in.
    """

    units: Mapping[str, gpd.GeoDataFrame]
    layers: Mapping[str, gpd.GeoDataFrame]
    crs: object
    name: str = "dataset"
    root: Path | None = None
    notes: Mapping[str, str] = field(default_factory=dict)

    @property
    def levels(self) -> tuple[str, ...]:
        return tuple(level for level in UNIT_LEVELS if level in self.units)

    def units_at(self, level: str) -> gpd.GeoDataFrame:
        if level not in self.units:
            raise DataError(f"The dataset '{self.name}' has no {level} units.",
                            fix=f"Add boundaries/{UNIT_FILES.get(level, level)} or choose another level.")
        return self.units[level]

    def layer(self, kind: str) -> gpd.GeoDataFrame | None:
        """The facilities of ``kind`` that exist (planned ones are kept but flagged by status)."""
        return self.layers.get(kind)

    def with_layer(self, kind: str, frame: gpd.GeoDataFrame | None) -> Dataset:
        """A new dataset with ``kind`` replaced (``None`` removes it); other layers are shared."""
        layers = dict(self.layers)
        if frame is None:
            layers.pop(kind, None)
        else:
            layers[kind] = prepare_layer(frame, kind=kind, units=self.units, crs=self.crs)
        return replace(self, layers=MappingProxyType(layers))

    def with_units(self, level: str, frame: gpd.GeoDataFrame) -> Dataset:
        """A new dataset with the units of ``level`` replaced (e.g. grown population)."""
        units = dict(self.units)
        units[level] = frame
        return replace(self, units=MappingProxyType(units))

    def provenance(self) -> dict[str, str]:
        """Where each part's numbers come from: ``{'population.street': 'estimate', ...}``."""
        out = {}
        for level, frame in self.units.items():
            if "pop_source" in frame:
                out[f"population.{level}"] = _summarise_sources(frame["pop_source"])
        for kind, frame in self.layers.items():
            out[f"layer.{kind}"] = _summarise_sources(frame["source"]) if "source" in frame else "unknown"
        return out


def _summarise_sources(values: pd.Series) -> str:
    labels = sorted({source_class(v) for v in values.dropna().astype(str)})
    return "+".join(labels) if labels else "unknown"


def source_class(text: str) -> str:
    """Reduce a free-text ``source`` to one of census / estimate / synthetic / imported / real."""
    lowered = str(text).lower()
    for label in ("synthetic", "estimate", "census", "imported", "scenario", "osm"):
        if lowered.startswith(label) or f"{label}:" in lowered or lowered == label:
            return label
    return "real" if lowered.startswith(("real", "public")) else "imported"


# --- loading ------------------------------------------------------------------------------------


def load_dataset(path: str | Path | None = None, *, crs=None) -> Dataset:
    """Load a data folder that follows the data contract (default: the embedded Beijing data).

    Parameters
    ----------
    path
        Folder with ``boundaries/`` and ``layers/``; ``None`` for the embedded default.
    crs
        Metric CRS to work in; by default the UTM zone of the districts (EPSG:32650 for Beijing).
    """
    root = Path(path) if path is not None else default_data_dir()
    frames = read_dataset_frames(root)
    return dataset_from_frames(frames, crs=crs, root=root,
                               name=DEFAULT_DATASET_NAME if path is None else None)


@dataclass(frozen=True)
class DatasetFrames:
    """A data folder as read, before projection: what a store saves and gives back.

    ``units`` and ``layers`` hold the files' frames (WGS84 on disk), ``meta`` the folder's
    ``dataset.yaml`` (``{}`` when absent), ``files`` the paths read, by part
    (``units.district``, ``layer.elderly_care``, ``meta``).
    """

    units: Mapping[str, gpd.GeoDataFrame]
    layers: Mapping[str, gpd.GeoDataFrame]
    meta: Mapping
    files: Mapping[str, Path] = field(default_factory=dict)


def read_dataset_frames(root: str | Path) -> DatasetFrames:
    """Read a data folder's files as they are (no projection, no checks beyond readability)."""
    root = Path(root)
    if not root.is_dir():
        raise DataError("Data folder not found.", file=root,
                        fix="Pass a folder with boundaries/ and layers/ (see `geo-coverage import`).")
    meta: dict[str, Any] = {}
    files: dict[str, Path] = {}
    if (root / "dataset.yaml").exists():
        meta = io.read_yaml(root / "dataset.yaml") or {}
        files["meta"] = root / "dataset.yaml"
    boundaries = root / "boundaries"
    raw_units: dict[str, gpd.GeoDataFrame] = {}
    for level, filename in UNIT_FILES.items():
        file = stored_file(boundaries / filename)
        if file.exists():
            raw_units[level] = io.read_vector(file)
            files[f"units.{level}"] = file
    layers = {}
    layer_dir = root / "layers"
    if layer_dir.is_dir():
        for file in layer_files(layer_dir):
            layers[file.stem] = io.read_vector(file)
            files[f"layer.{file.stem}"] = file
    return DatasetFrames(units=raw_units, layers=layers, meta=meta, files=files)


def dataset_from_frames(frames: DatasetFrames, *, crs=None, root: Path | None = None,
                        name: str | None = None) -> Dataset:
    """Check, project and join the frames of a data folder into a :class:`Dataset`."""
    meta = frames.meta or {}
    raw_units = dict(frames.units)
    origin = Path(root) if root is not None else Path("<dataset>")
    boundaries = origin / "boundaries"
    if "district" not in raw_units:
        raise DataError("No district boundaries.", file=boundaries / UNIT_FILES["district"],
                        fix="Add the district outlines as GeoJSON with code, name and population.")
    if crs is None:
        crs = meta.get("crs") or raw_units["district"].to_crs(4326).estimate_utm_crs()
    units = prepare_units(raw_units, crs=crs, origin=boundaries)
    layers = {}
    for kind in sorted(frames.layers):
        file = frames.files.get(f"layer.{kind}", origin / "layers" / f"{kind}.geojson")
        layers[kind] = prepare_layer(frames.layers[kind], kind=kind, units=units, crs=crs, origin=file)
    return Dataset(units=MappingProxyType(units), layers=MappingProxyType(layers), crs=crs,
                   name=str(meta.get("name", name or origin.name)), root=root,
                   notes=MappingProxyType({str(k): str(v) for k, v in (meta.get("notes") or {}).items()}))


def stored_file(file: Path) -> Path:
    """``name.parquet`` in place of ``name.geojson`` when present (the embedded default ships as
    GeoParquet, which loads several times faster), else the GeoJSON path itself."""
    parquet = file.with_suffix(".parquet")
    return parquet if parquet.exists() else file


def layer_files(folder: Path) -> list[Path]:
    """One file per facility kind: ``kind.parquet`` or ``kind.geojson`` (GeoParquet first)."""
    files = {file.stem: file for file in sorted(folder.glob("*.geojson"))}
    files.update({file.stem: file for file in sorted(folder.glob("*.parquet"))})
    return [files[kind] for kind in sorted(files)]


def prepare_units(raw: Mapping[str, gpd.GeoDataFrame], *, crs, origin="boundaries") -> dict[str, gpd.GeoDataFrame]:
    """Check the unit frames against the contract, project them, and derive the city if absent."""
    units: dict[str, gpd.GeoDataFrame] = {}
    for level, frame in raw.items():
        file = Path(origin) / UNIT_FILES.get(level, level) if not str(origin).endswith("json") else origin
        frame = _check_units(frame, level=level, origin=file)
        if frame.crs is None:
            raise DataError("The boundaries have no CRS.", file=file,
                            fix="Write the file as WGS84 GeoJSON (EPSG:4326) or declare its CRS.")
        units[level] = frame.to_crs(crs)
    if "city" not in units:
        districts = units["district"]
        parent = districts["parent_code"].iloc[0] if districts["parent_code"].notna().all() else "city"
        sums = districts[[c for c in POPULATION_COLUMNS if c in districts]].sum()
        city = gpd.GeoDataFrame(
            {"code": [parent or "city"], "name": ["全市"], "name_en": ["City"], "level": ["city"],
             "parent_code": [""], **{c: [sums[c]] for c in sums.index},
             "pop_source": [_summarise_sources(districts.get("pop_source", pd.Series(dtype=str)))]},
            geometry=[shapely.union_all(districts.geometry.values)], crs=crs,
        ).set_index("code", drop=False)
        units = {"city": city, **units}
    return units


def _check_units(frame: gpd.GeoDataFrame, *, level: str, origin) -> gpd.GeoDataFrame:
    for column in ("code", "name"):
        if column not in frame:
            raise DataError(f"Missing required column '{column}' in {level} units.", file=origin,
                            column=column, fix="Add it (codes as text, e.g. '110101').")
    frame = frame.copy()
    frame["code"] = frame["code"].astype(str).str.strip()
    dupes = frame["code"][frame["code"].duplicated()]
    if len(dupes):
        row = int(dupes.index[0]) + 1
        raise DataError(f"Duplicate unit code '{dupes.iloc[0]}'.", file=origin, row=row, column="code",
                        fix="Give every unit its own code.")
    frame["level"] = level
    if "parent_code" not in frame:
        frame["parent_code"] = ""
    frame["parent_code"] = frame["parent_code"].fillna("").astype(str)
    if "name_en" not in frame:
        frame["name_en"] = ""
    for column in POPULATION_COLUMNS:
        if column in frame:
            values = pd.to_numeric(frame[column], errors="coerce")
            bad = values.isna() & frame[column].notna()
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0]) + 1
                raise DataError(f"Population '{frame[column].iloc[row - 1]}' is not a number.",
                                file=origin, row=row, column=column, fix="Use plain numbers.")
            if (values < 0).any():
                row = int(np.flatnonzero((values < 0).to_numpy())[0]) + 1
                raise DataError("Negative population.", file=origin, row=row, column=column,
                                fix="Population must be zero or more.")
            frame[column] = values.astype(float)
    if "pop_source" not in frame:
        frame["pop_source"] = "imported"
    frame["pop_source"] = frame["pop_source"].fillna("unknown").astype(str)
    geoms = frame.geometry.values
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        frame.loc[invalid, frame.geometry.name] = shapely.make_valid(geoms[invalid])
    return frame.set_index("code", drop=False)


def prepare_layer(frame: gpd.GeoDataFrame, *, kind: str, units: Mapping[str, gpd.GeoDataFrame], crs,
                  origin=None) -> gpd.GeoDataFrame:
    """Project a facility layer and attach the street and district each facility falls in."""
    frame = frame.copy()
    if frame.crs is None:
        raise DataError("The facility layer has no CRS.", file=origin,
                        fix="Write it as WGS84 GeoJSON or import it with `geo-coverage import`.")
    if "id" not in frame:
        raise DataError("Missing required column 'id'.", file=origin, column="id",
                        fix="Give every facility an id unique within its layer.")
    frame["id"] = frame["id"].astype(str)
    frame["kind"] = kind
    for column, default in (("name", ""), ("status", "existing"), ("source", "imported"),
                            ("location_quality", "exact")):
        if column not in frame:
            frame[column] = default
        frame[column] = frame[column].fillna(default).astype(str)
    frame = frame.to_crs(crs)
    street_codes, district_codes = assign_points(frame.geometry.values, units)
    frame["street_code"] = street_codes
    frame["district_code"] = district_codes
    return frame.reset_index(drop=True)


def assign_points(points, units: Mapping[str, gpd.GeoDataFrame]) -> tuple[np.ndarray, np.ndarray]:
    """Street and district code for each point ('' where outside), one STRtree query per level.

    Where streets exist, a point's district is its street's parent, so street figures add up to
    their district exactly; points in no street fall back to the district polygons.
    """
    points = np.asarray(points)
    n = len(points)
    street = np.full(n, "", dtype=object)
    district = np.full(n, "", dtype=object)
    if n == 0:
        return street, district
    if "street" in units:
        streets = units["street"]
        street = locate_points(points, streets)
        parents = streets["parent_code"].to_dict()
        district = np.array([parents.get(code, "") if code else "" for code in street], dtype=object)
    missing = district == ""
    if missing.any() and "district" in units:
        district[missing] = locate_points(points[missing], units["district"])
    return street, district


def locate_points(points: np.ndarray, polygons: gpd.GeoDataFrame) -> np.ndarray:
    """The code of the polygon holding each point ("" outside every polygon); a point on a shared
    edge goes to the first polygon."""
    codes = polygons["code"].to_numpy(dtype=object)
    tree = shapely.STRtree(polygons.geometry.values)
    point_idx, poly_idx = tree.query(points, predicate="intersects")
    out = np.full(len(points), "", dtype=object)
    # A point on a shared edge intersects two polygons; keep the first (lowest index) for each.
    order = np.lexsort((poly_idx, point_idx))
    point_idx, poly_idx = point_idx[order], poly_idx[order]
    first = np.ones(len(point_idx), dtype=bool)
    first[1:] = point_idx[1:] != point_idx[:-1]
    out[point_idx[first]] = codes[poly_idx[first]]
    return out
