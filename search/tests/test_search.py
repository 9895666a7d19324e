"""The global search on the database the run uses (SQLite by default, PostgreSQL in the
DATABASE_URL run): accents, case, typos, identifiers in any spacing, visibility, query budget."""

import pytest
from django.db import connection
from django.urls import reverse

from activities.tests.factories import ActivityFactory
from contacts.tests.factories import ContactFactory, OrganizationFactory, valid_partita_iva
from opportunities.tests.factories import OpportunityFactory
from products.tests.factories import ProductFactory
from quotes.tests.factories import QuoteFactory
from search.selectors import search

pytestmark = pytest.mark.django_db


def titles(user, query, kind=None):
    groups = search(user=user, query=query, kinds=[kind] if kind else None, limit=50)
    return [hit.title for group in groups for hit in group["hits"]]


def test_accents_and_case_do_not_matter(rep, pipeline):
    OrganizationFactory(owner=rep, name="Società Ferri S.p.A.")
    OrganizationFactory(owner=rep, name="Bianchi Srl")
    assert titles(rep, "Societa") == ["Società Ferri S.p.A."]
    assert titles(rep, "ferri") == ["Società Ferri S.p.A."]
    assert titles(rep, "SOCIETÀ FERRI") == ["Società Ferri S.p.A."]
    assert titles(rep, "perché") == []


def test_a_typo_is_forgiven_and_the_exact_match_comes_first(rep, pipeline):
    OpportunityFactory(owner=rep, name="Fornitura Ferrari Motori")
    OpportunityFactory(owner=rep, name="Fornitura Ferri")
    OpportunityFactory(owner=rep, name="Licenze Bianchi")
    assert titles(rep, "Ferrari", "deals")[0] == "Fornitura Ferrari Motori"
    assert titles(rep, "Ferari", "deals")[0] == "Fornitura Ferrari Motori"  # a letter missing
    assert "Licenze Bianchi" not in titles(rep, "Ferari", "deals")
    assert titles(rep, "licenze bianci", "deals") == ["Licenze Bianchi"]


def test_vat_numbers_emails_and_phones_match_in_any_spacing(rep, pipeline):
    vat = valid_partita_iva(4242)
    OrganizationFactory(owner=rep, name="Officine Verdi", vat_number=vat, phone="+39 02 1234 5678")
    org = OrganizationFactory(owner=rep, name="Altro Cliente")
    ContactFactory(
        owner=rep,
        organization=org,
        first_name="Mario",
        last_name="Rossi",
        email="Mario.Rossi@Verdi.it",
        mobile="333-765.4321",
    )
    spaced = f"IT {vat[:4]} {vat[4:8]} {vat[8:]}"
    assert titles(rep, spaced, "organizations") == ["Officine Verdi"]
    assert titles(rep, vat, "organizations") == ["Officine Verdi"]
    assert titles(rep, "02 12345678", "organizations") == ["Officine Verdi"]
    assert titles(rep, "0039 021234") == []  # an international prefix spelled out is not guessed
    assert titles(rep, "mario.rossi@verdi.it", "contacts") == ["Mario Rossi"]
    assert titles(rep, "3337654321", "contacts") == ["Mario Rossi"]
    assert titles(rep, "333 765 43 21", "contacts") == ["Mario Rossi"]
    assert titles(rep, "rossi mario", "contacts") == ["Mario Rossi"]  # the words in another order, a typo away


def test_every_kind_is_searched_and_grouped(rep, pipeline):
    org = OrganizationFactory(owner=rep, name="Zanzibar Trading")
    OpportunityFactory(owner=rep, organization=org, name="Zanzibar rinnovo")
    ContactFactory(owner=rep, organization=org, first_name="Zanzibar", last_name="Neri")
    ActivityFactory(owner=rep, subject="Chiamare Zanzibar")
    QuoteFactory(owner=rep, organization=org, title="Offerta Zanzibar")
    ProductFactory(name="Kit Zanzibar")
    groups = search(user=rep, query="zanzibar")
    assert [g["kind"] for g in groups] == ["deals", "organizations", "contacts", "activities", "quotes", "products"]


def test_a_rep_never_finds_another_teams_record(rep, other_rep, teammate, manager, crm_admin, pipeline):
    OpportunityFactory(owner=other_rep, name="Segreto Meridionale")
    ContactFactory(owner=other_rep, first_name="Segreto", last_name="Sud", organization__owner=other_rep)
    ActivityFactory(owner=other_rep, subject="Segreto incontro")
    QuoteFactory(owner=other_rep, title="Segreto preventivo")
    OpportunityFactory(owner=teammate, name="Segreto di squadra")
    assert titles(rep, "segreto") == ["Segreto di squadra"]
    assert titles(manager, "segreto") == ["Segreto di squadra"]
    assert sorted(titles(crm_admin, "segreto", "deals")) == ["Segreto Meridionale", "Segreto di squadra"]
    assert titles(other_rep, "segreto di squadra") == []


