"""A snapshot's rows: what is saved (parts, provenance, checks) and how it is read back."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from .. import __version__
from ..dataset import (
    Dataset,
    DatasetFrames,
    dataset_from_frames,
    read_dataset_frames,
)
from ..errors import DataError
from .core import StoreCore
from .errors import NotFoundError, SnapshotExistsError
from .frames import Part, frame_from_part, part_from_frame
from .schema import utc_now

__all__ = ["SnapshotInfo", "YearView", "SnapshotRows"]

Progress = Callable[[str], None]
YEAR_RANGE = (1900, 2200)


@dataclass(frozen=True)
class SnapshotInfo:
    """One saved snapshot (a row of ``gc_snapshots``).

    ``district`` is ``""`` for a whole-city snapshot, else the code of the submitting district.
    ``status`` is ``current``, ``replaced`` (by a later ``--replace``) or ``removed``; only
    current snapshots are loaded by year or label, the others stay as history.
    """

    id: int
    year: int
    label: str
    district: str
    status: str
    author: str
    created_at: str
    digest: str
    provenance: Mapping = field(repr=False)
    meta: Mapping = field(repr=False)
    retired_at: str | None = None
    retired_by: str | None = None

    @property
    def is_district(self) -> bool:
        return bool(self.district)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "year": self.year,
            "label": self.label,
            "district": self.district,
            "status": self.status,
            "author": self.author,
            "created_at": self.created_at,
            "digest": self.digest,
            "retired_at": self.retired_at,
            "retired_by": self.retired_by,
            "provenance": dict(self.provenance),
        }


@dataclass(frozen=True)
class YearView:
    """What loading a year gives: the city snapshot it rests on and the district submissions laid
    over it, and the districts that have not submitted (their data is the base's)."""

    year: int
    base: SnapshotInfo
    submissions: tuple[SnapshotInfo, ...]
    missing_districts: tuple[str, ...]

    @property
    def label(self) -> str:
        return (
            self.base.label
            if self.base.year == self.year
            else f"{self.year} (district submissions)"
        )

    @property
    def digest(self) -> str:
        """Content key of the loaded dataset (changes whenever any part of it changes)."""
        ids = [self.base.digest] + [s.digest for s in self.submissions]
        return hashlib.sha256("|".join(ids).encode()).hexdigest()


def _check_year(year) -> int:
    try:
        value = int(str(year).strip())
    except (TypeError, ValueError):
        raise DataError(
            f"'{year}' is not a year.", fix="Give the reference year as a number, e.g. 2023."
        ) from None
    if not YEAR_RANGE[0] <= value <= YEAR_RANGE[1]:
        raise DataError(
            f"{value} is not a plausible reference year.", fix="Give a year such as 2020 or 2023."
        )
    return value


def _check_label(label, year: int) -> str:
    text = " ".join(str(label or "").split())
    if not text:
        raise DataError("A snapshot needs a label.", fix="Add e.g. --label '2023 mid-term'.")
    if re.fullmatch(r"\d+", text) and int(text) != year:
        raise DataError(
            f"The label '{text}' looks like another year.",
            fix="Use words in a label (e.g. '2023 mid-term'); the year goes to --year.",
        )
    return text


def _file_record(path: Path, rows: int | None) -> dict:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {
        "path": str(path.resolve()),
        "bytes": path.stat().st_size,
        "sha256": digest.hexdigest(),
        "rows": rows,
    }


def _read_folder(source) -> tuple[DatasetFrames, Path | None]:
    if isinstance(source, DatasetFrames):
        return source, None
    root = Path(source)
    if not root.is_dir():
        raise DataError(
            "Data folder not found." if not root.exists() else "Not a folder.",
            file=root,
            fix="Pass a folder with boundaries/ and layers/ (see `geo-coverage import`).",
        )
    if not any(root.iterdir()):
        raise DataError(
            "The data folder is empty.",
            file=root,
            fix="Put boundaries/*.geojson and layers/<kind>.geojson in it "
            "(`geo-coverage import --out DIR` builds one).",
        )
    return read_dataset_frames(root), root


def _parts(frames: DatasetFrames) -> list[Part]:
    parts = []
    for level, frame in frames.units.items():
        parts.append(
            part_from_frame(
                f"units.{level}",
                frame,
                key="code",
                label="name",
                origin=frames.files.get(f"units.{level}"),
            )
        )
    for kind in sorted(frames.layers):
        parts.append(
            part_from_frame(
                f"layer.{kind}",
                frames.layers[kind],
                key="id",
                label="name",
                origin=frames.files.get(f"layer.{kind}"),
            )
        )
    return parts


def _city_checks(frames: DatasetFrames, root: Path | None) -> tuple[Dataset, list[dict]]:
    """Build the dataset (every contract check of `load_dataset`) and say what was checked."""
    if not frames.layers:
        raise DataError(
            "The data folder has no facility layers.",
            file=(root / "layers") if root else None,
            fix="Add layers/<kind>.geojson files (one per facility kind) before saving a snapshot.",
        )
    dataset = dataset_from_frames(frames, root=root)
    checks = [
        {
            "check": "units",
            "result": "passed",
            "detail": ", ".join(f"{len(dataset.units[lv])} {lv}" for lv in dataset.levels)
            + ": codes unique, populations numbers ≥ 0, outlines valid",
        }
    ]
    outside = {
        kind: int((layer["district_code"] == "").sum()) for kind, layer in dataset.layers.items()
    }
    checks.append(
        {
            "check": "facilities inside the city",
            "result": "passed" if not any(outside.values()) else "warning",
            "detail": ", ".join(f"{k}: {n} outside" for k, n in outside.items() if n)
            or f"all {sum(len(v) for v in dataset.layers.values())} inside",
        }
    )
    from ..plan import default_plan

    missing = sorted(set(default_plan().kinds) - set(dataset.layers))
    checks.append(
        {
            "check": "plan kinds present",
            "result": "passed" if not missing else "warning",
            "detail": "every kind of the default plan"
            if not missing
            else f"no layer for: {', '.join(missing)} (their indicators read no_data)",
        }
    )
    return dataset, checks


def _info(row) -> SnapshotInfo:
    return SnapshotInfo(
        id=row.id,
        year=row.year,
        label=row.label,
        district=row.district_code,
        status=row.status,
        author=row.author,
        created_at=row.created_at,
        digest=row.digest,
        provenance=row.provenance or {},
        meta=row.meta or {},
        retired_at=row.retired_at,
        retired_by=row.retired_by,
    )


class SnapshotRows(StoreCore):
    """Writing a snapshot's rows and reading them back (shared by city and district snapshots)."""

    def _provenance(self, frames, root, parts, checks, author, sources) -> dict:
        rows = {part.name: len(part.wkb) for part in parts}
        files = [
            _file_record(Path(path), rows.get(name)) | {"part": name}
            for name, path in sorted(frames.files.items())
        ]
        return {
            "source": str(root.resolve()) if root else "<frames>",
            "files": files,
            "saved_by": author,
            "saved_at": utc_now(),
            "tool_version": __version__,
            "checks": checks,
            "sources": dict(sources),
        }

    def _insert_snapshot(
        self, parts: list[Part], *, year, label, district, replace, author, meta, provenance, say
    ) -> SnapshotInfo:
        t = self.tables
        digest = hashlib.sha256("".join(part.digest() for part in parts).encode()).hexdigest()
        now = utc_now()
        try:
            with self._write() as connection:
                taken = connection.execute(self._current(year, district)).first()
                if taken is not None and not replace:
                    raise self._taken(taken)
                if not district:
                    clash = connection.execute(
                        sa.select(t.snapshots.c.year).where(
                            t.snapshots.c.label == label,
                            t.snapshots.c.district_code == "",
                            t.snapshots.c.status == "current",
                            t.snapshots.c.year != year,
                        )
                    ).first()
                    if clash is not None:
                        raise SnapshotExistsError(
                            f"The label '{label}' is already the label of the {clash.year} "
                            f"snapshot.",
                            fix="Give this snapshot its own label (snapshots are found by year or "
                            "label).",
                        )
                if taken is not None:
                    connection.execute(
                        sa.update(t.snapshots)
                        .where(t.snapshots.c.id == taken.id)
                        .values(status="replaced", retired_at=now, retired_by=author)
                    )
                    say(f"the {year} snapshot '{taken.label}' is kept in history (replaced)")
                snapshot_id = connection.execute(
                    sa.insert(t.snapshots)
                    .values(
                        year=year,
                        label=label,
                        district_code=district,
                        status="current",
                        author=author,
                        created_at=now,
                        meta=meta,
                        provenance=provenance,
                        digest=digest,
                    )
                    .returning(t.snapshots.c.id)
                ).scalar_one()
                for part in parts:
                    say(f"writing {part.name} ({len(part.wkb)} rows)")
                    self._insert_part(connection, snapshot_id, part)
                say("committing")
        except sa.exc.IntegrityError:
            # Another writer saved the same year between our check and our insert.
            with self._read() as connection:
                taken = connection.execute(self._current(year, district)).first()
            if taken is None:
                raise
            raise self._taken(taken) from None
        return self.snapshot_info(snapshot_id)

    def _current(self, year: int, district: str) -> sa.Select:
        """The current snapshot of a year (the city's, or a district's submission)."""
        t = self.tables
        return sa.select(t.snapshots).where(
            t.snapshots.c.year == year,
            t.snapshots.c.district_code == district,
            t.snapshots.c.status == "current",
        )

    def _taken(self, row) -> SnapshotExistsError:
        what = (
            f"district {row.district_code}'s submission for {row.year}"
            if row.district_code
            else str(row.year)
        )
        return SnapshotExistsError(
            f"The store already has {what}: '{row.label}', saved by {row.author} at "
            f"{row.created_at}.",
            fix="Add --replace to make this the current one (the old one stays in history), "
            "or choose another year.",
        )

    def _insert_part(self, connection, snapshot_id: int, part: Part) -> None:
        t = self.tables
        connection.execute(
            sa.insert(t.parts),
            {
                "snapshot_id": snapshot_id,
                "part": part.name,
                "columns": part.columns,
                "geometry_name": part.geometry_name,
                "crs": part.crs,
                "rows": len(part.wkb),
            },
        )
        kind, _, name = part.name.partition(".")
        value = self.backend.geometry_value
        if kind == "units":
            table, group, key = t.units, "level", "code"
        else:
            table, group, key = t.facilities, "kind", "facility_id"
        rows = [
            {
                "snapshot_id": snapshot_id,
                group: name,
                "position": i,
                key: part.codes[i],
                "name": part.names[i],
                "properties": part.records[i],
                "geom": value(part.wkb[i], part.bounds[i]),
            }
            for i in range(len(part.wkb))
        ]
        for start in range(0, len(rows), 5000):
            connection.execute(sa.insert(table), rows[start : start + 5000])

    def _frames(self, connection, info: SnapshotInfo) -> DatasetFrames:
        t = self.tables
        parts = {
            row.part: row
            for row in connection.execute(
                sa.select(t.parts).where(t.parts.c.snapshot_id == info.id)
            )
        }
        wkb_of = self.backend.wkb_of
        units: dict = {}
        layers: dict = {}
        for table, group, target in (
            (t.units, t.units.c.level, units),
            (t.facilities, t.facilities.c.kind, layers),
        ):
            # Properties come as JSON text, parsed in one call per part; geometries as plain WKB.
            query = (
                sa.select(
                    group,
                    sa.cast(table.c.properties, sa.Text),
                    self.backend.wkb_column(table.c.geom),
                )
                .where(table.c.snapshot_id == info.id)
                .order_by(group, table.c.position)
            )
            rows = connection.execute(query).all()
            prefix = "units." if table is t.units else "layer."
            for name, group_rows in itertools.groupby(rows, key=lambda row: row[0]):
                members = list(group_rows)
                spec = parts[prefix + name]
                target[name] = frame_from_part(
                    spec.columns,
                    spec.geometry_name,
                    spec.crs,
                    json.loads("[" + ",".join(m[1] for m in members) + "]"),
                    [wkb_of(m[2]) for m in members],
                )
            for name, spec in parts.items():  # a part saved with no rows
                if name.startswith(prefix) and name[len(prefix) :] not in target:
                    target[name[len(prefix) :]] = frame_from_part(
                        spec.columns, spec.geometry_name, spec.crs, [], []
                    )
        meta = dict(info.meta.get("dataset_yaml") or {})
        if info.meta.get("name"):
            meta.setdefault("name", info.meta["name"])
        return DatasetFrames(units=units, layers=layers, meta=meta)

    def snapshot_info(self, snapshot_id: int) -> SnapshotInfo:
        t = self.tables
        with self._read() as connection:
            row = connection.execute(
                sa.select(t.snapshots).where(t.snapshots.c.id == snapshot_id)
            ).first()
        if row is None:
            raise NotFoundError(f"No snapshot with id {snapshot_id}.")
        return _info(row)
