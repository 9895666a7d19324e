"""Scenarios of the pages that came first: the deal list, a deal's page, the per-stage totals and a
stage move through the one service that changes stages."""

import itertools

from django.urls import reverse

from . import BenchContext, raw_json

# The rows of the first deal-list page (what a list row shows), with hand-written SQL: the baseline
# an API page of deals is compared with (``<api scenario>_raw_baseline`` may call it).
DEAL_PAGE_SQL = """
    SELECT o.id, o.name, o.status, o.amount, o.currency, o.amount_base, o.probability,
           o.expected_close_date, o.next_step, o.created_at,
           org.id AS organization_id, org.name AS organization,
           c.id AS contact_id, c.first_name || ' ' || c.last_name AS contact,
           s.id AS stage_id, s.name AS stage, p.name AS pipeline,
           u.id AS owner_id, u.first_name || ' ' || u.last_name AS owner
    FROM opportunities_opportunity o
    LEFT JOIN contacts_organization org ON org.id = o.organization_id
    LEFT JOIN contacts_contact c ON c.id = o.contact_id
    JOIN pipeline_stage s ON s.id = o.stage_id
    JOIN pipeline_pipeline p ON p.id = o.pipeline_id
    JOIN accounts_user u ON u.id = o.owner_id
    WHERE o.archived_at IS NULL
    ORDER BY o.created_at DESC, o.id DESC
    LIMIT %s
"""


# Every field the API's opportunity serializer returns, for its raw baseline.
API_PAGE_SQL = """
    SELECT o.id, o.name, o.organization_id AS organization, o.contact_id AS contact, o.amount, o.currency,
           o.expected_close_date, o.probability, o.type, o.next_step, o.next_step_date, o.description,
           o.owner_id AS owner, o.lead_source, o.lost_note, o.external_id, o.pipeline_id AS pipeline,
           o.stage_id AS stage, o.lost_reason_id AS lost_reason, org.name AS organization_name,
           c.first_name || ' ' || c.last_name AS contact_name, s.name AS stage_name,
           u.first_name || ' ' || u.last_name AS owner_name, o.status, o.amount_base,
           round(o.amount * o.probability / 100, 2) AS weighted_amount, o.probability_is_manual,
           o.closed_at, o.stage_entered_at, o.position, o.version, o.archived_at IS NOT NULL AS archived,
           o.created_at, o.updated_at
    FROM opportunities_opportunity o
    LEFT JOIN contacts_organization org ON org.id = o.organization_id
    LEFT JOIN contacts_contact c ON c.id = o.contact_id
    JOIN pipeline_stage s ON s.id = o.stage_id
    JOIN accounts_user u ON u.id = o.owner_id
    WHERE o.archived_at IS NULL
    ORDER BY o.created_at DESC, o.id DESC
    LIMIT %s
"""


# The count of the active deals, the cheapest way hand-written SQL has: the per-stage totals the
# database keeps (what the list and the API read too), not a COUNT(*) over a million rows, so
# that the ratio measures what the framework adds, not which count each side runs.
COUNT_SQL = "SELECT COALESCE(SUM(deals), 0) FROM opportunities_stagetotal"


def _raw_page(sql: str, limit: int) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(COUNT_SQL)
        count = cursor.fetchone()[0]
    return f'{{"count": {count}, "results": {raw_json(sql, [limit])}}}'


def raw_api_page(limit: int = 100) -> str:
    """The API's first page of ``limit`` deals, as hand-written SQL and ``json.dumps``."""
    return _raw_page(API_PAGE_SQL, limit)


def raw_deal_page(limit: int = 100) -> str:
    """The first ``limit`` active deals as JSON, plus their count, without the ORM or a template."""
    return _raw_page(DEAL_PAGE_SQL, limit)


BUDGETS = {
    # user (session cached), count, page rows (with their joins), filter form choices, nav: not the rows.
    "deal_list_html": 10,
    "deal_list_html_raw_baseline": 2,
    "api_deal_list": 6,  # the target for an API page of 100 deals
    "api_deal_list_raw_baseline": 2,
    # + the lines, quotes, documents, activities, history, field changes, form choices, and whether the
    # reader may restore or purge it; the timeline's activities (planned, done), documents and quotes
    # (one query each) and the lost reasons of the stage bar's question
    "deal_detail_html": 26,  # + the e-mail card and timeline e-mails (issue 19), tags (21), notes feed (18)
    "pipeline_summary": 3,
    "move_service": 8,
}


def scenarios(ctx: BenchContext):
    from opportunities.deal_filters import DealFilters
    from opportunities.models import Opportunity
    from opportunities.services import opportunity_move_stage
    from pipeline.selectors import pipeline_summary

    list_url = reverse("opportunities:list")
    api_list_url = reverse("api:opportunity-list")
    detail_ids = itertools.cycle(ctx.opportunity_ids)

    def deal_list_html():
        response = ctx.client.get(list_url)
        assert response.status_code == 200, response.status_code
        return response

    def deal_list_html_raw_baseline():
        page = raw_deal_page(100)
        assert '"results": [{' in page
        return page

    api_checked = []

    def api_deal_list():
        response = ctx.client.get(api_list_url, {"page_size": 100}, headers={"Accept": "application/json"})
        assert response.status_code == 200, (response.status_code, response.content[:300])
        # Server time: parse the body once (the warm-up), not inside every timed run; the raw
        # baseline does not parse its JSON either.
        if not api_checked:
            assert len(response.json()["results"]) == min(100, ctx.size)
            api_checked.append(True)
        return response

    def api_deal_list_raw_baseline():
        page = raw_api_page(100)
        assert '"results": [{' in page
        return page

    def deal_detail_html():
        response = ctx.client.get(reverse("opportunities:detail", args=[next(detail_ids)]))
        assert response.status_code == 200, response.status_code
        return response

    def summary():
        totals = pipeline_summary(user=ctx.user, pipeline=ctx.pipeline, filters=DealFilters())
        assert totals and sum(t.count for t in totals) > 0
        return totals

    # One deal goes back and forth between the first two open stages, passing its current version
    # as the board does; the last deal of the sample so the detail scenario reads the others.
    mover = {"pk": ctx.opportunity_ids[-1], "version": None}
    first, second = ctx.open_stage_ids[0], ctx.open_stage_ids[1]

    def move_service():
        if mover["version"] is None:
            deal = Opportunity.objects.only("version", "stage_id").get(pk=mover["pk"])
            mover["version"], mover["stage"] = deal.version, deal.stage_id
        target = second if mover["stage"] == first else first
        moved = opportunity_move_stage(
            opportunity=mover["pk"], stage=target, user=ctx.user, expected_version=mover["version"]
        )
        assert moved.stage_id == target
        mover["version"], mover["stage"] = moved.version, moved.stage_id
        return moved

    return [
        ("deal_list_html", deal_list_html),
        ("deal_list_html_raw_baseline", deal_list_html_raw_baseline),
        ("api_deal_list", api_deal_list),
        ("api_deal_list_raw_baseline", api_deal_list_raw_baseline),
        ("deal_detail_html", deal_detail_html),
        ("pipeline_summary", summary),
        ("move_service", move_service),
    ]
