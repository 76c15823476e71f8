"""A whole data folder: check every file an import names against a base folder, then write the new
folder atomically (built beside the target, loaded once as a final check, renamed into place)."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd

from .. import io
from ..dataset import UNIT_FILES, default_data_dir, layer_files, load_dataset, stored_file
from ..errors import DataError, DataWarning
from ..plan import Plan, default_plan
from .boundaries import import_boundaries
from .facilities import import_facilities
from .headers import unused_mappings
from .population import import_population
from .problems import ImportResult, Problem, failed, guarded_read, has_errors

__all__ = ["FacilityInput", "check_import", "import_folder"]

ColumnMap = Mapping[str, str] | str | None


@dataclass(frozen=True)
class FacilityInput:
    """One facility register to import: its file and kind."""

    path: Path
    kind: str


@dataclass(frozen=True)
class _Reading:
    """What every file of one import is read with."""

    level: str
    datum: str | None
    encoding: str | None
    column_map: ColumnMap
    max_bytes: int
    max_rows: int
    strict: bool  # a --column-map source missing from a file is an error (one file only)


def check_import(*, boundaries: str | Path | None = None, level: str = "street",
                 population: str | Path | None = None, facilities: Sequence[FacilityInput] = (),
                 base: str | Path | None = None, plan: Plan | None = None, datum: str | None = None,
                 encoding: str | None = None, column_map: ColumnMap = None, out: str | Path | None = None,
                 max_bytes: int = io.MAX_UPLOAD_BYTES, max_rows: int = io.MAX_TABLE_ROWS) -> ImportResult:
    """Read and check everything an import needs, writing nothing.

    The same ``datum``, ``encoding`` and ``column_map`` apply to every file (``column_map`` keys
    that a file does not use are ignored for it, unless no file uses them).

    Parameters
    ----------
    boundaries
        Unit outlines of ``level`` (see :func:`~geo_coverage.importers.import_boundaries`).
    level
        ``district`` or ``street``: the level of ``boundaries`` and ``population``.
    population
        A population table keyed by unit code.
    facilities
        The registers, one per kind.
    base
        The data folder the import starts from (default: the embedded one).
    plan
        The plan whose ``kinds`` the registers must be (default: the shipped plan).
    datum, encoding, column_map
        How to read the files (see :func:`~geo_coverage.importers.parse_facilities`).
    out
        The folder the import will write, checked against the inputs and the base.
    max_bytes
        The largest file read.
    max_rows
        The most rows read from a CSV/XLSX table.

    Returns
    -------
    ImportResult
        ``frame`` is ``{'units': {level: frame}, 'layers': {kind: frame}, 'base_units': {level:
        Path}, 'base_layers': {kind: Path}, 'base': Path}`` (imported frames in WGS84, ready to
        write; base files to copy) when there are no errors; ``report`` holds each file's report.
    """
    plan = plan or default_plan()
    base_dir = Path(base) if base is not None else default_data_dir()
    report: dict = {"base": str(base_dir)}
    problems = _setting_problems(level, base_dir)
    if out is not None:
        inputs = [Path(p) for p in (boundaries, population) if p is not None] + [f.path for f in facilities]
        problems += _output_problems(Path(out), base_dir, inputs)
    if has_errors(problems):
        return ImportResult(None, tuple(problems), report)
    try:
        units, base_layer_files = _read_base(base_dir)
    except DataError as exc:
        return failed(exc, report=report)
    several = sum(x is not None for x in (boundaries, population)) + len(facilities) > 1
    reading = _Reading(level=level, datum=datum, encoding=encoding, column_map=column_map, max_bytes=max_bytes,
                       max_rows=max_rows, strict=not several)
    new_units = _read_units(boundaries, population, units, reading, problems=problems, report=report)
    points_units = new_units.get("street", units.get("street"))
    if points_units is None:
        points_units = new_units.get("district", units.get("district"))
    layers = _read_registers(facilities, plan, points_units, reading, problems=problems, report=report)
    if several and not has_errors(problems):
        problems += unused_mappings(column_map, report)
    if has_errors(problems):
        return ImportResult(None, tuple(problems), report)
    merged_units = _merged_units(units, new_units, problems)
    # Unchanged base outlines are copied byte for byte; only imported levels are written anew.
    base_units = {name: stored_file(base_dir / "boundaries" / UNIT_FILES[name]) for name in merged_units
                  if name not in new_units}
    return ImportResult({"units": new_units, "base_units": base_units, "layers": layers, "base": base_dir,
                         "base_layers": base_layer_files}, tuple(problems), report)


def _setting_problems(level: str, base_dir: Path) -> list[Problem]:
    problems = []
    if level not in ("district", "street"):
        problems.append(Problem("error", f"Unknown level '{level}'.", fix="Use --level district or --level street."))
    if not stored_file(base_dir / "boundaries" / "districts.geojson").exists():
        problems.append(Problem("error", "The base folder has no boundaries/districts.geojson.", file=str(base_dir),
                                fix="Pass a data folder made by `geo-coverage import` (or leave --base out)."))
    return problems


def _output_problems(out_dir: Path, base_dir: Path, inputs: list[Path]) -> list[Problem]:
    """The output folder is replaced as a whole: it must hold neither the base nor an input, and
    an existing folder must be a data folder (or empty)."""
    problems = []
    if out_dir.exists() and (_inside(base_dir, out_dir) and base_dir.resolve() != out_dir.resolve()):
        problems.append(Problem("error", "The output folder contains the base folder.", file=str(out_dir),
                                fix="Write to a new folder, e.g. --out mydata."))
    for path in inputs:
        if _inside(path, out_dir):
            problems.append(Problem("error", "An input file lies inside the output folder, which is replaced "
                                    "as a whole.", file=str(path), fix="Write to another --out folder."))
    if out_dir.exists() and out_dir.is_dir() and any(out_dir.iterdir()) \
            and not (out_dir / "boundaries").is_dir() and not (out_dir / "dataset.yaml").exists():
        problems.append(Problem("error", "The output folder exists and is not a data folder; it would be "
                                "replaced.", file=str(out_dir), fix="Choose a new or empty folder for --out."))
    return problems


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def _read_base(base: Path) -> tuple[dict[str, gpd.GeoDataFrame], dict[str, Path]]:
    """The base folder's unit outlines (read) and facility layers (their files)."""
    units = {}
    for level, filename in UNIT_FILES.items():
        file = stored_file(base / "boundaries" / filename)
        if file.exists():
            units[level] = io.read_vector(file)
    layer_dir = base / "layers"
    layers = {file.stem: file for file in layer_files(layer_dir)} if layer_dir.is_dir() else {}
    return units, layers


