"""Recognising a file's columns: the alias tables (Chinese and English headers), ``--column-map``,
and the header row of a table with a title above it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import DataError
from .problems import Problem

__all__ = ["FACILITY_HEADERS", "BOUNDARY_HEADERS", "parse_column_map"]

FACILITY_HEADERS: dict[str, tuple[str, ...]] = {
    "id": ("id", "编号", "机构编号", "机构代码", "设施编号", "统一社会信用代码", "序号", "no", "identifier"),
    "name": ("name", "名称", "机构名称", "单位名称", "设施名称", "名字", "机构"),
    "lon": ("lon", "lng", "long", "longitude", "经度", "x", "东经", "gcj_lng", "wgs84_lng"),
    "lat": ("lat", "latitude", "纬度", "y", "北纬", "gcj_lat", "wgs84_lat"),
    "wkt": ("wkt", "geometry", "geom", "the_geom", "几何", "坐标wkt"),
    "address": ("address", "地址", "详细地址", "机构地址"),
    "status": ("status", "状态", "运营状态"),
    "beds": ("beds", "床位数", "床位", "床位总数", "核定床位数", "养老床位数"),
    "nursing_beds": ("nursing_beds", "护理床位", "护理型床位", "护理型床位数", "护理床位数"),
    "places": ("places", "托位数", "托位", "学位数", "学位", "核定托位数"),
    "inclusive_places": ("inclusive_places", "普惠托位", "普惠性托位", "普惠托位数", "普惠学位"),
    "medical_integration": ("medical_integration", "医养结合"),
    "level": ("level", "级别", "等级"),
    "host_hospital": ("host_hospital", "依托医院"),
    "venue_type": ("venue_type", "场所类型", "类型"),
    "has_mother_baby_room": ("has_mother_baby_room", "是否设母婴室", "有无母婴室", "母婴室"),
    "community_code": ("community_code", "社区代码", "社区编码"),
    "social_workers": ("social_workers", "社工人数", "社会工作者"),
    "child_supervisors": ("child_supervisors", "儿童督导员"),
    "paediatric_beds": ("paediatric_beds", "pediatric_beds", "儿科床位", "儿科床位数"),
    "paediatricians": ("paediatricians", "pediatricians", "儿科医生", "儿科医师数", "儿科医生数"),
    "child_health_doctors": ("child_health_doctors", "儿童保健医生", "儿保医生"),
    # The street a register says a facility is in: strong evidence for the datum check.
    "unit": ("street", "street_code", "street_name", "街道", "所属街道", "所在街道", "街道代码", "乡镇街道",
             "街乡", "街道(乡镇)"),
}
# Shapefile fields are cut to 10 characters, so the cut names are aliases too.
BOUNDARY_HEADERS: dict[str, tuple[str, ...]] = {
    "code": ("code", "区划代码", "行政区划代码", "代码", "编码", "adcode", "street_code", "district_code"),
    "name": ("name", "名称", "区划名称", "街道名称", "街道", "区名", "name_zh"),
    "name_en": ("name_en", "英文名", "english_name"),
    "parent_code": ("parent_code", "parent_cod", "上级代码", "上级区划代码", "parent", "所属区代码"),
    "pop_total": ("pop_total", "population", "常住人口", "人口", "总人口", "pop"),
    "pop_0_2": ("pop_0_2", "0-2岁", "0~2岁", "0-2岁人口", "0至2岁"),
    "pop_0_14": ("pop_0_14", "0-14岁", "0~14岁", "0-14岁人口", "0至14岁"),
    "pop_60_plus": ("pop_60_plus", "pop_60_plu", "60岁及以上", "60岁以上", "60岁及以上人口"),
    "pop_65_plus": ("pop_65_plus", "pop_65_plu", "65岁及以上", "65岁以上", "65岁及以上人口"),
}


def normalise_header(text: Any) -> str:
    """A header as compared with the aliases: trimmed, lower case, no spaces, underscores,
    full-width brackets or trailing units in brackets ("床位数(张)", "经度(°)")."""
    value = str(text).replace("\ufeff", "").strip().lower()
    value = value.replace("（", "(").replace("）", ")").replace(" ", "").replace("_", "")
    value = re.sub(r"\(.*?\)$", "", value)
    return value


def parse_column_map(text: str | Mapping[str, str] | None) -> dict[str, str]:
    """Read a column mapping as ``--column-map`` gives it.

    Parameters
    ----------
    text
        ``"code=区划代码,name=名称"``, a mapping, or ``None``.

    Returns
    -------
    dict
        Target name → the file's header, e.g. ``{'code': '区划代码', 'name': '名称'}``.

    Raises
    ------
    DataError
        A part has no ``=``.
    """
    if not text:
        return {}
    if isinstance(text, Mapping):
        return {str(k).strip(): str(v).strip() for k, v in text.items()}
    mapping = {}
    for part in str(text).split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise DataError(f"Column mapping '{part}' has no '='.",
                            fix="Write it as target=source, e.g. code=区划代码,name=名称.")
        target, source = part.split("=", 1)
        mapping[target.strip()] = source.strip()
    return mapping


def resolve_columns(columns: Sequence, aliases: Mapping[str, Sequence[str]], column_map: Mapping[str, str],
                    *, origin: str | Path, require_mapped: bool = True) -> tuple[dict[str, str], list[Problem]]:
    """Map canonical names to the file's headers: explicit mapping first, then the alias table."""
    problems: list[Problem] = []
    present = {str(c): normalise_header(c) for c in columns}
    found: dict[str, str] = {}
    for target, source in column_map.items():
        if source in present:
            found[target] = source
        elif require_mapped:
            problems.append(Problem("error", f"The mapped column '{source}' (for {target}) is not in the file.",
                                    file=str(origin), column=source,
                                    fix=f"Use one of the file's headers: {', '.join(map(str, columns))}."))
    taken = set(found.values())
    for target, names in aliases.items():
        if target in found:
            continue
        keys = {normalise_header(n) for n in names}
        for original, normalised in present.items():
            if original not in taken and normalised in keys:
                found[target] = original
                taken.add(original)
                break
    return found, problems


