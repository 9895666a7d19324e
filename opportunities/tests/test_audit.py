"""The audit trail: who changed which field of a deal, from what to what, and when."""

from decimal import Decimal

import pytest
from django.urls import reverse

from opportunities.models import OpportunityChange
from opportunities.services import opportunity_archive, opportunity_move_stage, opportunity_restore, opportunity_update
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db


def test_each_changed_field_is_recorded_with_old_new_who_and_when(rep, manager, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"], amount=Decimal("1000.00"), next_step="Call")

    opportunity_update(
        opportunity=deal,
        user=manager,
        data={"amount": Decimal("1500.00"), "next_step": "Send quote", "name": deal.name},
    )

    rows = {c.field: c for c in OpportunityChange.objects.filter(opportunity=deal)}
    assert set(rows) == {"amount", "next_step"}  # the unchanged name is not recorded
    assert (rows["amount"].old_value, rows["amount"].new_value) == ("1000.00", "1500.00")
    assert (rows["next_step"].old_value, rows["next_step"].new_value) == ("Call", "Send quote")
    assert rows["amount"].changed_by == manager and rows["amount"].changed_at is not None


def test_archive_and_restore_are_on_the_trail(rep, manager, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    opportunity_archive(opportunity=deal, user=rep)
    opportunity_restore(opportunity=deal, user=manager)

    trail = list(OpportunityChange.objects.filter(opportunity=deal).values_list("field", "new_value", "changed_by"))
    assert trail == [("archived", "yes", rep.pk), ("archived", "no", manager.pk)]


def test_the_deal_page_shows_one_timeline_of_moves_and_edits(client, rep, manager, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"], amount=Decimal("1000.00"))
    opportunity_move_stage(opportunity=deal, stage=stages["Qualifying"], user=rep)
    opportunity_update(opportunity=deal, user=manager, data={"amount": Decimal("2500.00")})
    client.force_login(manager)

    html = client.get(reverse("opportunities:detail", args=[deal.pk])).content.decode()

    timeline = html[html.index('data-testid="timeline"') :]
    assert "Moved from New to Qualifying" in timeline and "Created in New" in timeline
    assert "Amount" in timeline and "1,000.00" in timeline and "2,500.00" in timeline
    assert timeline.index("2,500.00") < timeline.index("Moved from New to Qualifying")  # newest first


def test_the_timeline_shows_amounts_and_dates_in_the_readers_format(client, rep, stages):
    import datetime

    from django.utils import translation

    deal = OpportunityFactory(owner=rep, stage=stages["New"], amount=Decimal("70200.00"), expected_close_date=None)
    opportunity_update(
        opportunity=deal,
        user=rep,
        data={"amount": Decimal("1234.50"), "expected_close_date": datetime.date(2026, 12, 31)},
    )
    client.force_login(rep)

    with translation.override("it"):
        html = client.get(reverse("opportunities:detail", args=[deal.pk]), HTTP_ACCEPT_LANGUAGE="it").content.decode()

    timeline = html[html.index('data-testid="timeline"') :]
    assert "70.200,00" in timeline and "1.234,50" in timeline and "31/12/2026" in timeline
    assert "70200.00" not in timeline and "2026-12-31" not in timeline
