"""OpenStreetMap: admin boundaries, facilities by tag, and walk/drive networks (osmnx).

The only module that talks to the network.  Fetching is split from shaping: ``fetch_*`` call
osmnx (with its settings set explicitly for the call and restored afterwards, because
``osmnx.settings`` is module-global), while :func:`facilities_from_features` and
:func:`boundaries_from_features` turn any osmnx features frame - fetched, or read offline with
``osmnx.features_from_xml`` - into layers and unit frames of the data contract.

Facility kinds are found by :data:`FACILITY_TAGS` (documented in docs/osm.md): each kind lists
rules, a rule is a set of tag conditions that must all hold, and a feature belongs to a kind when
any of its rules holds.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import io
from .errors import DataError, NetworkError

__all__ = [
    "WHAT",
    "ADMIN_LEVELS",
    "FACILITY_TAGS",
    "CAPACITY_TAGS",
    "OsmQuery",
    "query_tags",
    "facilities_from_features",
    "boundaries_from_features",
    "fetch_features",
    "fetch_network",
    "fetch_to_folder",
    "osmnx_settings",
]

WHAT = ("boundaries", "facilities", "network")
# Chinese admin levels in OSM: 4 province/municipality, 6 district/county, 8 street/township.
ADMIN_LEVELS = {"district": "6", "street": "8"}
ATTRIBUTION = "OpenStreetMap contributors (ODbL)"

# kind -> rules; a rule maps a tag to the accepted value(s); every tag of a rule must match.
FACILITY_TAGS: Mapping[str, tuple[Mapping[str, tuple[str, ...]], ...]] = {
    "elderly_care": (
        {"amenity": ("social_facility",), "social_facility": ("nursing_home", "assisted_living")},
        {"amenity": ("nursing_home",)},
        {"amenity": ("social_facility",), "social_facility:for": ("senior",)},
    ),
    "childcare": ({"amenity": ("childcare",)},),
    "kindergarten": ({"amenity": ("kindergarten",)},),
    "hospital": ({"amenity": ("hospital",)}, {"healthcare": ("hospital",)}),
    "community_health_centre": ({"healthcare": ("centre",)},),
    "child_welfare": (
        {"amenity": ("social_facility",), "social_facility:for": ("child", "orphan", "juvenile")},
    ),
    "mother_baby_room": (
        {"changing_table": ("yes", "limited")},
        {"baby_feeding": ("yes", "room")},
        {"amenity": ("baby_room", "nursing_room")},
    ),
}
# Which OSM tag gives each kind's capacity attribute.
CAPACITY_TAGS: Mapping[str, Mapping[str, str]] = {
    "elderly_care": {"beds": "beds", "nursing_beds": "nursing_beds"},
    "childcare": {"places": "capacity"},
    "kindergarten": {"places": "capacity"},
    "hospital": {"paediatric_beds": "beds:paediatrics"},
    "child_welfare": {"beds": "beds"},
}


@dataclass(frozen=True)
class OsmQuery:
    """Where to fetch: a place name (geocoded by Nominatim) or a bounding box ``(W, S, E, N)``."""

    place: str | None = None
    bbox: tuple[float, float, float, float] | None = None

    def __post_init__(self):
        if (self.place is None) == (self.bbox is None):
            raise DataError("Give either a place or a bounding box.", fix="Use --place NAME or --bbox W S E N.")
        if self.bbox is not None:
            west, south, east, north = self.bbox
            if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
                raise DataError(f"Invalid bounding box {self.bbox}.",
                                fix="Give --bbox WEST SOUTH EAST NORTH in degrees, west < east and south < north.")

    @property
    def box(self) -> tuple[float, float, float, float]:
        """The bounding box ``(W, S, E, N)`` of a query made with one."""
        if self.bbox is None:
            raise DataError(f"The query names the place '{self.place}', not a bounding box.")
        west, south, east, north = self.bbox
        return west, south, east, north

    @property
    def label(self) -> str:
        return self.place if self.place else "bbox " + ",".join(f"{v:g}" for v in self.box)


def query_tags(kinds: Sequence[str] | None = None) -> dict[str, list[str]]:
    """The union of tags to ask Overpass for (a superset; rules are applied afterwards)."""
    tags: dict[str, set[str]] = {}
    for kind in kinds or FACILITY_TAGS:
        for rule in FACILITY_TAGS[kind]:
            # Asking for the rule's first tag suffices: the other conditions filter the answer.
            key, values = next(iter(rule.items()))
            tags.setdefault(key, set()).update(values)
    return {key: sorted(values) for key, values in tags.items()}


def _tag(features: pd.DataFrame, key: str) -> pd.Series:
    if key in features:
        return features[key].astype("object").where(features[key].notna(), "").astype(str)
    return pd.Series("", index=features.index, dtype=object)


def _osm_ids(features: gpd.GeoDataFrame) -> np.ndarray:
    index = features.index
    if isinstance(index, pd.MultiIndex):
        return np.array([f"osm-{element}-{osm_id}" for element, osm_id in index], dtype=object)
    return np.array([f"osm-{value}" for value in index], dtype=object)


def _name(features) -> pd.Series:
    chinese = _tag(features, "name:zh")
    return chinese.where(chinese != "", _tag(features, "name"))


def facilities_from_features(features: gpd.GeoDataFrame, *, source_label: str = "") -> dict[str, gpd.GeoDataFrame]:
    """Sort OSM features into facility layers by :data:`FACILITY_TAGS` (a feature may match several kinds).

    Polygons (buildings, grounds) become their point on surface; capacities come from
    :data:`CAPACITY_TAGS` where the tag is a number.
    """
    layers: dict[str, gpd.GeoDataFrame] = {}
    if features is None or len(features) == 0:
        return layers
    features = features.to_crs(4326) if features.crs is not None else features.set_crs(4326)
    ids = _osm_ids(features)
    names = _name(features).to_numpy(dtype=object)
    points = shapely.point_on_surface(features.geometry.values)
    for kind, rules in FACILITY_TAGS.items():
        match = np.zeros(len(features), dtype=bool)
        for rule in rules:
            holds = np.ones(len(features), dtype=bool)
            for key, values in rule.items():
                holds &= _tag(features, key).isin(values).to_numpy()
            match |= holds
        if not match.any():
            continue
        columns = {"id": ids[match], "kind": kind, "name": names[match], "status": "existing",
                   "source": f"osm: {ATTRIBUTION}{', ' + source_label if source_label else ''}",
                   "location_quality": "exact"}
        for attribute, key in CAPACITY_TAGS.get(kind, {}).items():
            columns[attribute] = pd.to_numeric(_tag(features, key)[match], errors="coerce").to_numpy(dtype=float)
        layers[kind] = gpd.GeoDataFrame(columns, geometry=points[match], crs=4326)
    return layers


def boundaries_from_features(features: gpd.GeoDataFrame) -> dict[str, gpd.GeoDataFrame]:
    """Districts (admin_level 6) and streets (admin_level 8) from ``boundary=administrative`` features.

    A unit's code is its ``ref`` tag when present, else ``osm-relation-<id>``; a street's
    ``parent_code`` is the district its point on surface lies in.
    """
    from .dataset import locate_points as _locate

    units: dict[str, gpd.GeoDataFrame] = {}
    if features is None or len(features) == 0:
        return units
    features = features.to_crs(4326) if features.crs is not None else features.set_crs(4326)
    polygonal = np.isin(shapely.get_type_id(features.geometry.values), [3, 6])
    administrative = (_tag(features, "boundary") == "administrative").to_numpy() & polygonal
    ids = _osm_ids(features)
    refs = _tag(features, "ref").str.strip().to_numpy(dtype=object)
    codes = np.where(refs != "", refs, ids)
    for level, admin_level in ADMIN_LEVELS.items():
        mask = administrative & (_tag(features, "admin_level") == admin_level).to_numpy()
        if not mask.any():
            continue
        units[level] = gpd.GeoDataFrame(
            {"code": codes[mask], "name": _name(features).to_numpy(dtype=object)[mask],
             "name_en": _tag(features, "name:en").to_numpy(dtype=object)[mask], "level": level,
             "parent_code": "", "pop_source": "unknown", "outline_quality": "official",
             "source": f"osm: {ATTRIBUTION}"},
            geometry=features.geometry.values[mask], crs=4326)
    if "street" in units and "district" in units:
        metric = units["district"].estimate_utm_crs()
        points = shapely.point_on_surface(units["street"].to_crs(metric).geometry.values)
        units["street"]["parent_code"] = _locate(points, units["district"].to_crs(metric).reset_index(drop=True))
    return units


# --- fetching (network) -----------------------------------------------------------------------


@contextlib.contextmanager
def osmnx_settings(*, cache_dir: str | Path | None = None, timeout: float = 180) -> Iterator[None]:
    """Set osmnx's module-global settings for one call and restore them afterwards."""
    import osmnx

    names = ("use_cache", "cache_folder", "log_console", "requests_timeout")
    saved = {name: getattr(osmnx.settings, name) for name in names}
    try:
        osmnx.settings.use_cache = cache_dir is not None
        if cache_dir is not None:
            osmnx.settings.cache_folder = str(cache_dir)
        osmnx.settings.log_console = False
        osmnx.settings.requests_timeout = timeout
        yield
    finally:
        for name, value in saved.items():
            setattr(osmnx.settings, name, value)


