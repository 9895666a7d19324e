"""The duplicates page, the merge page and the contact form's warning in a real browser, in Italian."""

import pytest
from playwright.sync_api import expect

from contacts.models import Organization
from contacts.tests.factories import ContactFactory, OrganizationFactory
from opportunities.tests.factories import OpportunityFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_find_and_merge_duplicates_in_italian(italian, live_server, login, rep, stages, screenshot):
    keep = OrganizationFactory(name="Rossi & Figli S.r.l.", owner=rep, city="Milano")
    dup = OrganizationFactory(name="ROSSI E FIGLI SRL", owner=rep, city="Milano", sector="Edilizia")
    OpportunityFactory(organization=dup, owner=rep, name="Ristrutturazione uffici")
    OrganizationFactory(name="Bianchi S.p.A.", owner=rep)
    OrganizationFactory(name="Bianchi SpA", owner=rep)
    login(italian, rep)

    italian.goto(f"{live_server.url}/duplicates/?kind=organization")
    expect(italian.locator("h1")).to_have_text("Possibili duplicati")
    expect(italian.locator("[data-testid=duplicate-groups] tbody tr")).to_have_count(2)
    expect(italian.locator("[data-testid=duplicate-groups]")).to_contain_text("stesso nome")
    screenshot(italian, "dedupe-duplicates-it")

    italian.locator("[data-testid=duplicate-groups] tbody tr", has_text="Rossi").get_by_role(
        "link", name="Unisci…"
    ).click()
    expect(italian.locator("h1")).to_have_text("Unisci record")
    italian.check(f"#survivor_{keep.pk}")
    italian.check(f"#f_sector_{dup.pk}")
    screenshot(italian, "dedupe-merge-it")
    italian.get_by_role("button", name="Unisci", exact=True).click()

    expect(italian.locator("[data-testid=merge-history]")).to_contain_text("ha unito 1 record a questo")
    screenshot(italian, "dedupe-merged-organization-it")
    keep.refresh_from_db()
    assert keep.sector == "Edilizia" and keep.opportunities.count() == 1
    assert Organization.objects.get(pk=dup.pk).merged_into_id == keep.pk


def test_the_contact_form_warns_before_saving_a_duplicate(italian, live_server, login, rep, screenshot):
    existing = ContactFactory(first_name="Anna", last_name="Verdi", email="anna.verdi@example.com", owner=rep)
    login(italian, rep)
    italian.goto(f"{live_server.url}/contacts/new/")
    italian.fill("#id_first_name", "Anna")
    italian.fill("#id_last_name", "Verdi")
    italian.fill("#id_email", "ANNA.VERDI@example.com")
    italian.click("form button[type=submit]")
    warning = italian.locator("[data-testid=possible-duplicates]")
    expect(warning).to_contain_text("Forse è lo stesso di:")
    expect(warning.get_by_role("link", name="Anna Verdi")).to_have_attribute("href", existing.get_absolute_url())
    screenshot(italian, "dedupe-contact-form-warning-it")
    italian.check("#id_confirm_new")
    italian.click("form button[type=submit]")
    expect(italian.locator("[data-testid=privacy-panel]")).to_be_visible()
    screenshot(italian, "privacy-contact-panel-it")
