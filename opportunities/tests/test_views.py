"""The deal pages as a user uses them: list, detail with history, create, edit, move, archive."""

from decimal import Decimal

import pytest
from django.urls import reverse

from contacts.tests.factories import ContactFactory, OrganizationFactory
from opportunities.models import Opportunity
from opportunities.services import opportunity_move_stage
from opportunities.tests.factories import OpportunityFactory
from pipeline.models import StageChange

pytestmark = pytest.mark.django_db


def form_data(deal, **changes):
    data = {
        "name": deal.name,
        "organization": deal.organization_id or "",
        "contact": deal.contact_id or "",
        "stage": deal.stage_id,
        "amount": str(deal.amount),
        "currency": deal.currency,
        "expected_close_date": "",
        "probability": deal.probability,
        "type": deal.type,
        "lead_source": deal.lead_source,
        "next_step": deal.next_step,
        "next_step_date": "",
        "owner": deal.owner_id,
        "description": deal.description,
        "lost_reason": "",
        "lost_note": "",
        "version": deal.version,
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    "url", ["/", "/opportunities/", "/opportunities/new/", "/organizations/", "/contacts/", "/accounts/profile/"]
)
def test_pages_need_a_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_login_page_and_login(client, rep):
    assert b"Log in" in client.get("/login/").content
    response = client.post("/login/", {"username": "rep", "password": "test-password-123"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_wrong_password_is_refused_with_a_message(client, rep):
    response = client.post("/login/", {"username": "rep", "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


@pytest.mark.parametrize("count", [3, 30])
def test_deal_list_query_count_does_not_grow_with_rows(client, rep, count, django_assert_num_queries):
    for _ in range(count):
        OpportunityFactory(owner=rep)
    client.force_login(rep)
    with django_assert_num_queries(7):  # the owner filter no longer lists every user: its autocomplete searches
        response = client.get("/opportunities/")
    assert response.status_code == 200
    assert len(response.context["objects"]) == min(count, 25)


def test_deal_list_shows_only_deals_the_user_may_see(client, rep, teammate, other_rep):
    mine = OpportunityFactory(owner=rep, name="Mine")
    team = OpportunityFactory(owner=teammate, name="Teammate's")
    hidden = OpportunityFactory(owner=other_rep, name="Other team's")
    client.force_login(rep)
    ids = {deal.pk for deal in client.get("/opportunities/").context["page"]}
    assert ids == {mine.pk, team.pk}
    assert hidden.pk not in ids


def test_deal_list_filters_by_status_and_search(client, rep, stages):
    won = OpportunityFactory(owner=rep, name="Fornitura tablet")
    opportunity_move_stage(opportunity=won, stage=stages["Won"], user=rep)
    OpportunityFactory(owner=rep, name="Consulenza")
    client.force_login(rep)
    assert [d.pk for d in client.get("/opportunities/?status=won").context["page"]] == [won.pk]
    assert [d.pk for d in client.get("/opportunities/?q=tablet").context["page"]] == [won.pk]


@pytest.mark.parametrize("moves", [1, 6])
def test_deal_page_shows_its_stage_history_in_constant_queries(client, rep, stages, moves, django_assert_num_queries):
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    order = ["Qualifying", "Demo scheduled", "Pending commitment", "In negotiation", "Qualifying", "Won"]
    for name in order[:moves]:
        deal = opportunity_move_stage(opportunity=deal, stage=stages[name], user=rep)
    client.force_login(rep)
    # Among them: the products of the add-line form, the lost reasons of the stage bar's question, and
    # one query for each of the timeline's field changes, activities planned, done, notes, documents and
    # quotes; the notes feed's notes, their mentions and whether the reader may change the deal; the
    # e-mail card (mail/templatetags), the timeline's e-mails and the tags (issue 21).
    with django_assert_num_queries(26):
        response = client.get(deal.get_absolute_url())
    history = list(response.context["history"])
    assert len(history) == moves + 1
    assert history[0].to_stage == stages["New"]
    assert b'data-testid="stage-history"' in response.content


def _emails_of(deal, n):
    """``n`` e-mails of the deal, one a minute back from now, received from its contact (bulk: 500 of them)."""
    import datetime

    from django.utils import timezone

    from mail.models import EmailMessage, EmailThread

    thread = EmailThread.objects.create(subject="Offerta")
    now = timezone.now()
    EmailMessage.objects.bulk_create(
        EmailMessage(
            message_id=f"<deal-{deal.pk}-{i}@example.com>",
            thread=thread,
            subject=f"Messaggio {i}",
            from_name="Mario Rossi",
            from_address="mario@example.com",
            sent_at=now - datetime.timedelta(minutes=i),
            opportunity=deal,
            text_body="Buongiorno " * 200,
        )
        for i in range(n)
    )


@pytest.mark.parametrize("emails", [1, 500])
def test_the_deal_page_with_500_emails_keeps_its_query_budget(client, rep, stages, emails, django_assert_num_queries):
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    deal = opportunity_move_stage(opportunity=deal, stage=stages["Qualifying"], user=rep)
    _emails_of(deal, emails)
    client.force_login(rep)
    # The same budget as a deal without e-mails (above): the card reads its five newest with the
    # total in one query, the timeline one page of them in another.
    with django_assert_num_queries(26):
        response = client.get(deal.get_absolute_url())
    html = response.content.decode()
    timeline = html[html.index('data-fragment="timeline"') :]
    shown = [e["email"].subject for e in response.context["timeline"]["entries"] if e["kind"] == "email"]
    # The newest e-mails, newest first, among the deal's own entries on a page of 20.
    assert shown == [f"Messaggio {i}" for i in range(len(shown))]
    assert len(shown) == emails if emails == 1 else 15 <= len(shown) < 20
    assert "Messaggio 0" in timeline and f"Messaggio {len(shown)}" not in timeline
    assert response.context["timeline"]["has_next"] == (emails == 500)
    assert ('data-testid="timeline-older"' in timeline) == (emails == 500)


def test_create_a_deal_with_the_form(client, rep, stages):
    org = OrganizationFactory(owner=rep)
    client.force_login(rep)
    response = client.post(
        "/opportunities/new/",
        {
            "name": "Licenze CRM",
            "organization": org.pk,
            "stage": stages["Qualifying"].pk,
            "amount": "4800.00",
            "currency": "EUR",
            "type": "new_business",
            "owner": rep.pk,
        },
    )
    deal = Opportunity.objects.get(name="Licenze CRM")
    assert response.status_code == 302
    assert response["Location"] == deal.get_absolute_url()
    assert deal.probability == 20
    assert not deal.probability_is_manual
    assert StageChange.objects.filter(opportunity=deal, from_stage=None, to_stage=stages["Qualifying"]).exists()


def test_the_form_names_the_field_in_error_and_creates_nothing(client, rep, stages):
    client.force_login(rep)
    response = client.post(
        "/opportunities/new/",
        {"name": "No customer", "stage": stages["New"].pk, "amount": "-5", "currency": "EUR", "type": "new_business"},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["organization"] == ["Choose an organization or a contact (or both)."]
    assert form.errors["amount"] == ["Ensure this value is greater than or equal to 0."]
    assert not Opportunity.objects.filter(name="No customer").exists()


def test_creating_a_lost_deal_without_reason_is_an_error_on_that_field(client, rep, stages):
    org = OrganizationFactory(owner=rep)
    client.force_login(rep)
    response = client.post(
        "/opportunities/new/",
        {
            "name": "Lost",
            "organization": org.pk,
            "stage": stages["Lost"].pk,
            "amount": "1",
            "currency": "EUR",
            "type": "new_business",
        },
    )
    assert response.context["form"].errors["lost_reason"] == ["Choose why the deal was lost."]


def test_edit_with_the_form_and_a_stale_copy_is_refused(client, rep, teammate, manager, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"], amount=Decimal("100.00"))
    client.force_login(rep)
    stale = form_data(deal, amount="300.00")

    assert client.post(f"/opportunities/{deal.pk}/edit/", form_data(deal, amount="200.00")).status_code == 302
    response = client.post(f"/opportunities/{deal.pk}/edit/", stale)

    assert response.status_code == 200
    # Who changed what, read from the history: the rep's own first save changed the amount.
    errors = str(response.context["form"].non_field_errors())
    assert f"{rep.get_full_name()} changed amount after you opened it" in errors
    assert Opportunity.objects.get(pk=deal.pk).amount == Decimal("200.00")


def test_changing_the_probability_in_the_form_keeps_it_on_later_moves(client, rep, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    client.force_login(rep)
    client.post(f"/opportunities/{deal.pk}/edit/", form_data(deal, probability=45))
    deal.refresh_from_db()
    assert deal.probability_is_manual
    moved = opportunity_move_stage(opportunity=deal, stage=stages["Qualifying"], user=rep)
    assert moved.probability == 45


def test_move_from_the_deal_page(client, rep, stages, lost_reason):
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    client.force_login(rep)
    url = reverse("opportunities:move", args=[deal.pk])

    response = client.post(url, {"stage": stages["Lost"].pk, "version": deal.version}, follow=True)
    assert "Choose why the deal was lost." in response.content.decode()
    assert Opportunity.objects.get(pk=deal.pk).status == "open"

    response = client.post(
        url, {"stage": stages["Lost"].pk, "lost_reason": lost_reason.pk, "version": deal.version}, follow=True
    )
    assert "Moved to Lost." in response.content.decode()
    assert Opportunity.objects.get(pk=deal.pk).status == "lost"


def test_a_stale_move_from_the_deal_page_is_refused_with_a_message(client, rep, manager, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    opportunity_move_stage(opportunity=deal, stage=stages["Qualifying"], user=manager)
    client.force_login(rep)
    response = client.post(
        reverse("opportunities:move", args=[deal.pk]), {"stage": stages["Won"].pk, "version": deal.version}, follow=True
    )
    page = response.content.decode()
    assert f"{manager.get_full_name()} moved this deal to “Qualifying” after you opened it" in page
    assert Opportunity.objects.get(pk=deal.pk).stage == stages["Qualifying"]


def test_a_rep_of_another_team_gets_404_everywhere(client, rep, other_rep, stages):
    deal = OpportunityFactory(owner=rep)
    client.force_login(other_rep)
    assert client.get(deal.get_absolute_url()).status_code == 404
    assert client.get(f"/opportunities/{deal.pk}/edit/").status_code == 404
    move = client.post(reverse("opportunities:move", args=[deal.pk]), {"stage": stages["Won"].pk, "version": 1})
    assert move.status_code == 404
    assert client.post(reverse("opportunities:archive", args=[deal.pk])).status_code == 404
    assert Opportunity.objects.get(pk=deal.pk).status == "open"


def test_a_rep_sees_a_teammates_deal_but_cannot_change_it(client, rep, teammate, stages):
    deal = OpportunityFactory(owner=teammate)
    client.force_login(rep)
    response = client.get(deal.get_absolute_url())
    assert response.status_code == 200
    assert response.context["can_edit"] is False
    assert client.get(f"/opportunities/{deal.pk}/edit/").status_code == 404


def test_a_manager_can_change_the_teams_deals(client, rep, manager, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    client.force_login(manager)
    client.post(reverse("opportunities:move", args=[deal.pk]), {"stage": stages["Won"].pk, "version": deal.version})
    assert Opportunity.objects.get(pk=deal.pk).status == "won"


def test_archive_and_restore_from_the_deal_page(client, rep, manager):
    deal = OpportunityFactory(owner=rep)
    client.force_login(rep)
    client.post(reverse("opportunities:archive", args=[deal.pk]))
    assert Opportunity.objects.get(pk=deal.pk).is_archived
    assert deal.pk not in {d.pk for d in client.get("/opportunities/").context["page"]}
    assert deal.pk in {d.pk for d in client.get("/opportunities/?archived=1").context["page"]}
    client.force_login(manager)  # restoring is for managers (tests/test_archive_purge.py)
    client.post(reverse("opportunities:archive", args=[deal.pk]), {"restore": "1"})
    assert not Opportunity.objects.get(pk=deal.pk).is_archived


def test_a_deal_with_a_contact_only_shows_the_contact(client, rep):
    contact = ContactFactory(owner=rep, organization=None, first_name="Lucia", last_name="Verdi")
    deal = OpportunityFactory(owner=rep, organization=None, contact=contact)
    client.force_login(rep)
    assert "Lucia Verdi" in client.get(deal.get_absolute_url()).content.decode()


def test_text_is_escaped_on_the_pages(client, rep):
    deal = OpportunityFactory(owner=rep, name="<script>alert(1)</script>", next_step="<b>bold</b>")
    client.force_login(rep)
    for url in [deal.get_absolute_url(), "/opportunities/"]:
        html = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_scope_filter_mine_team_everyone(client, manager, rep, teammate, other_rep, crm_admin):
    mine = OpportunityFactory(owner=rep)
    teams = OpportunityFactory(owner=teammate)
    foreign = OpportunityFactory(owner=other_rep)
    client.force_login(rep)
    ids = lambda url: {d.pk for d in client.get(url).context["page"]}  # noqa: E731
    assert ids("/opportunities/?scope=mine") == {mine.pk}
    assert ids("/opportunities/?scope=team") == {mine.pk, teams.pk}
    assert ids("/opportunities/?scope=all") == {mine.pk, teams.pk}
    client.force_login(crm_admin)
    assert foreign.pk in ids("/opportunities/?scope=all")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_deal_list_exports_every_filtered_row_not_just_the_page(client, rep, other_rep, stages, fmt):
    import csv
    import io

    from openpyxl import load_workbook

    for n in range(30):
        OpportunityFactory(owner=rep, name=f"Export {n:02d}", stage=stages["Qualifying"])
    OpportunityFactory(owner=rep, name="Other stage", stage=stages["New"])
    OpportunityFactory(owner=other_rep, name="Not mine to see", stage=stages["Qualifying"])
    client.force_login(rep)

    response = client.get(f"/opportunities/?stage={stages['Qualifying'].pk}&export={fmt}")

    assert response.status_code == 200
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    else:
        rows = [list(r) for r in load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)]
    assert rows[0][:3] == ["Deal", "Organization", "Contact"]
    names = sorted(row[0] for row in rows[1:])
    assert names == [f"Export {n:02d}" for n in range(30)]