def _network_error(exc: Exception, what: str, query: OsmQuery) -> NetworkError:
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return NetworkError(f"Could not fetch {what} for {query.label} from OpenStreetMap: {reason}",
                        fix="Check the connection and the place name (or use --bbox); retry later if Overpass is busy.")


def fetch_features(query: OsmQuery, tags: Mapping[str, bool | str | list[str]], *,
                   cache_dir=None) -> gpd.GeoDataFrame:
    """OSM features matching ``tags`` in the place or box (an empty frame when there are none)."""
    import osmnx
    from osmnx._errors import InsufficientResponseError

    with osmnx_settings(cache_dir=cache_dir):
        try:
            if query.place is not None:
                return osmnx.features_from_place(query.place, dict(tags))
            return osmnx.features_from_bbox(query.box, dict(tags))
        except InsufficientResponseError:
            return gpd.GeoDataFrame(geometry=[], crs=4326)
        except Exception as exc:  # requests, Overpass and geocoder failures all reach the user the same way
            raise _network_error(exc, "features", query) from None


def fetch_network(query: OsmQuery, *, network_type: str = "walk", cache_dir=None):
    """The walk or drive network of the place or box as an osmnx MultiDiGraph."""
    import osmnx

    if network_type not in ("walk", "drive"):
        raise DataError(f"Unknown network type '{network_type}'.", fix="Use walk or drive.")
    with osmnx_settings(cache_dir=cache_dir):
        try:
            if query.place is not None:
                return osmnx.graph_from_place(query.place, network_type=network_type)
            return osmnx.graph_from_bbox(query.box, network_type=network_type)
        except Exception as exc:  # as above
            raise _network_error(exc, f"the {network_type} network", query) from None


