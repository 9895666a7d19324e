"""The bulk-move benchmark (``python -m bench.bulk_move``) works, at a small scale: every deal moved
writes one history row and the kept totals stay equal to the live sums."""

import io

import pytest

from bench.bulk_move import bulk_move
from opportunities.tests.factories import OpportunityFactory


@pytest.mark.django_db
def test_bulk_move_at_small_scale(crm_admin, stages):
    for _ in range(30):
        OpportunityFactory(owner=crm_admin, stage=stages["New"])
    result = bulk_move(user=crm_admin, deals=25, out=io.StringIO())
    assert (result["deals"], result["changed"], result["history_rows"], result["refused"]) == (25, 25, 25, 0)
