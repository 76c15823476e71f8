"""Snapshots: a whole dataset saved under a year and a label, with its provenance; and district
submissions, whose union over a base city snapshot is the city's data for that year."""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from .. import __version__
from ..dataset import (
    POPULATION_COLUMNS,
    Dataset,
    DatasetFrames,
    dataset_from_frames,
    read_dataset_frames,
)
from ..errors import DataError
from .errors import NotFoundError, SnapshotExistsError, StoreError
from .frames import Part, frame_from_part, part_from_frame
from .schema import utc_now

__all__ = ["SnapshotInfo", "YearView", "SnapshotsMixin"]

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


class SnapshotsMixin:
    """Snapshot verbs of :class:`~geo_coverage.store.Store`."""

    # --- writing ------------------------------------------------------------------------------

    def add_snapshot(
        self,
        source,
        *,
        year: int,
        label: str | None = None,
        district: str | None = None,
        replace: bool = False,
        author: str | None = None,
        progress: Progress | None = None,
    ) -> SnapshotInfo:
        """Save a data folder (or :class:`~geo_coverage.dataset.DatasetFrames`) as the snapshot of
        ``year``; with ``district``, as that district's submission for the year.

        Everything is checked before anything is written, and the write is one transaction.

        Raises
        ------
        DataError
            The folder is empty, half-filled or breaks the data contract; a district code not in
            the boundaries; facilities outside the submitting district.
        SnapshotExistsError
            The year (district) is taken and ``replace`` is false.  With ``replace`` the old
            snapshot stays in the store's history (status ``replaced``).
        """
        from .base import default_author

        year = _check_year(year)
        author = author or default_author()
        say = progress or (lambda _text: None)
        frames, root = _read_folder(source)
        say(f"read {len(frames.units)} unit files and {len(frames.layers)} layers")
        if district:
            return self._add_district(
                frames,
                root,
                year=year,
                label=label,
                district=str(district).strip(),
                replace=replace,
                author=author,
                say=say,
            )
        label = _check_label(label, year)
        dataset, checks = _city_checks(frames, root)
        parts = _parts(frames)
        provenance = self._provenance(frames, root, parts, checks, author, dataset.provenance())
        meta = {"name": dataset.name, "dataset_yaml": dict(frames.meta or {})}
        return self._insert_snapshot(
            parts,
            year=year,
            label=label,
            district="",
            replace=replace,
            author=author,
            meta=meta,
            provenance=provenance,
            say=say,
        )

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
                taken = connection.execute(
                    sa.select(t.snapshots).where(
                        t.snapshots.c.year == year,
                        t.snapshots.c.district_code == district,
                        t.snapshots.c.status == "current",
                    )
                ).first()
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
                taken = connection.execute(
                    sa.select(t.snapshots).where(
                        t.snapshots.c.year == year,
                        t.snapshots.c.district_code == district,
                        t.snapshots.c.status == "current",
                    )
                ).first()
            if taken is None:
                raise
            raise self._taken(taken) from None
        return self.snapshot_info(snapshot_id)

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

    def remove_snapshot(
        self, ref, *, district: str | None = None, author: str | None = None
    ) -> SnapshotInfo:
        """Take a snapshot out of use (it stays in history with status ``removed``)."""
        from .base import default_author

        t = self.tables
        with self._write() as connection:
            row = self._resolve(connection, ref, district=district)
            connection.execute(
                sa.update(t.snapshots)
                .where(t.snapshots.c.id == row.id)
                .values(
                    status="removed", retired_at=utc_now(), retired_by=author or default_author()
                )
            )
        return self.snapshot_info(row.id)

    # --- reading ------------------------------------------------------------------------------

    def list_snapshots(self, *, history: bool = False) -> list[SnapshotInfo]:
        """Current snapshots (city and district submissions) by year; ``history`` adds the
        replaced and removed ones."""
        t = self.tables
        query = sa.select(t.snapshots).order_by(
            t.snapshots.c.year, t.snapshots.c.district_code, t.snapshots.c.id
        )
        if not history:
            query = query.where(t.snapshots.c.status == "current")
        with self._read() as connection:
            return [_info(row) for row in connection.execute(query)]

    def years(self) -> list[int]:
        """Years that can be loaded (a city snapshot, or district submissions over an earlier
        one)."""
        return sorted({info.year for info in self.list_snapshots()})

    def snapshot_info(self, snapshot_id: int) -> SnapshotInfo:
        t = self.tables
        with self._read() as connection:
            row = connection.execute(
                sa.select(t.snapshots).where(t.snapshots.c.id == snapshot_id)
            ).first()
        if row is None:
            raise NotFoundError(f"No snapshot with id {snapshot_id}.")
        return _info(row)

    def get_snapshot(self, ref, *, district: str | None = None) -> SnapshotInfo:
        """The current snapshot for a year or label (the city's unless ``district`` is given)."""
        with self._read() as connection:
            return _info(self._resolve(connection, ref, district=district))

    def year_view(self, ref) -> YearView:
        """What :meth:`load_snapshot` would combine for a year or label."""
        with self._read() as connection:
            return self._year_view(connection, ref)

    def load_snapshot(self, ref, *, crs=None) -> Dataset:
        """The dataset saved for a year (``2023``) or label (``'2023 mid-term'``).

        A year with district submissions gives the base city snapshot (that year's, else the latest
        earlier one) with each submitting district's units and layers laid over it; its
        ``notes`` name the submissions and the districts missing.
        """
        frames, view = self.load_snapshot_frames(ref)
        return dataset_from_frames(frames, crs=crs, name=frames.meta.get("name", view.label))

    def load_snapshot_frames(self, ref) -> tuple[DatasetFrames, YearView]:
        """The saved frames themselves (WGS84, exactly as read when saved) and what they came
        from."""
        with self._read() as connection:
            view = self._year_view(connection, ref)
            base = self._frames(connection, view.base)
            submissions = [(info, self._frames(connection, info)) for info in view.submissions]
        if not submissions:
            return base, view
        from .districts import overlay

        return overlay(base, submissions, view), view

    def _frames(self, connection, info: SnapshotInfo) -> DatasetFrames:
        t = self.tables
        parts = {
            row.part: row
            for row in connection.execute(
                sa.select(t.parts).where(t.parts.c.snapshot_id == info.id)
            )
        }
        wkb_of = self.backend.wkb_of
        units, layers = {}, {}
        for table, group, target in (
            (t.units, t.units.c.level, units),
            (t.facilities, t.facilities.c.kind, layers),
        ):
            query = (
                sa.select(group, table.c.properties, table.c.geom)
                .where(table.c.snapshot_id == info.id)
                .order_by(group, table.c.position)
            )
            rows = connection.execute(query).all()
            prefix = "units." if table is t.units else "layer."
            for name, members in itertools.groupby(rows, key=lambda row: row[0]):
                members = list(members)
                spec = parts[prefix + name]
                target[name] = frame_from_part(
                    spec.columns,
                    spec.geometry_name,
                    spec.crs,
                    [m[1] for m in members],
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

    def _resolve(self, connection, ref, *, district: str | None = None):
        """The current snapshot row for a year or label (city, or the given district's)."""
        t = self.tables
        text = str(ref).strip()
        current = sa.select(t.snapshots).where(
            t.snapshots.c.status == "current", t.snapshots.c.district_code == (district or "")
        )
        if re.fullmatch(r"\d{4}", text):
            row = connection.execute(current.where(t.snapshots.c.year == int(text))).first()
        else:
            rows = connection.execute(current.where(t.snapshots.c.label == text)).all()
            if len(rows) > 1:
                raise StoreError(
                    f"Several snapshots are labelled '{text}'.", fix="Give the year instead."
                )
            row = rows[0] if rows else None
        if row is None:
            raise self._not_found(connection, text, district)
        return row

    def _not_found(self, connection, text, district) -> NotFoundError:
        t = self.tables
        known = connection.execute(
            sa.select(t.snapshots.c.year, t.snapshots.c.label)
            .where(t.snapshots.c.status == "current", t.snapshots.c.district_code == "")
            .order_by(t.snapshots.c.year)
        ).all()
        listing = "; ".join(f"{row.year} '{row.label}'" for row in known) or "none yet"
        what = f"district {district}'s submission " if district else "snapshot "
        return NotFoundError(
            f"No current {what}for '{text}' in the store {self.location} "
            f"(city snapshots: {listing}).",
            fix="Run `geo-coverage snapshot list` to see the years and labels, "
            "or add one with `geo-coverage snapshot add`.",
        )

    def _year_view(self, connection, ref) -> YearView:
        t = self.tables
        text = str(ref).strip()
        year = int(text) if re.fullmatch(r"\d{4}", text) else None
        if year is None:  # a label names a city snapshot
            row = self._resolve(connection, text)
            year = row.year
        current = sa.select(t.snapshots).where(t.snapshots.c.status == "current")
        submissions = tuple(
            _info(row)
            for row in connection.execute(
                current.where(
                    t.snapshots.c.year == year, t.snapshots.c.district_code != ""
                ).order_by(t.snapshots.c.district_code)
            )
        )
        base = connection.execute(
            current.where(t.snapshots.c.district_code == "", t.snapshots.c.year <= year).order_by(
                t.snapshots.c.year.desc()
            )
        ).first()
        if base is None or (base.year != year and not submissions):
            raise self._not_found(connection, text, None)
        base = _info(base)
        missing: tuple[str, ...] = ()
        if submissions and base.year != year:
            codes = connection.execute(
                sa.select(t.units.c.code)
                .where(t.units.c.snapshot_id == base.id, t.units.c.level == "district")
                .order_by(t.units.c.code)
            ).scalars()
            submitted = {s.district for s in submissions}
            missing = tuple(code for code in codes if code not in submitted)
        return YearView(year=year, base=base, submissions=submissions, missing_districts=missing)


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


def population_delta(old: pd.DataFrame, new: pd.DataFrame) -> dict[str, float]:
    """Σ new − Σ old of each population column both frames have (for the city row of a union)."""
    return {
        c: float(
            pd.to_numeric(new[c], errors="coerce").sum()
            - pd.to_numeric(old[c], errors="coerce").sum()
        )
        for c in POPULATION_COLUMNS
        if c in new and c in old
    }