def fetch_to_folder(query: OsmQuery, out: str | Path, *, what: Sequence[str] = WHAT,
                    network_types: Sequence[str] = ("walk", "drive"), cache_dir=None,
                    progress: Callable[[str], None] | None = None) -> list[Path]:
    """Fetch and write a folder in the data-contract layout, atomically.

    ``boundaries/districts.geojson`` and ``streets.geojson`` (admin levels 6 and 8),
    ``layers/<kind>.geojson`` per :data:`FACILITY_TAGS`, ``networks/<type>.graphml``.
    Returns the written paths (inside ``out``).
    """
    say = progress or (lambda text: None)
    unknown = sorted(set(what) - set(WHAT))
    if unknown:
        raise DataError(f"Unknown part(s) to fetch: {', '.join(unknown)}.", fix=f"Use any of {', '.join(WHAT)}.")
    units: dict[str, gpd.GeoDataFrame] = {}
    layers: dict[str, gpd.GeoDataFrame] = {}
    graphs = {}
    if "boundaries" in what:
        say(f"Fetching admin boundaries (levels {', '.join(ADMIN_LEVELS.values())}) for {query.label} ...")
        features = fetch_features(query, {"boundary": "administrative",
                                          "admin_level": list(ADMIN_LEVELS.values())}, cache_dir=cache_dir)
        units = boundaries_from_features(features)
        say("  " + (", ".join(f"{len(f)} {level} units" for level, f in units.items()) or "no admin boundaries"))
    if "facilities" in what:
        say(f"Fetching facilities ({', '.join(FACILITY_TAGS)}) ...")
        features = fetch_features(query, query_tags(), cache_dir=cache_dir)
        layers = facilities_from_features(features, source_label=query.label)
        say("  " + (", ".join(f"{len(f)} {kind}" for kind, f in layers.items()) or "no facilities"))
    if "network" in what:
        for network_type in network_types:
            say(f"Fetching the {network_type} network ...")
            graphs[network_type] = fetch_network(query, network_type=network_type, cache_dir=cache_dir)
            say(f"  {graphs[network_type].number_of_nodes()} nodes, {graphs[network_type].number_of_edges()} edges")
    from .dataset import UNIT_FILES

    written: list[str] = []
    with io.atomic_directory(out) as building:
        for folder in ("boundaries", "layers", "networks"):
            (building / folder).mkdir()
        for level, frame in units.items():
            io.write_geojson(frame, building / "boundaries" / UNIT_FILES[level])
            written.append(f"boundaries/{UNIT_FILES[level]}")
        for kind, frame in layers.items():
            io.write_geojson(frame, building / "layers" / f"{kind}.geojson")
            written.append(f"layers/{kind}.geojson")
        for network_type, graph in graphs.items():
            io.write_graphml(graph, building / "networks" / f"{network_type}.graphml")
            written.append(f"networks/{network_type}.graphml")
        io.write_yaml({"name": Path(out).name, "notes": {"source": f"{ATTRIBUTION}, fetched for {query.label}"}},
                      building / "dataset.yaml")
    say(f"Wrote {out}")
    return [Path(out) / name for name in written]
