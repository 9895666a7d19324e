"""The board page and its endpoints, as the board's script and a no-JavaScript browser use them."""

from decimal import Decimal

import pytest
from django.urls import reverse

from contacts.models import Organization
from opportunities.models import Opportunity
from opportunities.services import opportunity_move_stage
from opportunities.tests.factories import OpportunityFactory
from pipeline.models import StageChange

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}


def board_url(pipeline, **params):
    from urllib.parse import urlencode

    url = reverse("pipeline:board_pipeline", args=[pipeline.pk])
    return f"{url}?{urlencode(params)}" if params else url


def header(html: str, stage) -> dict:
    import re

    match = re.search(
        rf'data-stage-id="{stage.pk}" data-count="(\d+)" data-amount="([\d.]+)" data-weighted="([\d.]+)"', html
    )
    assert match, f"no header for {stage}"
    return {"count": int(match[1]), "amount": Decimal(match[2]), "weighted": Decimal(match[3])}


def test_board_shows_every_stage_in_order_with_totals_of_all_matching_deals(client, manager, rep, stages, settings):
    settings.CRM_BOARD_PAGE_SIZE = 2
    for amount in ("100.00", "200.00", "300.00"):
        OpportunityFactory(owner=rep, stage=stages["Demo scheduled"], amount=Decimal(amount))
    client.force_login(manager)

    html = client.get(reverse("pipeline:board")).content.decode()

    names = ["New", "Qualifying", "Demo scheduled", "Pending commitment", "In negotiation", "Won", "Lost"]
    positions = [html.index(f'aria-label="{name}"') for name in names]
    assert positions == sorted(positions)
    # Only two cards are rendered, but the header counts all three (and 25 % of 600 is weighted).
    assert html.count('data-opportunity-id="') == 2
    assert header(html, stages["Demo scheduled"]) == {
        "count": 3,
        "amount": Decimal("600.00"),
        "weighted": Decimal("150.00"),
    }
    assert "Show more" in html


def test_more_button_returns_the_next_cards_of_the_column(client, manager, rep, stages, settings):
    settings.CRM_BOARD_PAGE_SIZE = 2
    deals = [OpportunityFactory(owner=rep, stage=stages["New"], name=f"Deal {i}") for i in range(3)]
    client.force_login(manager)
    url = reverse("pipeline:column_more", args=[stages["New"].pipeline_id, stages["New"].pk])

    html = client.get(url, {"offset": 2}).content.decode()

    # New cards go on top, so the oldest one is the third card of the column.
    assert html.count('data-opportunity-id="') == 1
    assert f'data-opportunity-id="{deals[0].pk}"' in html
    assert "Show more" not in html


def test_filters_narrow_cards_and_totals_and_stay_in_the_url(client, manager, rep, teammate, stages):
    OpportunityFactory(owner=rep, stage=stages["New"], name="Tablets", amount=Decimal("100.00"))
    OpportunityFactory(owner=teammate, stage=stages["New"], name="Printers", amount=Decimal("50.00"))
    client.force_login(rep)

    html = client.get(board_url(stages["New"].pipeline, scope="mine", q="tab")).content.decode()

    assert "Tablets" in html and "Printers" not in html
    assert header(html, stages["New"])["amount"] == Decimal("100.00")
    assert 'data-filters="q=tab&amp;scope=mine"' in html or 'data-filters="scope=mine&amp;q=tab"' in html


def test_a_rep_does_not_see_other_teams_deals_on_the_board(client, rep, other_rep, stages):
    OpportunityFactory(owner=other_rep, stage=stages["New"], name="Secret deal", amount=Decimal("999.00"))
    client.force_login(rep)

    html = client.get(reverse("pipeline:board")).content.decode()

    assert "Secret deal" not in html
    assert header(html, stages["New"])["count"] == 0


@pytest.mark.parametrize("deal_count", [10, 500])
def test_board_query_count_does_not_grow_with_deals(
    client, manager, rep, stages, deal_count, django_assert_num_queries
):
    org = Organization.objects.create(name="Acme", owner=rep)
    Opportunity.objects.bulk_create(
        Opportunity(
            name=f"Deal {i}",
            organization=org,
            owner=rep,
            pipeline=stages["New"].pipeline,
            stage=list(stages.values())[i % 5],
            amount=Decimal("10.00"),
            amount_base=Decimal("10.00"),
            probability=10,
            position=i,
        )
        for i in range(deal_count)
    )
    client.force_login(manager)
    url = reverse("pipeline:board")
    client.get(url)  # warm the session

    # (the session and the user come from the cache) the user's managed teams (visibility),
    # pipeline, totals (from the per-stage totals the database keeps), stages, cards (one
    # window-function query for every column), the user's team (navbar), pipelines, lost reasons
    with django_assert_num_queries(8):
        response = client.get(url)
    assert response.status_code == 200