def unused_mappings(column_map: str | Mapping[str, str] | None, report: Mapping[str, Any]) -> list[Problem]:
    """One --column-map serves every file: a mapping is an error only if no file has its header."""
    used = {header for part in report.values() if isinstance(part, Mapping)
            for header in (part.get("column_map") or {}).values()}
    return [Problem("error", f"The mapped column '{source}' (for {target}) is in none of the files.",
                    column=source, fix="Check the header's spelling in --column-map.")
            for target, source in parse_column_map(column_map).items() if source not in used]


@lru_cache(maxsize=1)
def _known_headers() -> frozenset[str]:
    return frozenset(normalise_header(n) for table in (FACILITY_HEADERS, BOUNDARY_HEADERS)
                     for names in table.values() for n in names)


def header_row(grid: pd.DataFrame) -> int | None:
    """The first of the first ten rows with at least two recognised header cells."""
    known = _known_headers()
    for position in range(min(10, len(grid))):
        cells = {normalise_header(c) for c in grid.iloc[position].tolist() if str(c).strip()}
        if len(cells & known) >= 2:
            return position
    return None


def cell_header(value: Any, position: int) -> str:
    """A header cell as a column name; a blank one is named by its position."""
    text = str(value).replace("\ufeff", "").strip()
    return text if text and not text.startswith("Unnamed:") else f"column {position + 1}"


def duplicate_header_problems(info: Mapping[str, Any], *, file: str) -> list[Problem]:
    """An error per header the table repeats (see ``parse_table``'s ``duplicate_headers``)."""
    return [Problem("error", f"The header '{header}' appears more than once, so which column is meant is unclear.",
                    file=file, row=int(info.get("first_row", 2)) - 1, column=header,
                    fix="Rename or delete the extra column.") for header in info.get("duplicate_headers", ())]
