"""Snapshots: a whole dataset saved under a year and a label, with its provenance; and district
submissions, whose union over a base city snapshot is the city's data for that year."""

from __future__ import annotations

import re

import sqlalchemy as sa

from ..dataset import Dataset, DatasetFrames, dataset_from_frames
from .districts import DistrictsMixin
from .errors import NotFoundError, StoreError
from .rows import (
    Progress,
    SnapshotInfo,
    YearView,
    _check_label,
    _check_year,
    _city_checks,
    _info,
    _parts,
    _read_folder,
)
from .schema import utc_now

__all__ = ["SnapshotInfo", "YearView", "SnapshotsMixin"]


class SnapshotsMixin(DistrictsMixin):
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
        # The metric CRS the checks chose, so a load need not estimate it again (same result).
        meta = {
            "name": dataset.name,
            "dataset_yaml": dict(frames.meta or {}),
            "crs": _crs_text(dataset.crs),
        }
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
        if crs is None and view.base.meta.get("crs") and not frames.meta.get("crs"):
            from pyproj import CRS

            crs = CRS.from_user_input(view.base.meta["crs"])
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


def _crs_text(crs) -> str | None:
    """``EPSG:32650`` when the CRS has an EPSG code, else its WKT (``None`` if it has neither)."""
    from pyproj import CRS

    try:
        crs = CRS.from_user_input(crs)
    except Exception:  # noqa: BLE001 - an unusual CRS is estimated again at load
        return None
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.to_wkt()