def move(client, deal, stage, **data):
    url = reverse("pipeline:move", args=[deal.pk])
    return client.post(url, {"stage": stage.pk, "version": deal.version, **data}, **JSON)


def test_moving_a_card_goes_through_the_stage_service_and_returns_new_totals(client, rep, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"], amount=Decimal("400.00"))
    client.force_login(rep)

    response = move(client, deal, stages["Demo scheduled"])

    assert response.status_code == 200, response.content
    body = response.json()
    deal.refresh_from_db()
    assert deal.stage == stages["Demo scheduled"] and deal.probability == 25 and deal.version == 2
    assert StageChange.objects.filter(opportunity=deal).count() == 2
    assert body["headers"][str(stages["Demo scheduled"].pk)]["amount"] == "400.00"
    assert body["headers"][str(stages["Demo scheduled"].pk)]["weighted"] == "100.00"
    assert body["headers"][str(stages["New"].pk)]["count"] == 0
    assert set(body["headers"]) == {str(stages["New"].pk), str(stages["Demo scheduled"].pk)}  # the two it touched
    assert f'data-version="{deal.version}"' in body["card"]


def test_a_move_on_a_stale_card_is_refused_with_who_moved_it(client, rep, manager, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    stale_version = deal.version
    opportunity_move_stage(opportunity=deal, stage=stages["Qualifying"], user=manager)
    client.force_login(rep)

    response = client.post(
        reverse("pipeline:move", args=[deal.pk]), {"stage": stages["Won"].pk, "version": stale_version}, **JSON
    )

    assert response.status_code == 409
    message = response.json()["message"]
    assert manager.get_full_name() in message and "Qualifying" in message
    deal.refresh_from_db()
    assert deal.stage == stages["Qualifying"]


def test_dropping_on_lost_needs_a_reason(client, rep, stages, lost_reason):
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    client.force_login(rep)

    refused = move(client, deal, stages["Lost"])
    assert refused.status_code == 400
    assert "lost_reason" in refused.json()["errors"]
    deal.refresh_from_db()
    assert deal.stage == stages["New"]

    accepted = move(client, deal, stages["Lost"], lost_reason=lost_reason.pk)
    assert accepted.status_code == 200
    deal.refresh_from_db()
    assert deal.status == "lost" and deal.lost_reason == lost_reason


def test_only_who_may_edit_can_move(client, rep, teammate, other_rep, stages):
    deal = OpportunityFactory(owner=teammate, stage=stages["New"])

    client.force_login(rep)  # same team: sees it, may not move it
    assert move(client, deal, stages["Qualifying"]).status_code == 403
    client.force_login(other_rep)  # another team: does not even see it
    assert move(client, deal, stages["Qualifying"]).status_code == 404
    deal.refresh_from_db()
    assert deal.stage == stages["New"]


def test_cards_one_may_not_move_are_locked_on_the_board(client, rep, teammate, manager, stages):
    mine = OpportunityFactory(owner=rep, stage=stages["New"], name="Mio")
    theirs = OpportunityFactory(owner=teammate, stage=stages["New"], name="Del collega")

    def card_html(html, deal):
        start = html.index(f'data-opportunity-id="{deal.pk}"')
        return html[html.rindex("<article", 0, start) : html.index("</article>", start)]

    client.force_login(rep)
    html = client.get(board_url(stages["New"].pipeline)).content.decode()
    assert "board-card-locked" in card_html(html, theirs) and "board-move-form" not in card_html(html, theirs)
    assert "board-card-locked" not in card_html(html, mine) and "board-move-form" in card_html(html, mine)
    client.force_login(manager)  # the team's manager may move both
    html = client.get(board_url(stages["New"].pipeline)).content.decode()
    assert "board-card-locked" not in html


def test_a_stage_of_another_pipeline_is_refused(client, rep, stages, classic_stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    client.force_login(rep)

    response = move(client, deal, classic_stages["Prospecting"])

    assert response.status_code == 400
    deal.refresh_from_db()
    assert deal.stage == stages["New"]


def column_order(stage):
    return list(Opportunity.objects.filter(stage=stage).order_by("position", "id").values_list("name", flat=True))


def test_reordering_within_a_column_persists(client, rep, stages):
    a, b, c = (OpportunityFactory(owner=rep, stage=stages["New"], name=name) for name in "ABC")
    assert column_order(stages["New"]) == ["C", "B", "A"]  # new cards go on top
    client.force_login(rep)

    response = move(client, a, stages["New"], above=c.pk, below=b.pk)  # drop A between C and B

    assert response.status_code == 200
    assert column_order(stages["New"]) == ["C", "A", "B"]
    a.refresh_from_db()
    assert a.version == 1  # a reorder is not a stage change
    move(client, c, stages["New"], above=b.pk)  # C to the bottom
    assert column_order(stages["New"]) == ["A", "B", "C"]


def test_reordering_makes_room_when_neighbours_are_adjacent(rep, stages):
    deals = [OpportunityFactory(owner=rep, stage=stages["New"], name=name) for name in "ABCD"]
    Opportunity.objects.filter(pk__in=[d.pk for d in deals]).update(position=0)  # all tied: ordered by id
    assert column_order(stages["New"]) == ["A", "B", "C", "D"]

    opportunity_move_stage(opportunity=deals[3], stage=stages["New"], user=rep, above_id=deals[0].pk)

    assert column_order(stages["New"]) == ["A", "D", "B", "C"]


def test_quick_add_creates_a_deal_in_that_column_and_reuses_the_organization(client, rep, stages):
    Organization.objects.create(name="Acme Spa", owner=rep)
    client.force_login(rep)

    response = client.post(
        reverse("pipeline:quick_add"),
        {"stage": stages["Pending commitment"].pk, "name": "Rinnovo", "organization": " acme   SPA ", "amount": "1500"},
    )

    assert response.status_code == 302
    deal = Opportunity.objects.get(name="Rinnovo")
    assert deal.stage == stages["Pending commitment"] and deal.amount == Decimal("1500")
    assert Organization.objects.filter(name__iexact="acme spa").count() == 1


def test_quick_add_with_a_missing_name_says_which_field(client, rep, stages):
    client.force_login(rep)

    response = client.post(
        reverse("pipeline:quick_add"), {"stage": stages["New"].pk, "organization": "Acme"}, follow=True
    )

    assert response.status_code == 200
    assert "Deal name" in response.content.decode()
    assert not Opportunity.objects.exists()


def test_the_move_menu_works_without_javascript(client, rep, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    client.force_login(rep)

    response = client.post(
        reverse("pipeline:move", args=[deal.pk]),
        {"stage": stages["Qualifying"].pk, "version": deal.version, "filters": "scope=mine"},
    )

    assert response.status_code == 302
    assert response.url.endswith("?scope=mine")
    deal.refresh_from_db()
    assert deal.stage == stages["Qualifying"]


def test_stale_and_overdue_cards_are_marked(client, rep, stages):
    import datetime

    from django.utils import timezone

    deal = OpportunityFactory(
        owner=rep, stage=stages["New"], expected_close_date=timezone.localdate() - datetime.timedelta(days=3)
    )
    long_ago = timezone.now() - datetime.timedelta(days=400)
    # as the stage service records it: in the stage since long ago, rotten since 7 days later
    Opportunity.objects.filter(pk=deal.pk).update(
        stage_entered_at=long_ago, rots_at=long_ago + datetime.timedelta(days=7)
    )
    client.force_login(rep)

    html = client.get(reverse("pipeline:board")).content.decode()

    assert "data-stale" in html and "overdue" in html


def test_quick_add_suggests_organizations_the_reader_can_see(client, rep, other_rep):
    from contacts.tests.factories import OrganizationFactory

    OrganizationFactory(owner=rep, name="Ferramenta Bianchi")
    OrganizationFactory(owner=other_rep, name="Ferramenta Segreta")  # another team's
    client.force_login(rep)
    url = reverse("pipeline:organization_options")
    html = client.get(url, {"organization": "ferra"}).content.decode()
    assert '<option value="Ferramenta Bianchi">' in html
    assert "Segreta" not in html
    assert client.get(url, {"organization": "f"}).content.decode().strip() == ""


def test_a_bad_filter_value_is_named_not_a_500(client, rep, stages):
    OpportunityFactory(owner=rep, stage=stages["New"], name="Sempre visibile")
    client.force_login(rep)
    response = client.get(board_url(stages["New"].pipeline, close_after="not-a-date", scope="nobody"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Enter a valid date." in html
    assert "Sempre visibile" in html  # the other filters still apply; the bad one is ignored
    response = client.get(reverse("pipeline:board_pipeline", args=[999999]))
    assert response.status_code == 404


def test_a_hand_made_filters_value_cannot_break_the_redirect(client, rep, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    client.force_login(rep)
    data = {"stage": stages["Qualifying"].pk, "version": deal.version, "filters": "q=a\r\nSet-Cookie: x=1#frag"}
    response = client.post(reverse("pipeline:move", args=[deal.pk]), data)
    assert response.status_code == 302
    assert "\n" not in response["Location"] and "#" not in response["Location"]
    assert "Set-Cookie" not in {k for k, _v in response.items() if k != "Location"}


def test_the_board_speaks_italian_numbers(client, rep, stages):
    OpportunityFactory(owner=rep, stage=stages["New"], amount=Decimal("1200.00"))
    client.force_login(rep)
    from django.utils import translation

    with translation.override("en"):  # the middleware leaves Italian active in this thread otherwise
        html = client.get(board_url(stages["New"].pipeline), headers={"Accept-Language": "it"}).content.decode()
    assert '<html lang="it">' in html
    assert "1.200,00\xa0€" in html
    assert 'data-amount="1200.00"' in html  # the hooks stay machine-readable
