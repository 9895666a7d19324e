"""The deal page as the place to work: the stage bar's moves, in-place edits of the details card and
the timeline of everything that happened, as deal.js (JSON) and a browser without JavaScript use them."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from activities.tests.factories import ActivityFactory
from contacts.tests.factories import ContactFactory, OrganizationFactory
from documents.models import Document
from opportunities.models import Opportunity
from opportunities.services import opportunity_move_stage, opportunity_update
from opportunities.tests.factories import OpportunityFactory
from quotes.tests.factories import QuoteFactory

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}


def move_url(deal):
    return reverse("opportunities:move", args=[deal.pk])


def field_url(deal, field):
    return reverse("opportunities:field_edit", args=[deal.pk, field])


# ---- The stage bar ---------------------------------------------------------------------------


def test_the_stage_bar_offers_every_other_stage_and_won_and_lost_buttons(client, rep, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["Qualifying"])
    client.force_login(rep)
    html = client.get(deal.get_absolute_url()).content.decode()
    bar = html[html.index('data-fragment="stages"') :]
    bar = bar[: bar.index('data-fragment="details"')]
    assert bar.count("data-stage-move") == len(stages) - 1 + 2  # every other stage, plus Won and Lost
    assert 'data-testid="deal-won"' in bar and 'data-testid="deal-lost"' in bar
    assert f'name="stage" value="{stages["Qualifying"].pk}"' not in bar  # not to where it is


def test_a_reader_who_may_not_edit_sees_the_bar_without_buttons(client, rep, teammate, stages):
    deal = OpportunityFactory(owner=teammate, stage=stages["Qualifying"])
    client.force_login(rep)
    response = client.get(deal.get_absolute_url())
    assert response.status_code == 200
    assert b"data-stage-move" not in response.content and b"data-inline-edit" not in response.content


def test_moving_from_the_bar_answers_with_the_redrawn_page(client, rep, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    client.force_login(rep)
    response = client.post(move_url(deal), {"stage": stages["Qualifying"].pk, "version": deal.version}, **JSON)
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] and body["message"] == "Moved to Qualifying."
    assert set(body["fragments"]) == {"header", "stages", "details", "history", "timeline"}
    assert 'aria-current="step"' in body["fragments"]["stages"]
    assert "Moved from New to Qualifying" in body["fragments"]["timeline"]
    assert Opportunity.objects.get(pk=deal.pk).stage == stages["Qualifying"]


def test_lost_from_the_bar_needs_a_reason_and_keeps_it(client, rep, stages, lost_reason):
    deal = OpportunityFactory(owner=rep, stage=stages["Qualifying"])
    client.force_login(rep)
    refused = client.post(move_url(deal), {"stage": stages["Lost"].pk, "version": deal.version}, **JSON)
    assert refused.status_code == 400
    assert "lost_reason" in refused.json()["errors"]
    moved = client.post(
        move_url(deal),
        {"stage": stages["Lost"].pk, "version": deal.version, "lost_reason": lost_reason.pk, "lost_note": "Budget"},
        **JSON,
    )
    assert moved.status_code == 200
    deal.refresh_from_db()
    assert (deal.status, deal.lost_reason, deal.lost_note) == ("lost", lost_reason, "Budget")


def test_a_stale_move_says_who_changed_what_as_everywhere(client, rep, manager, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    opened = deal.version
    opportunity_move_stage(opportunity=deal, stage=stages["Qualifying"], user=manager)
    client.force_login(rep)
    response = client.post(move_url(deal), {"stage": stages["Won"].pk, "version": opened}, **JSON)
    assert response.status_code == 409
    assert (
        f"{manager.get_full_name()} moved this deal to “Qualifying” after you opened it" in response.json()["message"]
    )
    assert Opportunity.objects.get(pk=deal.pk).stage == stages["Qualifying"]


# ---- In-place edits --------------------------------------------------------------------------


def test_every_field_of_the_details_card_has_an_edit_button(client, rep, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    client.force_login(rep)
    html = client.get(deal.get_absolute_url()).content.decode()
    for field in ("name", "organization", "contact", "amount", "probability", "expected_close_date", "type"):
        assert f'data-inline-edit="{field}"' in html
    for field in ("lead_source", "next_step", "owner", "description"):
        assert f'data-inline-edit="{field}"' in html


def test_the_field_form_is_a_fragment_for_the_script_and_a_page_without_it(client, rep, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    client.force_login(rep)
    fragment = client.get(field_url(deal, "amount"), HTTP_X_INLINE_EDIT="1").content.decode()
    assert fragment.lstrip().startswith("<form") and 'name="amount"' in fragment and 'name="currency"' in fragment
    page = client.get(field_url(deal, "amount")).content.decode()
    assert "<html" in page and 'name="amount"' in page
    assert client.get(field_url(deal, "stage")).status_code == 404  # the stage moves through the bar


def test_an_in_place_edit_saves_through_the_service_and_the_audit_trail(client, rep, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"], amount=Decimal("1000.00"), currency="EUR")
    client.force_login(rep)
    response = client.post(
        field_url(deal, "amount"), {"amount": "2,500.50", "currency": "EUR", "version": deal.version}, **JSON
    )
    assert response.status_code == 200
    deal.refresh_from_db()
    assert deal.amount == Decimal("2500.50")
    assert deal.field_changes.filter(field="amount", new_value="2500.50").exists()
    assert "2,500.50" in response.json()["fragments"]["details"]


def test_an_invalid_value_is_refused_next_to_the_field_it_names(client, rep, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"], amount=Decimal("1000.00"))
    client.force_login(rep)
    response = client.post(
        field_url(deal, "amount"), {"amount": "lots", "currency": "EUR", "version": deal.version}, **JSON
    )
    assert response.status_code == 400
    body = response.json()
    assert list(body["errors"]) == ["amount"]
    assert 'data-field-error="amount"' in body["html"] and "Amount: Enter a number." in body["html"]
    assert 'aria-describedby="id_amount_error"' in body["html"]
    assert Opportunity.objects.get(pk=deal.pk).amount == Decimal("1000.00")


def test_the_models_rules_apply_to_an_in_place_edit(client, rep, stages):
    org = OrganizationFactory(owner=rep)
    other = OrganizationFactory(owner=rep)
    deal = OpportunityFactory(owner=rep, stage=stages["New"], organization=org)
    stranger = ContactFactory(owner=rep, organization=other)
    client.force_login(rep)
    response = client.post(field_url(deal, "contact"), {"contact": stranger.pk, "version": deal.version}, **JSON)
    assert response.status_code == 400
    assert response.json()["errors"] == {"contact": ["This contact works for another organization."]}


def test_a_stale_in_place_edit_shows_the_conflict_message_of_the_form(client, rep, manager, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"], name="Tablet")
    opened = deal.version
    opportunity_update(opportunity=deal, user=rep, data={"amount": Decimal("10.00")})
    client.force_login(manager)
    response = client.post(field_url(deal, "name"), {"name": "Tablet 2", "version": opened}, **JSON)
    assert response.status_code == 409
    assert f"{rep.get_full_name()} changed amount after you opened it" in response.json()["html"]
    assert Opportunity.objects.get(pk=deal.pk).name == "Tablet"


def test_without_javascript_an_edit_goes_back_to_the_deal(client, rep, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    client.force_login(rep)
    response = client.post(field_url(deal, "next_step"), {"next_step": "Call back", "version": deal.version})
    assert response.status_code == 302 and response.url == deal.get_absolute_url()
    refused = client.post(field_url(deal, "probability"), {"probability": "250", "version": deal.version + 1})
    assert refused.status_code == 400 and b"probability" in refused.content.lower()


def test_nobody_edits_in_place_a_deal_they_may_not_edit(client, rep, other_rep, stages):
    deal = OpportunityFactory(owner=other_rep, stage=stages["New"], name="Theirs")
    client.force_login(rep)
    response = client.post(field_url(deal, "name"), {"name": "Mine", "version": deal.version}, **JSON)
    assert response.status_code == 404
    assert Opportunity.objects.get(pk=deal.pk).name == "Theirs"


# ---- The timeline ----------------------------------------------------------------------------


def _busy_deal(rep, stages, n):
    """A deal with ``n`` of each kind of event."""
    deal = OpportunityFactory(owner=rep, stage=stages["New"], amount=Decimal("100.00"), currency="EUR")
    for i in range(n):
        deal = opportunity_update(opportunity=deal, user=rep, data={"amount": Decimal(200 + i)})
        ActivityFactory(owner=rep, opportunity=deal, subject=f"Call {i}", done=True, done_at=timezone.now())
        Document.objects.create(opportunity=deal, original_name=f"offer-{i}.pdf", uploaded_by=rep, file="x.pdf")
        QuoteFactory(owner=rep, opportunity=deal, organization=deal.organization, title=f"Quote {i}")
    return deal


def test_the_timeline_shows_every_kind_of_event(client, rep, stages):
    deal = _busy_deal(rep, stages, 1)
    client.force_login(rep)
    html = client.get(deal.get_absolute_url()).content.decode()
    timeline = html[html.index('data-fragment="timeline"') :]
    for text in ("Created in New", "Amount", "Activity planned", "Activity done", "offer-0.pdf", "Quote 0"):
        assert text in timeline, text


@pytest.mark.parametrize("n", [2, 15])
def test_the_timeline_is_paginated_in_constant_queries(client, rep, stages, n, django_assert_num_queries):
    deal = _busy_deal(rep, stages, n)
    client.force_login(rep)
    url = reverse("opportunities:timeline", args=[deal.pk])
    # session, user, deal; stages, field changes, currency changes, activities planned and done,
    # notes, documents, quotes, e-mails
    with django_assert_num_queries(12):
        response = client.get(url + "?page=2")
    assert response.status_code == 200
    timeline = response.context["timeline"]
    total = 1 + n * 5  # created + per round: amount, planned, done, document, quote
    assert len(timeline["entries"]) == min(20, max(0, total - 20))
    assert timeline["has_next"] == (total > 40)


def test_the_timeline_filters_by_kind(client, rep, stages):
    deal = _busy_deal(rep, stages, 3)
    client.force_login(rep)
    response = client.get(reverse("opportunities:timeline", args=[deal.pk]) + "?kind=document")
    entries = response.context["timeline"]["entries"]
    assert [e["kind"] for e in entries] == ["document"] * 3
    assert b"offer-2.pdf" in response.content and b"Quote 0" not in response.content
    # An unknown kind shows everything rather than failing.
    assert client.get(reverse("opportunities:timeline", args=[deal.pk]) + "?kind=nope&page=x").status_code == 200


def test_an_amount_change_shows_in_the_currency_it_was_in(client, rep, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"], amount=Decimal("100.00"), currency="EUR")
    deal = opportunity_update(opportunity=deal, user=rep, data={"amount": Decimal("150.00")})
    deal = opportunity_update(opportunity=deal, user=rep, data={"currency": "USD", "amount": Decimal("170.00")})
    client.force_login(rep)
    html = client.get(reverse("opportunities:timeline", args=[deal.pk]) + "?kind=field").content.decode()
    assert "€100.00" in html and "€150.00" in html  # the first change, made in euros
    assert "$170.00" in html  # the second, in the dollars it changed to


def test_the_contact_edited_in_place_is_searched_within_the_deals_organization(client, rep, stages):
    org = OrganizationFactory(owner=rep)
    other = OrganizationFactory(owner=rep)
    deal = OpportunityFactory(owner=rep, stage=stages["New"], organization=org)
    mario = ContactFactory(owner=rep, organization=org)
    client.force_login(rep)
    fragment = client.get(field_url(deal, "contact"), HTTP_X_INLINE_EDIT="1").content.decode()
    assert 'data-autocomplete-depends="organization"' in fragment
    assert f'<input type="hidden" name="organization" value="{org.pk}">' in fragment
    # The organization sent along only narrows the search: the in-place edit changes the contact alone.
    response = client.post(
        field_url(deal, "contact"), {"contact": mario.pk, "organization": other.pk, "version": deal.version}, **JSON
    )
    assert response.status_code == 200
    deal.refresh_from_db()
    assert (deal.contact, deal.organization) == (mario, org)


# ---- Cells of the deal list ------------------------------------------------------------------


def test_the_deal_list_offers_in_place_edits_only_on_deals_the_user_may_change(client, rep, teammate, stages):
    mine = OpportunityFactory(owner=rep, stage=stages["New"], name="Mine")
    theirs = OpportunityFactory(owner=teammate, stage=stages["New"], name="Theirs")
    client.force_login(rep)
    html = client.get(reverse("opportunities:list") + "?scope=team").content.decode()
    row = lambda deal: html[html.index(f'<tr data-opportunity-id="{deal.pk}"') :].split("</tr>")[0]  # noqa: E731
    for field in ("amount", "probability", "expected_close_date", "owner"):
        assert f'data-inline-edit="{field}"' in row(mine)
    assert "data-inline-edit" not in row(theirs)


def test_a_list_cell_edit_answers_with_its_row(client, rep, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"], amount=Decimal("10.00"), currency="EUR")
    client.force_login(rep)
    response = client.post(
        field_url(deal, "amount"), {"amount": "99", "currency": "EUR", "version": deal.version, "row": "1"}, **JSON
    )
    assert response.status_code == 200
    row = response.json()["row"]
    assert row.lstrip().startswith(f'<tr data-opportunity-id="{deal.pk}"') and "€99.00" in row
    assert 'data-inline-edit="amount"' in row
    assert Opportunity.objects.get(pk=deal.pk).amount == Decimal("99.00")


def test_the_timeline_shows_the_deals_emails_and_filters_them(client, rep, other_rep, stages):
    from datetime import timedelta

    from mail.models import EmailMessage, EmailThread

    deal = _busy_deal(rep, stages, 1)
    thread = EmailThread.objects.create(subject="Offerta")
    later = timezone.now() + timedelta(minutes=5)
    received = EmailMessage.objects.create(
        message_id="<in@example.com>", thread=thread, subject="Domanda sul prezzo", from_name="Mario Rossi",
        from_address="mario@example.com", sent_at=later, opportunity=deal,
    )  # fmt: skip
    EmailMessage.objects.create(
        message_id="<out@example.com>", thread=thread, subject="Re: Domanda sul prezzo", outgoing=True,
        sent_by=rep, send_status="failed", from_address="rep@example.com", sent_at=later, opportunity=deal,
    )  # fmt: skip
    EmailMessage.objects.create(
        message_id="<no@example.com>", thread=thread, subject="Pubblicità", from_address="spam@example.com",
        sent_at=later, opportunity=deal, link_status="dismissed",
    )  # fmt: skip
    client.force_login(rep)
    html = client.get(deal.get_absolute_url()).content.decode()
    timeline = html[html.index('data-fragment="timeline"') :]
    # Newest first: the reply (same minute, made later) above the message, both above the older events.
    reply, message = timeline.index("Re: Domanda sul prezzo"), timeline.index("Domanda sul prezzo</a>")
    assert reply < message < timeline.index("Quote 0")
    assert "E-mail received" in timeline and "E-mail sent" in timeline and "Not sent" in timeline
    assert reverse("mail:detail", args=[received.pk]) in timeline and "Mario Rossi" in timeline
    assert "Pubblicità" not in timeline  # dismissed
    entries = client.get(reverse("opportunities:timeline", args=[deal.pk]) + "?kind=email").context["timeline"]
    assert [e["email"].subject for e in entries["entries"]] == ["Re: Domanda sul prezzo", "Domanda sul prezzo"]
    # Whoever may not see the deal does not get its timeline.
    client.force_login(other_rep)
    assert client.get(reverse("opportunities:timeline", args=[deal.pk]) + "?kind=email").status_code == 404
