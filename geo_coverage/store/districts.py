"""District submissions: a district saves its own units (population) and facility layers for a
year; the city's data for that year is the base city snapshot (that year's, else the latest
earlier one) with each submitting district's rows laid over it, and the store names the districts
that have not submitted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import sqlalchemy as sa

from ..dataset import POPULATION_COLUMNS, DatasetFrames, dataset_from_frames, locate_points
from ..errors import DataError
from .errors import StoreError
from .rows import SnapshotRows

__all__ = ["DistrictsMixin", "overlay"]


def _district_codes(points: pd.DataFrame, units: Mapping) -> np.ndarray:
    """The district each point falls in ('' outside), from the WGS84 outlines: a street's parent
    where streets exist, else the district polygons (as `dataset.assign_points` decides)."""
    geoms = np.asarray(points.geometry.values)
    out = np.full(len(geoms), "", dtype=object)
    if "street" in units:
        streets = units["street"]
        street = locate_points(geoms, streets)
        parents = dict(
            zip(streets["code"].astype(str), streets["parent_code"].astype(str), strict=True)
        )
        out = np.array([parents.get(code, "") if code else "" for code in street], dtype=object)
    missing = out == ""
    if missing.any() and "district" in units:
        out[missing] = locate_points(
            geoms[missing], units["district"].assign(code=units["district"]["code"].astype(str))
        )
    return out


def _belongs(frame: pd.DataFrame, level: str, district: str) -> np.ndarray:
    if level == "district":
        return (frame["code"].astype(str) == district).to_numpy()
    return (frame["parent_code"].astype(str) == district).to_numpy()


def _ordered_union(
    base: pd.DataFrame, drop: np.ndarray, additions: Sequence[pd.DataFrame]
) -> pd.DataFrame:
    """Base rows kept in their order, a replaced row's new version in its place, new rows last."""
    position = (
        {code: i for i, code in enumerate(base["code"].astype(str))} if "code" in base else {}
    )
    pieces = [base[~drop].assign(_order=np.flatnonzero(~drop).astype(float))]
    for extra, frame in enumerate(additions):
        order = [
            position.get(str(code), len(base) + extra * 1e6 + i)
            for i, code in enumerate(frame["code"])
        ]
        pieces.append(frame.assign(_order=np.asarray(order, dtype=float)))
    out = pd.concat(pieces, ignore_index=True).sort_values("_order", kind="stable")
    return out.drop(columns="_order").reset_index(drop=True).__finalize__(base)


def overlay(base: DatasetFrames, submissions, view) -> DatasetFrames:
    """The base city frames with each ``(info, frames)`` submission's rows in place of its
    district's."""
    import geopandas as gpd

    units = dict(base.units)
    for level in ("district", "street"):
        subs = [
            (info.district, frames.units[level])
            for info, frames in submissions
            if level in frames.units
        ]
        if not subs or level not in units:
            continue
        old = units[level]
        drop = np.zeros(len(old), dtype=bool)
        for district, _ in subs:
            drop |= _belongs(old, level, district)
        new = _ordered_union(old, drop, [frame for _, frame in subs])
        units[level] = gpd.GeoDataFrame(new, geometry=old.geometry.name, crs=old.crs)
        if level == "district" and "city" in units:
            units["city"] = _city_with(units["city"], old[drop], pd.concat([f for _, f in subs]))
    layers = dict(base.layers)
    kinds = sorted({kind for _, frames in submissions for kind in frames.layers})
    for kind in kinds:
        subs = [
            (info.district, frames.layers[kind])
            for info, frames in submissions
            if kind in frames.layers
        ]
        old = layers.get(kind)
        if old is None:
            layers[kind] = gpd.GeoDataFrame(
                pd.concat([f for _, f in subs], ignore_index=True),
                geometry=subs[0][1].geometry.name,
                crs=subs[0][1].crs,
            )
            continue
        where = _district_codes(old, base.units)
        keep = ~np.isin(where, [district for district, _ in subs])
        merged = pd.concat([old[keep]] + [f for _, f in subs], ignore_index=True)
        layers[kind] = gpd.GeoDataFrame(merged, geometry=old.geometry.name, crs=old.crs)
    meta = dict(base.meta)
    notes = dict(meta.get("notes") or {})
    notes["snapshot"] = (
        f"{view.year}: district submissions from "
        f"{', '.join(info.district for info, _ in submissions)} over the "
        f"{view.base.year} city snapshot '{view.base.label}'"
    )
    if view.missing_districts:
        notes["missing_districts"] = (
            f"no {view.year} submission from {', '.join(view.missing_districts)}: "
            f"their data is the {view.base.year} snapshot's"
        )
    meta["notes"] = notes
    return DatasetFrames(units=units, layers=layers, meta=meta)