def _read_units(boundaries: str | Path | None, population: str | Path | None, units: dict[str, gpd.GeoDataFrame],
                reading: _Reading, *, problems: list[Problem], report: dict) -> dict[str, gpd.GeoDataFrame]:
    """The imported outlines and population of ``reading.level`` (problems and reports added)."""
    level = reading.level
    new_units: dict[str, gpd.GeoDataFrame] = {}
    if boundaries is not None:
        result = guarded_read(lambda: import_boundaries(
            boundaries, level=level, column_map=reading.column_map,
            districts=units.get("district") if level == "street" else None, max_bytes=reading.max_bytes,
            require_mapped=reading.strict), file=boundaries)
        problems += result.problems
        report["boundaries"] = result.report
        if result.frame is not None:
            new_units[level] = result.frame
    if population is None:
        return new_units
    target = new_units.get(level, units.get(level))
    if target is None:
        problems.append(Problem("error", f"There are no {level} units to join the population to.",
                                file=Path(population).name, fix="Import boundaries of that level too."))
        return new_units
    if has_errors(problems):
        return new_units
    result = guarded_read(lambda: import_population(population, target, encoding=reading.encoding,
                                                    column_map=reading.column_map, max_bytes=reading.max_bytes,
                                                    max_rows=reading.max_rows,
                                                    require_mapped=reading.strict), file=population)
    problems += result.problems
    report["population"] = result.report
    if result.frame is not None:
        new_units[level] = result.frame
    other = "district" if level == "street" else "street"
    unmatched = set(result.report.get("unmatched_codes", ()))
    if unmatched and other in units and unmatched <= set(units[other]["code"].astype(str)):
        problems.append(Problem("error", f"The codes that match no {level} are all {other} codes.",
                                file=Path(population).name, fix=f"Import this table with --level {other}."))
    return new_units


