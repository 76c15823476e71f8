"""One uploaded file → a dataset with it in place: the app's upload page calls this and keeps only
its widgets.  The checks are those of ``geo-coverage validate``; nothing is written anywhere but a
temporary folder (boundaries only, since the vector readers take a path)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .. import io
from ..coverage import missing_attributes
from ..dataset import POPULATION_COLUMNS, Dataset, prepare_units
from ..errors import GeoCoverageError
from ..plan import Plan
from .boundaries import import_boundaries
from .facilities import parse_facilities
from .population import join_population
from .problems import ImportResult, Problem, failed, guarded_read
from .tables import parse_table

__all__ = ["UPLOAD_KINDS", "REPLACE_SCOPES", "load_upload", "datum_note"]

UPLOAD_KINDS = ("facilities", "population", "boundaries")
# What a facility register replaces: the facilities of the districts it covers (the others keep
# theirs; the default, so one district's register never wipes the city) or the whole layer.
REPLACE_SCOPES = ("district", "layer")
_DATUM_NAMES = {"wgs84": "WGS84", "gcj02": "GCJ-02", "bd09": "BD-09"}


def load_upload(dataset: Dataset, plan: Plan, *, what: str, name: str, payload: bytes,
                kind: str | None = None, datum: str | None = None,
                level: str = "street", replace: str = "district") -> tuple[ImportResult, Dataset | None]:
    """Validate one uploaded file and, when it has no errors, the dataset with it in place.

    Whatever a damaged file makes a library raise becomes a problem naming the file (the net the
    command line has too), never a traceback on the page.

    Parameters
    ----------
    dataset
        The session's dataset (left unchanged).
    plan
        The plan (its ``kinds`` and the indicators that read each layer).
    what
        ``facilities`` (a register replacing the layer ``kind``), ``population`` (a table joined
        to the units of ``level``) or ``boundaries`` (outlines replacing ``level``).
    name, payload
        The uploaded file's name and bytes.
    kind
        The facility kind, for ``facilities``.
    datum
        The register's datum, for ``facilities``.
    level
        ``street`` or ``district``, for ``population`` and ``boundaries``.
    replace
        For a register: ``district`` (the default) replaces only the facilities of the districts
        its facilities stand in, and every other district keeps its own; ``layer`` replaces the
        whole layer.

    Returns
    -------
    tuple of (ImportResult, Dataset or None)
        The importer's result (every problem; for a register ``report['replaced']`` is the layer's
        facility count before and after, ``report['districts']`` the district codes replaced
        (``None`` for the whole layer), ``report['kept']`` the facilities other districts kept,
        ``report['datum_shift_m']`` the mean shift of the datum conversion) and the new dataset,
        or ``None`` on errors.
    """
    if replace not in REPLACE_SCOPES:
        raise ValueError(f"replace must be one of {REPLACE_SCOPES}, not {replace!r}")
    outcome: dict = {}

    def read() -> ImportResult:
        result, changed = _load(dataset, plan, what=what, name=name, payload=payload, kind=kind,
                                datum=datum, level=level, replace=replace)
        outcome["changed"] = changed
        return result

    result = guarded_read(read, file=name)
    return result, (outcome.get("changed") if result.ok else None)


def _load(dataset: Dataset, plan: Plan, *, what: str, name: str, payload: bytes, kind: str | None,
          datum: str | None, level: str, replace: str) -> tuple[ImportResult, Dataset | None]:
    if what == "facilities":
        return _load_register(dataset, plan, name=name, payload=payload, kind=kind, datum=datum,
                              replace=replace)
    if what == "population":
        return _load_population(dataset, name=name, payload=payload, level=level)
    if what == "boundaries":
        return _load_boundaries(dataset, name=name, payload=payload, level=level)
    raise ValueError(f"what must be one of {UPLOAD_KINDS}")


def _load_register(dataset: Dataset, plan: Plan, *, name: str, payload: bytes, kind: str | None,
                   datum: str | None, replace: str) -> tuple[ImportResult, Dataset | None]:
    spec = plan.kinds.get(kind or "")
    if kind is None or spec is None:
        return ImportResult(None, (Problem("error", f"Unknown facility kind '{kind}'.",
                                           fix=f"Choose one of {sorted(plan.kinds)}."),)), None
    result = parse_facilities(payload, name=name, kind=kind, attributes=dict(spec.attributes), datum=datum,
                              units=dataset.units.get("district"))
    if not result.ok:
        return result, None
    before = dataset.layer(kind)
    problems = result.problems + _unmeasured(result.frame, plan, kind, name)
    if replace == "layer" or before is None or "district" not in dataset.units:
        report = {**result.report, "districts": None, "kept": 0,
                  "replaced": (0 if before is None else len(before), len(result.frame))}
        return ImportResult(result.frame, problems, report), dataset.with_layer(kind, result.frame)
    return _merge_by_district(dataset, kind, result, before, problems, name=name)


def _merge_by_district(dataset: Dataset, kind: str, result: ImportResult, before, problems,
                       *, name: str) -> tuple[ImportResult, Dataset | None]:
    """The layer with the register's districts replaced by the register and every other
    district's facilities kept (ids must stay unique across the two)."""
    incoming = dataset.with_layer(kind, result.frame).layers[kind]  # assigned to the units
    districts = sorted(set(incoming["district_code"].dropna().astype(str)))
    kept = before[~before["district_code"].astype(str).isin(districts)]
    clashes = sorted(set(kept["id"].astype(str)) & set(incoming["id"].astype(str)))
    if clashes:
        names = dataset.units["district"]["name"].to_dict()
        where = kept.set_index(kept["id"].astype(str))["district_code"].astype(str)
        problems = problems + tuple(
            Problem("error", f"Id '{i}' is also the id of a facility kept in "
                    f"{names.get(where[i], where[i])} ({where[i]}), outside the districts this "
                    "register replaces.", file=name, column="id",
                    fix="Give the register's facilities ids of their own, or replace the whole "
                        "layer.")
            for i in clashes[:20])
        return ImportResult(None, problems, result.report), None
    derived = [c for c in ("street_code", "district_code") if c in kept]
    merged = pd.concat([kept.drop(columns=derived), incoming.drop(columns=derived)],
                       ignore_index=True)
    merged = gpd.GeoDataFrame(merged, geometry="geometry", crs=incoming.crs)
    replaced = int(len(before) - len(kept))
    report = {**result.report, "districts": districts, "kept": int(len(kept)),
              "replaced": (replaced, int(len(incoming)))}
    return ImportResult(result.frame, problems, report), dataset.with_layer(kind, merged)


