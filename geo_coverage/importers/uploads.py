"""One uploaded file → a dataset with it in place: the app's upload page calls this and keeps only
its widgets.  The checks are those of ``geo-coverage validate``; nothing is written anywhere but a
temporary folder (boundaries only, since the vector readers take a path)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import geopandas as gpd

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

__all__ = ["UPLOAD_KINDS", "load_upload"]

UPLOAD_KINDS = ("facilities", "population", "boundaries")


def load_upload(dataset: Dataset, plan: Plan, *, what: str, name: str, payload: bytes,
                kind: str | None = None, datum: str | None = None,
                level: str = "street") -> tuple[ImportResult, Dataset | None]:
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

    Returns
    -------
    tuple of (ImportResult, Dataset or None)
        The importer's result (every problem; for a register ``report['replaced']`` is the layer's
        facility count before and after) and the new dataset, or ``None`` on errors.
    """
    outcome: dict = {}

    def read() -> ImportResult:
        result, changed = _load(dataset, plan, what=what, name=name, payload=payload, kind=kind,
                                datum=datum, level=level)
        outcome["changed"] = changed
        return result

    result = guarded_read(read, file=name)
    return result, (outcome.get("changed") if result.ok else None)


def _load(dataset: Dataset, plan: Plan, *, what: str, name: str, payload: bytes, kind: str | None,
          datum: str | None, level: str) -> tuple[ImportResult, Dataset | None]:
    if what == "facilities":
        return _load_register(dataset, plan, name=name, payload=payload, kind=kind, datum=datum)
    if what == "population":
        return _load_population(dataset, name=name, payload=payload, level=level)
    if what == "boundaries":
        return _load_boundaries(dataset, name=name, payload=payload, level=level)
    raise ValueError(f"what must be one of {UPLOAD_KINDS}")


def _load_register(dataset: Dataset, plan: Plan, *, name: str, payload: bytes, kind: str | None,
                   datum: str | None) -> tuple[ImportResult, Dataset | None]:
    spec = plan.kinds.get(kind or "")
    if kind is None or spec is None:
        return ImportResult(None, (Problem("error", f"Unknown facility kind '{kind}'.",
                                           fix=f"Choose one of {sorted(plan.kinds)}."),)), None
    result = parse_facilities(payload, name=name, kind=kind, attributes=dict(spec.attributes), datum=datum,
                              units=dataset.units.get("district"))
    if not result.ok:
        return result, None
    before = dataset.layer(kind)
    report = {**result.report, "replaced": (0 if before is None else len(before), len(result.frame))}
    problems = result.problems + _unmeasured(result.frame, plan, kind, name)
    return ImportResult(result.frame, problems, report), dataset.with_layer(kind, result.frame)


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
    units = units.astype({c: object for c in writable})
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
