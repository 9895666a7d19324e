"""The deal page in a real browser: the stage bar (lost with its reason, won with its confirmation),
an in-place edit and its conflict, and the autocomplete of an organization, a contact and an owner."""

from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from contacts.tests.factories import ContactFactory, OrganizationFactory
from opportunities.models import Opportunity
from opportunities.services import opportunity_update
from opportunities.tests.factories import OpportunityFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/tmp/deal-page-shots")


def shot(tab, name):
    SHOTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_the_stage_bar_moves_asks_a_lost_reason_and_confirms_won(page, live_server, login, rep, stages, lost_reason):
    deal = OpportunityFactory(owner=rep, stage=stages["New"], name="Tablet per la rete vendita")
    login(page, rep)
    page.goto(f"{live_server.url}{deal.get_absolute_url()}")
    history = page.locator("[data-testid=stage-history] tbody tr")

    page.click("[data-fragment=stages] button:has-text('Qualifying')")
    expect(page.locator("[data-fragment=stages] [aria-current=step]")).to_contain_text("Qualifying")
    expect(history).to_have_count(2)
    assert Opportunity.objects.get(pk=deal.pk).stage == stages["Qualifying"]

    # Lost: the question comes first; cancelling it moves nothing.
    page.click("[data-testid=deal-lost]")
    expect(page.locator("#lost-modal")).to_be_visible()
    page.click("#lost-modal button.btn-outline-secondary")
    expect(page.locator("#lost-modal")).to_be_hidden()
    assert Opportunity.objects.get(pk=deal.pk).status == "open"

    page.click("[data-testid=deal-lost]")
    page.select_option("#lost-reason-select", str(lost_reason.pk))
    page.fill("#lost-note-input", "Prezzo troppo alto")
    page.click("#lost-modal button[type=submit]")
    expect(page.locator("[data-fragment=header] .badge.text-bg-danger")).to_be_visible()
    expect(page.locator("[data-testid=timeline]")).to_contain_text("Moved from Qualifying to Lost")
    deal.refresh_from_db()
    assert (deal.status, deal.lost_reason, deal.lost_note) == ("lost", lost_reason, "Prezzo troppo alto")

    # Won asks for a confirmation too.
    page.click("[data-testid=deal-won]")
    expect(page.locator("#won-modal")).to_contain_text("Tablet per la rete vendita")
    page.click("#won-modal button[type=submit]")
    expect(page.locator("[data-fragment=header] .badge.text-bg-success")).to_be_visible()
    assert Opportunity.objects.get(pk=deal.pk).status == "won"