def test_the_suggestions_never_leak_a_name(client, rep, other_rep, pipeline):
    OrganizationFactory(owner=other_rep, name="Nascosta Holding")
    OrganizationFactory(owner=rep, name="Nascosta Filiale")
    client.force_login(rep)
    body = client.get(reverse("search:suggest"), {"q": "nascosta"}).content.decode()
    assert "Nascosta Filiale" in body
    assert "Holding" not in body
    page = client.get(reverse("search:page"), {"q": "nascosta"}).content.decode()
    assert "Nascosta Filiale" in page and "Holding" not in page


def test_the_suggestions_answer_json_grouped_by_kind(client, rep, pipeline):
    org = OrganizationFactory(owner=rep, name="Ferri S.p.A.")
    OpportunityFactory(owner=rep, organization=org, name="Ferri impianto")
    client.force_login(rep)
    data = client.get(reverse("search:suggest"), {"q": "ferri"}).json()
    assert [g["kind"] for g in data["groups"]] == ["deals", "organizations"]
    assert data["groups"][1]["results"][0] == {
        "title": "Ferri S.p.A.",
        "subtitle": "Milano",
        "url": org.get_absolute_url(),
    }
    assert data["all_url"] == reverse("search:page") + "?q=ferri"
    assert client.get(reverse("search:suggest"), {"q": "x"}).json()["groups"] == []


def test_anonymous_users_are_sent_to_log_in(client):
    assert client.get(reverse("search:suggest"), {"q": "ferri"}).status_code == 302
    assert client.get(reverse("search:page"), {"q": "ferri"}).status_code == 302


def test_the_page_works_without_javascript_and_narrows_to_one_kind(client, rep, pipeline):
    for n in range(12):
        OpportunityFactory(owner=rep, name=f"Progetto Aurora {n}")
    client.force_login(rep)
    page = client.get(reverse("search:page"), {"q": "aurora"})
    assert page.status_code == 200
    assert page.content.decode().count("Progetto Aurora") == 10
    one_kind = client.get(reverse("search:page"), {"q": "aurora", "kind": "deals"}).content.decode()
    assert one_kind.count("Progetto Aurora") == 12
    assert client.get(reverse("search:page"), {"q": "aurora", "kind": "nonsense"}).status_code == 200
    assert client.get(reverse("search:page"), {"q": "%_\\"}).status_code == 200


def test_like_wildcards_in_the_query_are_taken_literally(rep, pipeline):
    OrganizationFactory(owner=rep, name="Cento per cento")
    OrganizationFactory(owner=rep, name="Sconto 100% garantito")
    assert titles(rep, "100%", "organizations") == ["Sconto 100% garantito"]
    assert titles(rep, "__", "organizations") == []


def test_the_query_budget_does_not_grow_with_the_data(client, rep, pipeline, django_assert_num_queries):
    client.force_login(rep)

    def measure():
        with django_assert_num_queries(QUERIES):
            assert client.get(reverse("search:suggest"), {"q": "lampada"}).status_code == 200

    org = OrganizationFactory(owner=rep, name="Lampade Milano")
    for n in range(3):
        OpportunityFactory(owner=rep, organization=org, name=f"Lampada {n}")
        ContactFactory(owner=rep, organization=org, last_name=f"Lampada{n}")
    client.get(reverse("search:suggest"), {"q": "lampada"})  # warms the process-wide caches
    measure()
    for n in range(3, 15):
        OpportunityFactory(owner=rep, organization=org, name=f"Lampada {n}")
        ContactFactory(owner=rep, organization=org, last_name=f"Lampada{n}")
        ActivityFactory(owner=rep, subject=f"Lampada {n}")
    measure()


# The team ids (the session and the user come from the cache), then one query per kind of record.
QUERIES = 1 + 7


@pytest.mark.postgres
def test_postgresql_answers_from_the_trigram_indexes(rep, pipeline):
    from contacts.models import Organization
    from search.specs import ORGANIZATION
    from search.text import match_q

    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        qs = Organization.objects.filter(match_q(ORGANIZATION, "ferri"))
        plan = qs.explain()
        cursor.execute("RESET enable_seqscan")
    assert "search_organizati" in plan, plan


def test_an_exact_match_is_not_crowded_out_by_near_misses(rep, pipeline, monkeypatch):
    from search import selectors

    monkeypatch.setattr(selectors, "CANDIDATES", 3)
    for n in range(8):
        OrganizationFactory(owner=rep, name=f"Bench Company {n:07d} S.r.l.")
    assert titles(rep, "bench company 0000006", "organizations")[0] == "Bench Company 0000006 S.r.l."