def _city_with(city: pd.DataFrame, old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """The city row with each population column moved by (new districts − old districts)."""
    city = city.copy()
    for column in POPULATION_COLUMNS:
        if column in city and column in old and column in new:
            delta = pd.to_numeric(new[column]).sum() - pd.to_numeric(old[column]).sum()
            values = city[column].astype(float) + delta
            city[column] = (
                values.astype(city[column].dtype)
                if np.allclose(values, np.round(values))
                else values
            )
    return city


class DistrictsMixin(SnapshotRows):
    """District submissions (:meth:`Store.add_snapshot` with ``district=``)."""

    def _add_district(
        self, frames: DatasetFrames, root, *, year, label, district, replace, author, say
    ):
        from .rows import SnapshotInfo, YearView, _info, _parts

        t = self.tables
        with self._read() as connection:
            row = connection.execute(
                sa.select(t.snapshots)
                .where(
                    t.snapshots.c.status == "current",
                    t.snapshots.c.district_code == "",
                    t.snapshots.c.year <= year,
                )
                .order_by(t.snapshots.c.year.desc())
            ).first()
            if row is None:
                raise StoreError(
                    f"No city snapshot for {year} or before: a district's submission is laid "
                    "over the city's boundaries and data.",
                    fix="Add the city's snapshot first: geo-coverage snapshot add --year YEAR "
                    "--label TEXT DATA_DIR.",
                )
            base_info = _info(row)
            base = self._frames(connection, base_info)
        districts = base.units["district"]
        names = dict(zip(districts["code"].astype(str), districts["name"].astype(str), strict=True))
        if district not in names:
            listing = ", ".join(f"{code} {name}" for code, name in sorted(names.items()))
            raise DataError(
                f"District code '{district}' is not in the boundaries of the {base_info.year} "
                f"snapshot '{base_info.label}'.",
                fix=f"Use one of: {listing}.",
            )
        origin = root or "<submission>"
        if not frames.layers and not frames.units:
            raise DataError(
                "The submission has no boundaries/ or layers/ files.",
                file=origin,
                fix="Put the district's layers/<kind>.geojson (and optionally "
                "boundaries/streets.geojson with its population) in the folder.",
            )
        self._check_submission(frames, base, district, names[district], origin)
        info = SnapshotInfo(0, year, "", district, "current", author, "", "", {}, {})
        view = YearView(year, base_info, (info,), ())
        dataset = dataset_from_frames(
            overlay(base, [(info, frames)], view)
        )  # the union passes the contract
        ids = [f"{kind}: {len(frame)}" for kind, frame in sorted(frames.layers.items())]
        checks = [
            {
                "check": "district code",
                "result": "passed",
                "detail": f"{district} {names[district]} is in the {base_info.year} boundaries",
            },
            {
                "check": "facilities inside the district",
                "result": "passed",
                "detail": ", ".join(ids) or "no layers",
            },
            {
                "check": "union with the city",
                "result": "passed",
                "detail": f"{sum(len(v) for v in dataset.layers.values())} facilities, ids unique "
                "per layer",
            },
        ]
        parts = _parts(frames)
        provenance = self._provenance(frames, root, parts, checks, author, {})
        provenance["base_snapshot"] = {
            "id": base_info.id,
            "year": base_info.year,
            "label": base_info.label,
        }
        label = " ".join(str(label or "").split()) or f"{names[district]} {year}"
        meta = {"name": names[district], "dataset_yaml": dict(frames.meta or {})}
        return self._insert_snapshot(
            parts,
            year=year,
            label=label,
            district=district,
            replace=replace,
            author=author,
            meta=meta,
            provenance=provenance,
            say=say,
        )

    @staticmethod
    def _check_submission(
        frames: DatasetFrames, base: DatasetFrames, district: str, name: str, origin
    ) -> None:
        from pathlib import Path

        if "city" in frames.units:
            raise DataError(
                "A district's submission holds no city outline.",
                file=frames.files.get("units.city"),
                fix="Remove boundaries/city.geojson.",
            )
        for level, frame in frames.units.items():
            file = frames.files.get(f"units.{level}", origin)
            column = "code" if level == "district" else "parent_code"
            if column not in frame:
                raise DataError(
                    f"Missing column '{column}'.",
                    file=file,
                    column=column,
                    fix="Give each unit its code and its district's code (parent_code).",
                )
            foreign = frame[column].astype(str) != district
            if foreign.any():
                row = int(np.flatnonzero(foreign.to_numpy())[0]) + 1
                raise DataError(
                    f"A {level} of another district ({frame[column].iloc[row - 1]}) in "
                    f"{district} {name}'s submission.",
                    file=file,
                    row=row,
                    column=column,
                    fix=f"Submit only {name}'s units.",
                )
            known = set(base.units[level]["code"].astype(str)) if level in base.units else set()
            unknown = sorted(set(frame["code"].astype(str)) - known) if "code" in frame else []
            if unknown:
                raise DataError(
                    f"Unit code(s) not in the city's boundaries: {', '.join(unknown[:5])}.",
                    file=file,
                    column="code",
                    fix="Use the codes of the city snapshot (new boundaries go in a city "
                        "snapshot).",
                )
        for kind, frame in frames.layers.items():
            file = frames.files.get(
                f"layer.{kind}", Path(str(origin)) / "layers" / f"{kind}.geojson"
            )
            where = _district_codes(frame.to_crs(base.units["district"].crs), base.units)
            outside = np.flatnonzero(where != district)
            if len(outside):
                first = outside[0]
                ident = frame["id"].iloc[first] if "id" in frame else first + 1
                raise DataError(
                    f"{len(outside)} facilities lie outside {district} {name} (first: id "
                    f"'{ident}', in {where[first] or 'no district'}).",
                    file=file,
                    row=int(first) + 1,
                    fix=f"Submit only the facilities inside {name}, or check their coordinates' "
                        f"datum.",
                )
            if "id" in frame:
                ids = frame["id"].astype(str)
                base_layer = base.layers.get(kind)
                if base_layer is not None:
                    others = base_layer[_district_codes(base_layer, base.units) != district]
                    clash = sorted(set(ids) & set(others["id"].astype(str)))
                    if clash:
                        raise DataError(
                            f"Facility id(s) {', '.join(clash[:5])} already belong to other "
                            "districts' facilities of this layer.",
                            file=file,
                            column="id",
                            fix=f"Give {name}'s facilities their own ids (e.g. prefix "
                                f"{district}-).",
                        )
