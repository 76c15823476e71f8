"""The series: the coverage table of every snapshot year in one long table.

A series is the coverage contract (:data:`geo_coverage.coverage.TABLE_COLUMNS`) plus ``year``, one
row per year × unit × indicator.  Each year's dataset is evaluated exactly once (the per-year
tables are what monitoring, the app and the reports reuse); snapshots come from anything that maps
a year to a :class:`~geo_coverage.dataset.Dataset` — folders given per year, the embedded demo
years, or the project store.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import pandas as pd

from ..coverage import TABLE_COLUMNS, evaluate
from ..dataset import Dataset, load_dataset
from ..errors import DataError
from ..plan import Plan

__all__ = [
    "SERIES_COLUMNS",
    "series_from_tables",
    "series_from_datasets",
    "parse_year_dirs",
    "datasets_from_dirs",
    "check_year",
    "LazyDatasets",
]

SERIES_COLUMNS = ["year", *TABLE_COLUMNS]


def check_year(value, *, what: str = "year") -> int:
    """A snapshot year as an int, or a :class:`DataError` saying how to write it."""
    try:
        year = int(str(value).strip())
    except ValueError:
        raise DataError(
            f"'{value}' is not a {what}.", fix="Write a four-digit year such as 2023."
        ) from None
    if not 1900 <= year <= 2200:
        raise DataError(
            f"{year} is not a plausible {what}.", fix="Write a four-digit year such as 2023."
        )
    return year


def series_from_tables(tables: Mapping[int, pd.DataFrame]) -> pd.DataFrame:
    """Stack per-year coverage tables into one series (``year`` first, then the table's columns).

    Parameters
    ----------
    tables
        ``year -> coverage table`` as :func:`geo_coverage.coverage.evaluate` returns it.
    """
    if not tables:
        raise DataError(
            "No snapshot years to monitor.",
            fix="Give at least two years, e.g. --snapshot-dir 2021=DIR --snapshot-dir 2023=DIR.",
        )
    pieces = []
    for year in sorted(tables):
        table = tables[year]
        missing = [c for c in TABLE_COLUMNS if c not in table]
        if missing:
            raise DataError(
                f"The table of {year} lacks the column(s) {missing}.",
                fix="Pass coverage tables as geo_coverage.coverage.evaluate returns them.",
            )
        piece = table[TABLE_COLUMNS].copy()
        piece.insert(0, "year", int(year))
        pieces.append(piece)
    return pd.concat(pieces, ignore_index=True)


def series_from_datasets(
    datasets: Mapping[int, Dataset],
    plan: Plan,
    *,
    levels: Iterable[str] | None = None,
    indicators: Iterable[str] | None = None,
    access_settings=None,
    evaluate_year: Callable[[int, Dataset], pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Evaluate each year's dataset once and stack the tables into a series.

    Parameters
    ----------
    datasets
        ``year -> Dataset``; a lazy mapping (one that loads a year when it is asked for) is read
        one year at a time, so only one year's data need be in memory besides its table.
    plan
        The plan whose indicators are evaluated.
    levels, indicators, access_settings
        As for :func:`geo_coverage.coverage.evaluate`.
    evaluate_year
        ``(year, dataset) -> table`` to use instead of a plain evaluation (the app passes its
        cached evaluation here).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SERIES_COLUMNS`.
    """
    levels = list(levels) if levels else None
    indicators = list(indicators) if indicators else None
    tables = {}
    for year in sorted(datasets):
        dataset = datasets[year]
        if evaluate_year is not None:
            table = evaluate_year(year, dataset)
        else:
            table = evaluate(
                dataset, plan, levels=levels, indicators=indicators, access_settings=access_settings
            )
        tables[year] = table
    return series_from_tables(tables)


def parse_year_dirs(items: Iterable[str]) -> dict[int, Path]:
    """``["2021=DIR", ...]`` → ``{2021: Path(DIR)}``, each checked (a year twice, a missing folder:
    a :class:`DataError` naming the item)."""
    out: dict[int, Path] = {}
    for item in items:
        year_text, sep, folder = str(item).partition("=")
        if not sep or not folder.strip():
            raise DataError(
                f"Bad --snapshot-dir '{item}'.", fix="Write it as YEAR=DIR, e.g. 2023=data/2023."
            )
        year = check_year(year_text, what="snapshot year")
        if year in out:
            raise DataError(
                f"--snapshot-dir gives {year} twice ('{out[year]}' and '{folder}').",
                fix="Give each year once.",
            )
        path = Path(folder.strip())
        if not path.is_dir():
            raise DataError(
                f"The folder for {year} does not exist.",
                file=path,
                fix="Give a data folder with boundaries/ and layers/.",
            )
        out[year] = path
    return out


class LazyDatasets(Mapping):
    """``year -> Dataset`` that loads a year each time it is asked for and keeps nothing, so a
    series over many years holds one year's data at a time."""

    def __init__(self, loaders: Mapping[int, Callable[[], Dataset]]):
        self._loaders = dict(loaders)

    def __getitem__(self, year: int) -> Dataset:
        return self._loaders[year]()

    def __iter__(self):
        return iter(sorted(self._loaders))

    def __len__(self) -> int:
        return len(self._loaders)


def datasets_from_dirs(folders: Mapping[int, Path]) -> Mapping[int, Dataset]:
    """A lazy ``year -> Dataset`` over data folders (see :class:`LazyDatasets`)."""
    return LazyDatasets(
        {year: functools.partial(load_dataset, path) for year, path in folders.items()}
    )
