"""English street names: pinyin of the name stem plus the unit type."""

from __future__ import annotations

STREET_NAME_SUFFIXES_EN = (
    ("街道", "Subdistrict"),
    ("地区", "Area"),
    ("回族乡", "Hui Ethnic Township"),
    ("满族乡", "Manchu Ethnic Township"),
    ("镇", "Town"),
    ("乡", "Township"),
)
STREET_STEMS_EN = {
    "朝阳门": "Chaoyangmen",
    "什刹海": "Shichahai",
    "大栅栏": "Dashilan",
    "长辛店": "Changxindian",
    "长阳": "Changyang",
    "长沟": "Changgou",
    "长子营": "Changziying",
    "长哨营": "Changshaoying",
    "佛子庄": "Fozizhuang",
    "首都机场": "Capital Airport",
    "西长安街": "Xichang'anjie",
}
STREET_NAMES_EN = {
    "北京经济技术开发区": "Beijing Economic-Technological Development Area",
    "中关村国家自主创新示范区大兴生物医药产业基地": "Zhongguancun Daxing Biomedicine Industry Base",
    "国家新媒体产业基地": "National New Media Industry Base",
    "北京雁栖经济开发区": "Beijing Yanqi Economic Development Area",
    "北京密云经济开发区": "Beijing Miyun Economic Development Area",
}


def street_name_en(name: str) -> str:
    """An English name such as 'Donghuamen Subdistrict' for 东华门街道 (pinyin of the stem)."""
    from pypinyin import Style, lazy_pinyin  # build-time only (in the test extra)

    if name in STREET_NAMES_EN:
        return STREET_NAMES_EN[name]
    stem, kind = name, ""
    for suffix, english in STREET_NAME_SUFFIXES_EN:
        if name.endswith(suffix) and len(name) > len(suffix):
            stem, kind = name[: -len(suffix)], english
            break
    words = (
        STREET_STEMS_EN.get(stem)
        or "".join(lazy_pinyin(stem, style=Style.NORMAL, v_to_u=True)).capitalize()
    )
    return f"{words} {kind}".strip()
