"""How the language is chosen, the switcher, and Italian formats of dates, numbers and money."""

import datetime
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from contacts.tests.factories import OrganizationFactory
from opportunities.models import Opportunity
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db


def test_the_browser_language_applies_when_the_profile_has_none(client, rep):
    client.force_login(rep)
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="it-IT,it;q=0.9,en;q=0.5")
    assert response["Content-Language"] == "it"
    assert "Trattative" in response.content.decode()
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    assert "Deals" in response.content.decode()


def test_the_profile_language_wins_over_the_browser(client, rep):
    rep.language = "it"
    rep.save()
    client.force_login(rep)
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response["Content-Language"] == "it"
    assert '<html lang="it">' in response.content.decode()


def test_without_profile_or_browser_preference_the_default_is_english(client, rep):
    client.force_login(rep)
    response = client.get("/")
    assert response["Content-Language"] == "en"


def test_the_switcher_saves_the_choice_on_the_profile_and_comes_back(client, rep):
    client.force_login(rep)
    page = client.get("/opportunities/").content.decode()
    assert 'action="/language/"' in page and 'name="language" value="it"' in page
    response = client.post("/language/", {"language": "it", "next": "/opportunities/?status=open"})
    assert response.status_code == 302
    assert response["Location"] == "/opportunities/?status=open"
    rep.refresh_from_db()
    assert rep.language == "it"
    assert "Nuova trattativa" in client.get("/opportunities/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_the_switcher_refuses_a_foreign_redirect_and_an_unknown_language(client, rep):
    client.force_login(rep)
    response = client.post("/language/", {"language": "xx", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert "evil" not in response["Location"]
    rep.refresh_from_db()
    assert rep.language == ""


def test_the_switcher_works_before_login_with_a_cookie(client):
    assert 'name="language" value="it"' in client.get("/login/").content.decode()
    client.post("/language/", {"language": "it", "next": "/login/"})
    assert "Accedi" in client.get("/login/").content.decode()


@pytest.mark.parametrize(
    ("language", "expected"),
    [("it", "1.234,56\xa0€ · 31/12/2026 · 1.234.567"), ("en", "€1,234.56 · 31 Dec 2026 · 1,234,567")],
)
def test_money_dates_and_numbers_in_the_locale_format(language, expected):
    template = Template('{{ amount|money:"EUR" }} · {{ day|date:"SHORT_DATE_FORMAT" }} · {{ count|number }}')
    context = Context({"amount": Decimal("1234.56"), "day": datetime.date(2026, 12, 31), "count": 1234567})
    with translation.override(language):
        assert template.render(context) == expected


def test_other_currencies_keep_their_code_or_symbol():
    with translation.override("it"):
        assert Template('{{ a|money:"USD" }}').render(Context({"a": 99})) == "99,00\xa0USD"
        assert Template('{{ a|money:"GBP" }}').render(Context({"a": 99})) == "99,00\xa0£"


def test_an_italian_user_types_an_amount_with_decimal_comma_and_thousands_dots(client, rep, stages):
    rep.language = "it"
    rep.save()
    org = OrganizationFactory(owner=rep)
    client.force_login(rep)
    form_page = client.get("/opportunities/new/").content.decode()
    assert 'inputmode="decimal"' in form_page
    response = client.post(
        "/opportunities/new/",
        {
            "name": "Licenze CRM",
            "organization": org.pk,
            "stage": stages["Qualifying"].pk,
            "amount": "1.234,56",
            "currency": "EUR",
            "type": "new_business",
            "owner": rep.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    deal = Opportunity.objects.get(name="Licenze CRM")
    assert deal.amount == Decimal("1234.56")
    edit = client.get(f"/opportunities/{deal.pk}/edit/").content.decode()
    assert 'value="1234,56"' in edit
    detail = client.get(deal.get_absolute_url()).content.decode()
    assert "1.234,56\xa0€" in detail


def test_a_badly_typed_amount_is_a_clear_error_in_italian(client, rep, stages):
    rep.language = "it"
    rep.save()
    org = OrganizationFactory(owner=rep)
    client.force_login(rep)
    response = client.post(
        "/opportunities/new/",
        {"name": "X", "organization": org.pk, "stage": stages["New"].pk, "amount": "1,234.56", "currency": "EUR"},
    )
    assert response.status_code == 200
    assert "Inserisci un numero." in response.content.decode()
    assert not Opportunity.objects.filter(name="X").exists()


def test_seeded_stage_names_in_italian_on_the_deal_page(client, rep, stages):
    rep.language = "it"
    rep.save()
    deal = OpportunityFactory(owner=rep, stage=stages["Demo scheduled"], amount=Decimal("1234.56"))
    client.force_login(rep)
    page = client.get(deal.get_absolute_url()).content.decode()
    assert "Demo programmata" in page
    assert "In attesa di impegno" in page  # the move form lists the other stages


def test_reminder_email_in_the_owners_language(rep, mailoutbox):
    from activities.tasks import activity_reminders_send
    from activities.tests.factories import ActivityFactory
    from core.outbox import outbox_deliver_pending

    rep.language = "it"
    rep.save()
    due = timezone.localtime(timezone.now() + datetime.timedelta(minutes=10))
    ActivityFactory(owner=rep, subject="Chiamare Rossi", due_at=due)
    activity_reminders_send()
    outbox_deliver_pending()
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.subject == "Promemoria: Chiamare Rossi"
    assert due.strftime("%d/%m/%Y %H:%M") in mail.body
    assert "Aprila qui:" in mail.body


def test_the_api_answers_in_the_language_the_integration_asks_for(rep, stages):
    """Integrations choose with Accept-Language (English by default), whatever the UI language of
    the user whose token they use."""
    from rest_framework.test import APIClient

    from integrations.services import api_token_create

    rep.language = "it"
    rep.save()
    OpportunityFactory(owner=rep, stage=stages["Demo scheduled"])
    _token, raw = api_token_create(user=rep, name="ERP")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    english = api.get("/api/v1/opportunities/").json()
    assert english["results"][0]["stage_name"] == "Demo scheduled"
    italian = api.get("/api/v1/opportunities/", HTTP_ACCEPT_LANGUAGE="it").json()
    assert italian["results"][0]["stage_name"] == "Demo programmata"
    error = api.post("/api/v1/opportunities/", {"amount": "abc"}, format="json", HTTP_ACCEPT_LANGUAGE="it").json()
    assert error["error"]["message"].startswith("Alcuni campi non sono validi")
    assert error["error"]["fields"]["amount"] == ["È richiesto un numero valido."]
