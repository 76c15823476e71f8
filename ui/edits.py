"""A scenario edit described fully, in one language: what, how much, and where.

"新增养老机构 200 床 · 高碑店镇（朝阳区）", "add an elderly-care institution with 1 bed · Gaobeidian
(Chaoyang District)": the kind's name (singular in English, with its article), each capacity in
its own unit with the right plural, and the street and district the site stands in (found from the
coordinates, or from the facility's place in the data), not the coordinates; attributes a kind
does not have are never shown.
"""

from __future__ import annotations

import geopandas as gpd
import shapely

from geo_coverage import datum as datum_module
from geo_coverage import scenario as sc
from geo_coverage.dataset import Dataset
from geo_coverage.plan import Plan
from geo_coverage.viz import format_number

from .i18n import ATTRIBUTES, LEVELS, label

__all__ = ["describe_edit", "quantity", "place_of", "kind_name", "ATTRIBUTE_UNITS", "KIND_ONE_EN"]

# attribute → (Chinese counter, English singular, English plural).
ATTRIBUTE_UNITS = {
    "beds": ("床", "bed", "beds"),
    "nursing_beds": ("张护理型床位", "nursing bed", "nursing beds"),
    "places": ("个托位", "place", "places"),
    "inclusive_places": ("个普惠托位", "inclusive place", "inclusive places"),
    "social_workers": ("名社会工作者", "social worker", "social workers"),
    "child_supervisors": ("名儿童督导员", "child supervisor", "child supervisors"),
    "paediatric_beds": ("张儿科床位", "paediatric bed", "paediatric beds"),
    "paediatricians": ("名儿科医生", "paediatrician", "paediatricians"),
    "child_health_doctors": ("名儿童保健医生", "child-health doctor", "child-health doctors"),
}
# One facility of each kind in English, with its article (the plan names kinds in the plural).
KIND_ONE_EN = {
    "elderly_care": "an elderly-care institution",
    "neonatal_centre": "a critical-newborn rescue centre",
    "child_welfare": "a child welfare institution",
    "childcare": "a childcare centre (under-3s)",
    "mother_baby_room": "a mother-baby room",
    "public_venue": "a public venue",
    "children_home": "a children's home",
    "minor_protection_station": "a minor-protection station",
    "child_service_org": "a child-service social organisation",
    "hospital": "a hospital (paediatrics)",
    "community_health_centre": "a community health service centre",
    "kindergarten": "a kindergarten",
    "community": "a community",
}


def kind_name(plan: Plan, kind: str, language: str, *, one: bool = False) -> str:
    """The kind's name; ``one``: a single facility ("an elderly-care institution") in English."""
    spec = plan.kinds.get(kind)
    if language == "zh":
        return spec.name_zh if spec else kind
    if one:
        return KIND_ONE_EN.get(kind) or f"a {spec.name_en if spec else kind} facility"
    return spec.name_en if spec else kind


def quantity(attribute: str, value, language: str) -> str:
    """"200 床", "1 bed", "2 beds": a capacity in its unit, plural as the number needs."""
    number = float(value)
    text = format_number(number, language=language, digits=0 if number.is_integer() else 1)
    zh, one, many = ATTRIBUTE_UNITS.get(
        attribute, (label(ATTRIBUTES.get(attribute, (attribute, attribute)), "zh"),
                    attribute.replace("_", " "), attribute.replace("_", " ")))
    if language == "zh":
        return f"{text} {zh}"
    return f"{text} {one if number == 1 else many}"


def _capacities(attributes, language: str) -> list[str]:
    """The numeric attributes as quantities; true flags by their name; texts left out."""
    out = []
    for attribute, value in (attributes or {}).items():
        if isinstance(value, bool):
            if value:
                words = ATTRIBUTES.get(attribute, (attribute, attribute.replace("_", " ")))
                out.append(label(words, language))
        elif isinstance(value, (int, float)):
            out.append(quantity(attribute, value, language))
    return out


def _unit_label(units, code: str, language: str) -> str:
    if units is None or code not in units.index:
        return ""
    column = "name_en" if language != "zh" and "name_en" in units else "name"
    name = units.at[code, column]
    if not isinstance(name, str) or not name.strip():
        name = units.at[code, "name"]
    return str(name)


