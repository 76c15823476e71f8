"""Siting on a dataset (geo_coverage.siting): checks made before any model is built.

The models themselves are tested in test_optimize.py, the verb end to end in test_cli_scenario.py.
"""

from __future__ import annotations

import dataclasses

import pytest

from geo_coverage import optimize, siting
from geo_coverage.errors import ScenarioError
from geo_coverage.plan import default_plan


def test_an_access_indicator_without_a_population_group_is_refused_clearly(tiny_city):
    # load_plan insists on a population group for access indicators; one built in code may lack
    # it, and the optimiser would then fail with a KeyError deep in the demand grid.
    plan = default_plan()
    indicators = tuple(
        dataclasses.replace(i, population=None) if i.id == "mother_baby_room_access" else i
        for i in plan.indicators
    )
    plan = dataclasses.replace(plan, indicators=indicators)
    with pytest.raises(ScenarioError, match="names no population group"):
        siting.propose_sites(
            tiny_city, plan, indicator="mother_baby_room_access", new_sites=1, spacing=250
        )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"kind": "elderly_care"}, "counts 'mother_baby_room', not 'elderly_care'"),
        ({"new_sites": 0}, "whole number ≥ 1, not 0"),
        ({"new_sites": 1.5}, "whole number ≥ 1, not 1.5"),
        ({"model": "pmedian2"}, "Unknown model 'pmedian2'"),
        ({"model": "capacity_gap"}, "needs a ratio or count indicator"),
    ],
)
def test_requests_that_do_not_fit_the_indicator_are_refused(tiny_city, options, message):
    request = {"indicator": "mother_baby_room_access", "new_sites": 1, "spacing": 250, **options}
    with pytest.raises(ScenarioError, match=message):
        siting.propose_sites(tiny_city, default_plan(), **request)


def test_siting_hands_out_the_optimisers_edit_writer():
    assert siting.solution_to_edits is optimize.solution_to_edits
    assert set(siting.MODELS) == {"mclp", "lscp", "pmedian", "pcenter", "capacity_gap"}
