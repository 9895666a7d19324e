from types import SimpleNamespace

import pytest

from bench.scenarios import imports as scenario_module
from opportunities.tests.factories import OpportunityFactory


@pytest.mark.django_db
def test_import_bench_scenarios_run(client, crm_admin, pipeline):
    OpportunityFactory(owner=crm_admin)
    client.force_login(crm_admin)
    ctx = SimpleNamespace(client=client, user=crm_admin, pipeline=pipeline, opportunity_ids=[])
    for _name, run in scenario_module.scenarios(ctx):
        assert run().status_code == 200
