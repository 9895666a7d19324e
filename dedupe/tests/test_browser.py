"""The duplicates page and the merge page in a real browser, in Italian."""

import pytest
from playwright.sync_api import expect

from contacts.models import Organization
from contacts.tests.factories import OrganizationFactory
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
