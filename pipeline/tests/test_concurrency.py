"""50 people move the same deal at once, on PostgreSQL: every move succeeds or is refused as stale,
nothing is lost or applied twice, and the history has exactly one row per successful move."""

import random
import threading
import time
import traceback

import pytest
from django.db import connection

from core.exceptions import StaleVersionError
from opportunities.models import Opportunity
from opportunities.services import opportunity_move_stage
from opportunities.tests.factories import OpportunityFactory
from pipeline.models import StageChange

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
MOVERS = 50


def test_fifty_concurrent_moves_of_one_deal(rep, stages):
    open_stages = [s for s in stages.values() if s.is_open]
    deal = OpportunityFactory(owner=rep, stage=open_stages[0])
    start = threading.Barrier(MOVERS)
    results, errors = [], []
    lock = threading.Lock()

    def mover(n):
        try:
            start.wait()
            time.sleep(random.random() / 20)  # read at slightly different moments, like people do
            seen = Opportunity.objects.only("version", "stage_id").get(pk=deal.pk)
            target = random.choice([s for s in open_stages if s.pk != seen.stage_id])
            try:
                moved = opportunity_move_stage(
                    opportunity=deal.pk, stage=target, user=rep, expected_version=seen.version
                )
            except StaleVersionError:
                outcome = ("stale", seen.version, None)
            else:
                outcome = ("moved", moved.version, target.pk)
            with lock:
                results.append(outcome)
        except Exception:  # anything else is a bug the test must show
            with lock:
                errors.append(traceback.format_exc())
        finally:
            connection.close()

    threads = [threading.Thread(target=mover, args=(n,)) for n in range(MOVERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors[0] if errors else ""
    assert len(results) == MOVERS
    successes = sorted((version, stage) for kind, version, stage in results if kind == "moved")
    assert successes, "at least the first mover succeeds"
    assert len({version for version, _ in successes}) == len(successes)  # no version applied twice
    deal.refresh_from_db()
    assert deal.version == 1 + len(successes)
    assert deal.stage_id == successes[-1][1]  # the final state is the last successful move
    assert StageChange.objects.filter(opportunity=deal).count() == 1 + len(successes)
    history = list(StageChange.objects.filter(opportunity=deal).order_by("changed_at", "id")[1:])
    assert [h.to_stage_id for h in history] == [stage for _, stage in successes]
    assert_deal_totals_clean()


def assert_deal_totals_clean():
    """``manage.py check_deal_totals`` finds the kept totals equal to the deals after the race."""
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("check_deal_totals", stdout=out)  # raises CommandError on any difference
    assert "equal the deals" in out.getvalue()
