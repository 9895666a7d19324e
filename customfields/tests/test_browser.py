"""In the real browser, in Italian (issue 17): an administrator adds a single-choice field, a rep
fills it on a deal, filters the board by it, and a manager groups the won/lost report by it."""

import pytest

from customfields.models import CustomField
from opportunities.models import Opportunity
from opportunities.tests.factories import OpportunityFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHOICES = "\n".join(
    [
        "manifattura | Manifattura | Manufacturing",
        "servizi | Servizi | Services",
        "pa | Pubblica amministrazione | Public sector",
    ]
)


def test_a_choice_field_from_its_definition_to_the_board_filter_and_the_won_lost_report(
    browser, italian, live_server, login, crm_admin, manager, rep, stages, lost_reason, screenshot
):
    from conftest import checked_tab

    deal = OpportunityFactory(owner=rep, name="Fornitura uffici", stage=stages["New"])
    OpportunityFactory(owner=rep, name="Altro affare", stage=stages["New"])

    # The administrator defines "Settore" on deals, shown on the board's cards.
    admin = italian
    login(admin, crm_admin)
    admin.goto(f"{live_server.url}/settings/custom-fields/new/")
    admin.select_option("#id_entity", "deal")
    admin.fill("#id_key", "settore")
    admin.fill("#id_label_it", "Settore")
    admin.fill("#id_label_en", "Sector")
    admin.select_option("#id_type", "choice")
    admin.fill("#id_choices", CHOICES)
    admin.check("#id_on_card")
    screenshot(admin, "customfields-definition-it")
    admin.click("form.card button[type=submit]")
    admin.wait_for_url(f"{live_server.url}/settings/custom-fields/")
    assert CustomField.objects.get(key="settore").active_choices()[1] == ("servizi", "Services")

    with checked_tab(browser, locale="it-IT") as tab:
        # The rep fills it on the deal's form.
        login(tab, rep)
        tab.goto(f"{live_server.url}/opportunities/{deal.pk}/edit/")
        tab.select_option("[name='custom_fields.settore']", "servizi")
        tab.click("form button[type=submit].btn-primary")
        tab.wait_for_url(f"{live_server.url}/opportunities/{deal.pk}/")
        assert "Servizi" in tab.locator("main").inner_text()
        assert Opportunity.objects.get(pk=deal.pk).custom_fields["settore"] == "servizi"

        # ... and filters the board by it: only that deal is left, with the value on its card.
        tab.goto(f"{live_server.url}/pipeline/")
        tab.select_option("#board-filters [name=cf_settore]", "servizi")
        tab.click("#board-filters button[type=submit]")
        tab.wait_for_url("**cf_settore=servizi**")
        cards = tab.locator("[data-opportunity-id]")
        assert cards.count() == 1
        assert "Fornitura uffici" in cards.first.inner_text()
        assert "Servizi" in cards.first.locator("[data-testid=card-custom-fields]").inner_text()
        screenshot(tab, "customfields-board-filter-it")

    # The deal is won; the manager groups the won/lost report by Settore.
    from opportunities.services import opportunity_move_stage

    opportunity_move_stage(opportunity=deal.pk, stage=stages["Won"], user=rep)
    OpportunityFactory(owner=rep, name="Perso", stage=stages["Lost"], lost_reason=lost_reason)
    with checked_tab(browser, locale="it-IT") as tab:
        login(tab, manager)
        tab.goto(f"{live_server.url}/reports/won-lost/")
        tab.select_option("[name=group_by]", "cf_settore")
        tab.locator("[name=group_by]").evaluate("select => select.form.requestSubmit()")
        tab.wait_for_url("**group_by=cf_settore**")
        table = tab.locator("main table").first.inner_text()
        assert "Servizi" in table and "Nessun valore" in table
        screenshot(tab, "customfields-won-lost-by-settore-it")