def _read_registers(facilities: Sequence[FacilityInput], plan: Plan, points_units: gpd.GeoDataFrame | None,
                    reading: _Reading, *, problems: list[Problem], report: dict) -> dict[str, gpd.GeoDataFrame]:
    """One layer per register, its points checked against ``points_units`` (problems and reports added)."""
    layers: dict[str, gpd.GeoDataFrame] = {}
    for item in facilities:
        file = Path(item.path).name
        if item.kind not in plan.kinds:
            problems.append(Problem("error", f"Unknown facility kind '{item.kind}'.", file=file,
                                    fix=f"Use one of: {', '.join(plan.kinds)}."))
            continue
        if item.kind in layers:
            problems.append(Problem("error", f"Two registers for the kind '{item.kind}'.", file=file,
                                    fix="Merge them into one file per kind."))
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)  # reported as Problems already
            result = guarded_read(functools.partial(
                import_facilities, item.path, kind=item.kind, attributes=plan.kinds[item.kind].attributes,
                datum=reading.datum, encoding=reading.encoding, column_map=reading.column_map,
                units=points_units, max_bytes=reading.max_bytes, max_rows=reading.max_rows,
                require_mapped=reading.strict), file=item.path)
        problems += result.problems
        report[f"facilities.{item.kind}"] = result.report
        if result.frame is not None:
            layers[item.kind] = result.frame
    return layers


def _merged_units(units: dict[str, gpd.GeoDataFrame], new_units: dict[str, gpd.GeoDataFrame],
                  problems: list[Problem]) -> dict[str, gpd.GeoDataFrame]:
    """The base's levels with the imported ones in place; the city is re-derived from new districts,
    and base streets that do not belong to them are left out (with a warning)."""
    merged = {**units, **new_units}
    if "district" in new_units:
        merged.pop("city", None)  # re-derived from the new districts when loading
        if "street" in merged and "street" not in new_units:
            known = set(new_units["district"]["code"])
            if not merged["street"]["parent_code"].astype(str).isin(known).all():
                merged.pop("street")
                problems.append(Problem("warning", "The base streets do not belong to the imported districts "
                                        "and are left out.", fix="Import the streets too (--level street)."))
    return merged


def import_folder(out: str | Path, **options: Any) -> ImportResult:
    """Check everything (see :func:`check_import`) and, only when there are no errors, write a data folder.

    The folder is built in a temporary sibling folder starting from the base folder's files,
    loaded once with :func:`geo_coverage.dataset.load_dataset` as a final check, and renamed
    into place.  On any error nothing is written and an existing ``out`` is left as it was.
    Input files are only read.

    Parameters
    ----------
    out
        The data folder to write (replaced as a whole).
    **options
        The options of :func:`check_import`.

    Returns
    -------
    ImportResult
        ``frame`` is the folder's path (``None`` on errors); problems and report as
        :func:`check_import` gives them.
    """
    if Path(out).absolute().parent.is_dir():
        io.clean_stale_builds(out)  # what a killed earlier import of this folder left behind
    result = check_import(out=out, **options)
    if not result.ok:
        return result
    parts = result.frame
    meta = _dataset_meta(Path(out).name, parts["base"], result.report)
    try:
        with io.atomic_directory(out) as building:
            _write_folder(building, parts, meta)
            load_dataset(building)
    except DataError as exc:
        return ImportResult(None, result.problems + (Problem.from_error(exc),), result.report)
    return ImportResult(Path(out), result.problems, result.report)


def _dataset_meta(name: str, base_dir: Path, report: Mapping[str, Any]) -> dict:
    """The base's dataset.yaml, renamed, with a note per imported file (rows, encoding, datum)."""
    meta = io.read_yaml(base_dir / "dataset.yaml") if (base_dir / "dataset.yaml").exists() else {}
    meta = dict(meta or {})
    meta["name"] = name
    notes = dict(meta.get("notes") or {})
    notes["import.base"] = str(base_dir)
    for key, value in report.items():
        if key.startswith("facilities.") or key in ("boundaries", "population"):
            notes[f"import.{key}"] = (f"{value.get('file', '?')}: {value.get('rows', '?')} rows, encoding "
                                      f"{value.get('encoding', '-')}, datum {value.get('datum', '-')}")
    meta["notes"] = notes
    return meta


def _write_folder(building: Path, parts: Mapping[str, Any], meta: dict) -> None:
    """Write the imported frames, copy the base files they leave alone, and the dataset.yaml."""
    (building / "boundaries").mkdir()
    (building / "layers").mkdir()
    for level, frame in parts["units"].items():
        io.write_geojson(frame, building / "boundaries" / UNIT_FILES[level])
    for file in parts["base_units"].values():
        # The base's own file, GeoJSON or GeoParquet (the embedded default), under its own name.
        io.copy_file(file, building / "boundaries" / file.name)
    for kind, file in parts["base_layers"].items():
        if kind not in parts["layers"]:
            io.copy_file(file, building / "layers" / file.name)
    for kind, frame in parts["layers"].items():
        io.write_geojson(frame, building / "layers" / f"{kind}.geojson")
    io.write_yaml(meta, building / "dataset.yaml")