def test_a_stale_stage_bar_shows_the_conflict_message(page, live_server, login, rep, manager, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    login(page, rep)
    page.goto(f"{live_server.url}{deal.get_absolute_url()}")
    opportunity_update(opportunity=deal, user=manager, data={"next_step": "Chiamare"})
    page.click("[data-fragment=stages] button:has-text('Qualifying')")
    expect(page.locator("[data-testid=deal-alert]")).to_contain_text(
        f"{manager.get_full_name()} changed next step after you opened it"
    )
    assert Opportunity.objects.get(pk=deal.pk).stage == stages["New"]


def test_an_in_place_edit_saves_refuses_bad_input_and_reports_a_conflict(
    italian, live_server, login, rep, manager, stages
):
    rep.language = "it"
    rep.save(update_fields=["language"])
    deal = OpportunityFactory(owner=rep, stage=stages["New"], name="Stampanti", amount=Decimal("1000.00"))
    login(italian, rep)
    italian.goto(f"{live_server.url}{deal.get_absolute_url()}")
    assert italian.locator("html").get_attribute("lang") == "it"

    italian.click("[data-inline-edit=amount]")
    amount = italian.locator("[data-inline-form=amount] input[name=amount]")
    expect(amount).to_be_focused()
    amount.fill("molti")
    amount.press("Enter")
    expect(italian.locator("[data-field-error=amount]")).to_be_visible()
    assert amount.get_attribute("aria-invalid") == "true"
    shot(italian, "deal-inline-error-it")

    amount.fill("2.500,50")
    amount.press("Enter")
    expect(italian.locator("[data-fragment=details] [data-inline-field=amount]")).to_contain_text("2.500,50")
    expect(italian.locator("[data-testid=deal-amount]")).to_contain_text("2.500,50")
    assert Opportunity.objects.get(pk=deal.pk).amount == Decimal("2500.50")

    # Someone else changes the deal meanwhile: the edit is refused with the edit page's message.
    italian.click("[data-inline-edit=name]")
    opportunity_update(opportunity=deal.pk, user=manager, data={"next_step": "Demo"})
    italian.fill("[data-inline-form=name] input[name=name]", "Stampanti laser")
    italian.click("[data-inline-form=name] button[type=submit]")
    expect(italian.locator("[data-testid=inline-error]")).to_contain_text(manager.get_full_name())
    assert Opportunity.objects.get(pk=deal.pk).name == "Stampanti"
    shot(italian, "deal-inline-conflict-it")

    # Escape gives the value back.
    italian.locator("[data-inline-form=name] input[name=name]").press("Escape")
    expect(italian.locator("[data-inline-form=name]")).to_have_count(0)
    expect(italian.locator("[data-fragment=details] [data-inline-field=name]")).to_contain_text("Stampanti")
    italian.reload()
    shot(italian, "deal-page-it")
    italian.set_viewport_size({"width": 390, "height": 844})
    shot(italian, "deal-page-phone-it")


def test_the_autocomplete_finds_an_organization_then_only_its_contacts(italian, live_server, login, rep, stages):
    rep.language = "it"
    rep.save(update_fields=["language"])
    for i in range(25):
        OrganizationFactory(owner=rep, name=f"Rossi Impianti {i:02d}")
    acme = OrganizationFactory(owner=rep, name="Acme Forniture", city="Bologna")
    ContactFactory(owner=rep, organization=acme, first_name="Giulia", last_name="Ferri")
    ContactFactory(owner=rep, first_name="Giulio", last_name="Ferrari")  # another organization's
    login(italian, rep)
    italian.goto(f"{live_server.url}/opportunities/new/")

    organization = italian.get_by_role("combobox", name="Organizzazione")
    organization.fill("rossi")
    expect(italian.locator("#id_organization-listbox [role=option]")).to_have_count(20)
    expect(italian.locator("[data-testid=combobox-count]").first).to_contain_text("20 di 25")
    organization.fill("acme bolo")
    expect(italian.locator("#id_organization-listbox [role=option]")).to_have_count(1)
    organization.press("ArrowDown")
    expect(organization).to_have_attribute("aria-activedescendant", "id_organization-listbox-0")
    organization.press("Enter")
    expect(organization).to_have_value("Acme Forniture")
    assert italian.locator("#id_organization-select").input_value() == str(acme.pk)

    contact = italian.get_by_role("combobox", name="Contatto")
    contact.fill("fer")
    options = italian.locator("#id_contact-listbox [role=option]")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("Giulia Ferri")
    shot(italian, "autocomplete-contact-it")
    options.first.click()

    italian.fill("#id_name", "Arredi ufficio")
    italian.fill("#id_amount", "1.500,00")
    italian.click("form button[type=submit].btn-primary")
    italian.wait_for_url("**/opportunities/*/")
    deal = Opportunity.objects.get(name="Arredi ufficio")
    assert (deal.organization, deal.contact.last_name, deal.owner) == (acme, "Ferri", rep)


def test_a_cell_of_the_deal_list_is_edited_in_place(page, live_server, login, rep, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"], name="Server rack")
    login(page, rep)
    page.goto(f"{live_server.url}/opportunities/")
    row = page.locator(f"tr[data-opportunity-id='{deal.pk}']")
    row.locator("[data-inline-edit=probability]").click()
    field = row.locator("input[name=probability]")
    expect(field).to_be_focused()
    field.fill("55")
    field.press("Enter")
    expect(page.locator(f"tr[data-opportunity-id='{deal.pk}'] [data-inline-field=probability]")).to_contain_text("55%")
    deal.refresh_from_db()
    assert (deal.probability, deal.probability_is_manual) == (55, True)