def datum_note(report, language: str = "zh") -> str | None:
    """What the datum conversion of a register did, in words: "GCJ-02 → WGS84，平均偏移 540 米" /
    "GCJ-02 → WGS84, mean shift 540 m"; for WGS84 that nothing was shifted."""
    datum = str(report.get("datum", ""))
    shift = report.get("datum_shift_m")
    if not datum or shift is None:
        return None
    declared = datum.split()[0]
    source = _DATUM_NAMES.get(declared, declared)
    if declared == "wgs84":
        undeclared = "undeclared" in datum
        if language == "zh":
            return "坐标按 WGS84 读取（未声明坐标系）" if undeclared else "坐标为 WGS84，未转换"
        return ("coordinates read as WGS84 (no datum declared)" if undeclared
                else "coordinates in WGS84, not converted")
    if language == "zh":
        return f"坐标转换：{source} → WGS84，平均偏移 {shift:,.0f} 米"
    return f"datum conversion: {source} → WGS84, mean shift {shift:,.0f} m"


def _load_population(dataset: Dataset, *, name: str, payload: bytes,
                     level: str) -> tuple[ImportResult, Dataset | None]:
    try:
        table, info = parse_table(payload, name=name)
    except GeoCoverageError as exc:
        return failed(exc, file=name), None
    units = dataset.units_at(level)
    # join_population writes into the arrays it reads from the frame; under pandas 3's
    # copy-on-write a float column hands out a read-only view, so give it object columns.
    writable = [c for c in (*POPULATION_COLUMNS, "pop_source") if c in units]
    units = units.astype(dict.fromkeys(writable, object))
    result = join_population(units, table, name=name)
    result = ImportResult(result.frame, result.problems, {**result.report, **info})
    if not result.ok:
        return result, None
    return result, _with_units(dataset, level, result.frame)


def _load_boundaries(dataset: Dataset, *, name: str, payload: bytes,
                     level: str) -> tuple[ImportResult, Dataset | None]:
    with tempfile.TemporaryDirectory() as folder:
        path = io.write_bytes(payload, Path(folder) / Path(name).name)
        result = import_boundaries(path, level=level,
                                   districts=dataset.units.get("district") if level == "street" else None)
    if not result.ok:
        return result, None
    return result, _with_units(dataset, level, result.frame)


def _unmeasured(frame: gpd.GeoDataFrame, plan: Plan, kind: str, name: str) -> tuple[Problem, ...]:
    """A warning per attribute the register lacks that some indicator of its layer reads: those
    indicators will show no data for this layer (the others still count it)."""
    lacking: dict[str, list[str]] = {}
    for indicator in plan.all_indicators:
        if indicator.layer == kind:
            for attribute in missing_attributes(frame, indicator):
                lacking.setdefault(attribute, []).append(indicator.id)
    return tuple(Problem("warning", f"No '{attribute}' column: {', '.join(ids)} will show no data "
                         "for this layer.", file=name, column=attribute,
                         fix=f"Add a '{attribute}' column to measure {', '.join(ids)}.")
                 for attribute, ids in sorted(lacking.items()))


def _with_units(dataset: Dataset, level: str, frame: gpd.GeoDataFrame) -> Dataset:
    """The dataset with ``level`` replaced, every facility re-assigned to the new units."""
    prepared = prepare_units({"city": dataset.units["city"], level: frame}, crs=dataset.crs)[level]
    changed = dataset.with_units(level, prepared)
    for kind, layer in dataset.layers.items():
        changed = changed.with_layer(kind, layer)
    return changed