def _street_and_district(dataset: Dataset, street: str | None, district: str | None,
                         language: str) -> str | None:
    streets, districts = dataset.units.get("street"), dataset.units.get("district")
    street_name = _unit_label(streets, street, language) if street else ""
    if not district and street and streets is not None and street in streets.index:
        district = str(streets.at[street, "parent_code"])
    district_name = _unit_label(districts, district, language) if district else ""
    if street_name and district_name:
        return (f"{street_name}（{district_name}）" if language == "zh"
                else f"{street_name} ({district_name})")
    return street_name or district_name or None


def place_of(dataset: Dataset | None, lon: float, lat: float, datum: str,
             language: str) -> str | None:
    """The street and district a point stands in ("高碑店镇（朝阳区）"), or None outside them."""
    if dataset is None:
        return None
    wlon, wlat = datum_module.to_wgs84(lon, lat, datum)
    point = gpd.GeoSeries([shapely.Point(float(wlon), float(wlat))], crs=4326).to_crs(dataset.crs)
    for level in ("street", "district"):
        units = dataset.units.get(level)
        if units is None:
            continue
        hits = units.sindex.query(point.iloc[0], predicate="intersects")
        if len(hits):
            code = str(units.index[hits[0]])
            return (_street_and_district(dataset, code, None, language) if level == "street"
                    else _street_and_district(dataset, None, code, language))
    return None


def _facility(dataset: Dataset | None, kind: str, facility_id: str, language: str):
    """(name, place) of an existing facility, or (None, None) when the data lacks it."""
    layer = dataset.layer(kind) if dataset is not None else None
    if layer is None:
        return None, None
    rows = layer[layer["id"].astype(str) == str(facility_id)]
    if rows.empty:
        return None, None
    row = rows.iloc[0]
    name = str(row["name"]) if isinstance(row.get("name"), str) and row["name"].strip() else None
    place = _street_and_district(dataset, row.get("street_code"), row.get("district_code"),
                                 language)
    return name, place


def describe_edit(edit: sc.Edit, plan: Plan, language: str, dataset: Dataset | None = None) -> str:
    """One line for an edit in ``language``: what, how much and where (see the module)."""
    zh = language == "zh"
    if isinstance(edit, sc.AddFacility):
        amounts = _capacities(edit.attributes, language)
        where = place_of(dataset, edit.lon, edit.lat, edit.datum, language) or (
            f"{edit.lon:.5f}, {edit.lat:.5f}（{edit.datum}）" if zh
            else f"{edit.lon:.5f}, {edit.lat:.5f} ({edit.datum})")
        name = f"「{edit.name}」" if zh and edit.name else f" '{edit.name}'" if edit.name else ""
        if zh:
            return f"新增{kind_name(plan, edit.kind, language)}{name}" + (
                f" {'，'.join(amounts)}" if amounts else "") + f" · {where}"
        return (f"add {kind_name(plan, edit.kind, language, one=True)}{name}"
                + (f" with {', '.join(amounts)}" if amounts else "") + f" · {where}")
    if isinstance(edit, (sc.RemoveFacility, sc.ChangeFacility)):
        name, place = _facility(dataset, edit.kind, edit.id, language)
        what = f"「{name or edit.id}」" if zh else f"'{name or edit.id}'"
        kind = (kind_name(plan, edit.kind, language) if zh
                else "the " + kind_name(plan, edit.kind, language, one=True).split(" ", 1)[1])
        suffix = f" · {place}" if place else ""
        if isinstance(edit, sc.RemoveFacility):
            return f"撤除{kind}{what}{suffix}" if zh else f"remove {kind} {what}{suffix}"
        amounts = _capacities(edit.attributes, language)
        if zh:
            return f"调整{kind}{what}为 {'，'.join(amounts)}{suffix}" if amounts else \
                f"调整{kind}{what}{suffix}"
        return (f"change {kind} {what} to {', '.join(amounts)}{suffix}" if amounts
                else f"change {kind} {what}{suffix}")
    level = label(LEVELS.get(edit.level, (edit.level, edit.level)), language)
    units = dataset.units.get(edit.level) if dataset is not None else None
    name = _unit_label(units, edit.code, language)
    unit = f"{name}（{edit.code}）" if zh and name else f"{name} ({edit.code})" if name \
        else f"「{edit.code}」"
    if zh:
        how = (f"×{edit.factor:g}" if edit.factor is not None
               else f"按年增长 {edit.annual_growth:+.2%} 至 {edit.year} 年")
        return f"{level}{unit}人口{how}"
    how = (f"×{edit.factor:g}" if edit.factor is not None
           else f"{edit.annual_growth:+.2%}/year to {edit.year}")
    return f"population of {level.lower()} {unit} {how}"
