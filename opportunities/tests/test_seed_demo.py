from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import Team, User
from opportunities.models import Opportunity, OpportunityChange
from pipeline.models import StageChange

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_a_believable_data_set_once():
    out = StringIO()
    call_command("seed_demo", deals=40, stdout=out)
    assert "Demo data loaded" in out.getvalue()
    assert "manager   / crm-demo-manager" in out.getvalue()

    manager = User.objects.get(username="manager")
    assert manager.check_password("crm-demo-manager")
    assert Team.objects.get(name="Nord").manager == manager
    assert User.objects.filter(team__name="Nord", role="rep").count() == 2
    assert Opportunity.objects.count() == 40
    statuses = set(Opportunity.objects.values_list("status", flat=True))
    assert statuses == {"open", "won", "lost"}
    assert Opportunity.objects.values("pipeline").distinct().count() == 2
    # Every deal has its history, starting with its first stage.
    assert StageChange.objects.filter(from_stage=None).count() == 40
    # Amounts are known at creation: the timeline does not show "amount 0 → …" dated today.
    assert not OpportunityChange.objects.filter(field="amount").exists()
    assert all(deal.amount == sum(line.net_total for line in deal.lines.all()) for deal in Opportunity.objects.all())
    # Custom fields an Italian company asks for, with values (customfields).
    from contacts.models import Organization
    from customfields.models import CustomField

    assert set(CustomField.objects.values_list("key", flat=True)) == {
        "settore",
        "codice_sdi",
        "pec",
        "budget_approvato",
    }
    assert all(deal.custom_fields.get("settore") for deal in Opportunity.objects.all())
    assert all(org.custom_fields.get("pec", "").endswith("@pec.example.it") for org in Organization.objects.all())
    # Some open deals are stale on the board, not all of them.
    open_deals = list(Opportunity.objects.filter(status="open").select_related("stage"))
    stale = sum(deal.is_stale for deal in open_deals)
    assert 0 < stale < len(open_deals)

    # A few quotes, in more than one state, with their lines (issue 16: the demo had none).
    from quotes.models import Quote

    assert 5 <= Quote.objects.count() <= 8
    assert {"draft", "sent"} <= set(Quote.objects.values_list("status", flat=True))
    assert all(quote.lines.exists() for quote in Quote.objects.all())

    again = StringIO()
    call_command("seed_demo", deals=40, stdout=again)
    assert "already loaded" in again.getvalue()
    assert Opportunity.objects.count() == 40
