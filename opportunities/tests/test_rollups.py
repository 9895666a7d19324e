"""The totals the database keeps (opportunities/rollups.py) stay equal to the deals they add up,
whatever writes the deals, and the selectors that read them give the same numbers as adding up
the deals themselves (``CRM_DEAL_ROLLUPS=False``), for every reader."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from core.services import exchange_rate_set
from opportunities.models import Opportunity, StageTotal
from opportunities.rollups import ROLLUPS, rollup_differences, rollups_install, stage_totals_matching
from opportunities.services import (
    opportunity_amounts_rebase,
    opportunity_archive,
    opportunity_restore,
    opportunity_update,
)
from opportunities.tests.factories import OpportunityFactory
from pipeline.selectors import pipeline_summary
from pipeline.services import opportunity_move_stage, stage_enter

pytestmark = pytest.mark.django_db


def assert_totals_agree():
    for rollup in ROLLUPS:
        assert rollup_differences(rollup) == [], rollup.name


def uses_totals(queries) -> bool:
    return any("opportunities_stagetotal" in q["sql"] for q in queries.captured_queries)


@pytest.fixture
def deals(rep, teammate, manager, other_rep, stages, lost_reason):
    """Deals of both teams in every kind of stage, one in a currency without a rate."""
    made = {
        "rep_new": OpportunityFactory(owner=rep, stage=stages["New"], amount=Decimal("100.10")),
        "rep_demo": OpportunityFactory(owner=rep, stage=stages["Demo scheduled"], amount=Decimal("1000.00")),
        "rep_usd": OpportunityFactory(owner=rep, stage=stages["New"], amount=Decimal("40.00"), currency="USD"),
        "mate_new": OpportunityFactory(owner=teammate, stage=stages["New"], amount=Decimal("200.20")),
        "manager_q": OpportunityFactory(owner=manager, stage=stages["Qualifying"], amount=Decimal("7.77")),
        "other_new": OpportunityFactory(owner=other_rep, stage=stages["New"], amount=Decimal("5000.00")),
    }
    won = OpportunityFactory(owner=rep, stage=stages["New"], amount=Decimal("50.00"))
    made["rep_won"] = opportunity_move_stage(opportunity=won, stage=stages["Won"], user=rep)
    lost = OpportunityFactory(owner=other_rep, stage=stages["Qualifying"], amount=Decimal("300.00"))
    made["other_lost"] = opportunity_move_stage(
        opportunity=lost, stage=stages["Lost"], user=other_rep, lost_reason=lost_reason
    )
    archived = OpportunityFactory(owner=rep, stage=stages["New"], amount=Decimal("999.00"))
    made["archived"] = opportunity_archive(opportunity=archived, user=rep)
    return made


# --- the tables follow every write ---------------------------------------------------------------


def test_every_way_of_writing_deals_keeps_the_totals_right(
    deals, rep, teammate, other_rep, crm_admin, stages, lost_reason
):
    assert_totals_agree()
    # The services: moves (open, won, lost, reopened), edits of amount, owner, currency, probability.
    opportunity_move_stage(opportunity=deals["rep_new"], stage=stages["Qualifying"], user=rep)
    opportunity_move_stage(opportunity=deals["rep_won"], stage=stages["New"], user=rep)  # reopened
    opportunity_move_stage(opportunity=deals["mate_new"], stage=stages["Lost"], user=teammate, lost_reason=lost_reason)
    deal = Opportunity.objects.get(pk=deals["rep_demo"].pk)
    opportunity_update(opportunity=deal, user=rep, data={"amount": Decimal("1234.56"), "probability": 33})
    # Handing a deal to another team is an admin's move (accounts.permissions.assignable_owners).
    opportunity_update(opportunity=deals["manager_q"].pk, user=crm_admin, data={"owner": other_rep, "currency": "USD"})
    assert_totals_agree()
    # Archive and restore.
    opportunity_restore(opportunity=deals["archived"], user=rep)
    opportunity_archive(opportunity=deals["other_new"], user=other_rep)
    assert_totals_agree()
    # A bulk import: rows built by the stage policy, saved with bulk_create.
    rows = []
    for n, stage in enumerate([stages["New"], stages["Won"], stages["Lost"]]):
        row = Opportunity(name=f"Imported {n}", owner=rep, organization=deals["rep_new"].organization, amount=n + 1)
        row.probability = None
        stage_enter(row, stage, user=rep, lost_reason=lost_reason if stage.is_lost else None)
        row.amount_base = row.amount
        rows.append(row)
    Opportunity.objects.bulk_create(rows)
    assert_totals_agree()
    # One UPDATE of many rows (new exchange rates), the board's shift of a column, a plain save()
    # (what the admin does), and deleting deals for good.
    exchange_rate_set(currency="USD", valid_from=datetime.date(2000, 1, 1), rate=Decimal("0.90"))
    opportunity_amounts_rebase(currency="USD")
    Opportunity.objects.filter(stage=stages["New"]).update(position=Opportunity.objects.count())
    admin_edit = Opportunity.objects.get(pk=deals["rep_usd"].pk)
    admin_edit.amount, admin_edit.owner = Decimal("41.00"), teammate
    admin_edit.save()
    assert_totals_agree()
    Opportunity.objects.filter(pk__in=[deals["other_lost"].pk, rows[0].pk]).delete()
    assert_totals_agree()
    assert StageTotal.objects.filter(deals__gt=0).exists()


def test_missing_triggers_or_another_time_zone_reinstall_and_recompute(deals, rep, stages, settings):
    table = Opportunity._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP TRIGGER {table}_stage_totals_update ON {table}")
        else:
            cursor.execute(f"DROP TRIGGER {table}_stage_totals_update")
    opportunity_move_stage(opportunity=deals["rep_new"], stage=stages["Qualifying"], user=rep)
    assert rollup_differences(ROLLUPS[0]) != []  # what a lost trigger would do

    assert rollups_install() == ["stage_totals"]
    assert_totals_agree()
    assert rollups_install() == []  # nothing to do when everything is in place

    settings.TIME_ZONE = "America/New_York"
    assert rollups_install() == ["closed_months"]
    from opportunities.rollups import closed_months_time_zone

    assert closed_months_time_zone() == "America/New_York"
    assert_totals_agree()


# --- reading them --------------------------------------------------------------------------------


def test_the_board_totals_come_from_the_totals_and_equal_the_deals(
    deals, rep, teammate, manager, other_rep, crm_admin, pipeline, stages
):
    from pipeline.forms import BoardFilter

    for reader in (rep, teammate, manager, other_rep, crm_admin):
        visible = Opportunity.objects.visible_to(reader).active()
        variants = [
            visible,
            visible.filter(stage_id__in=[stages["New"].pk, stages["Won"].pk]),  # a move's two columns
            visible.filter(owner=reader),  # "Mine"
            visible.filter(status="open"),  # the forecast
            BoardFilter({}, queryset=visible.filter(pipeline=pipeline)).qs,
            BoardFilter({"scope": "team"}, queryset=visible, request=type("R", (), {"user": reader})).qs,
        ]
        for variant in variants:
            with CaptureQueriesContext(connection) as queries:
                kept = pipeline_summary(pipeline=pipeline, deals=variant)
            assert uses_totals(queries), (reader, variant.query)
            with override_settings(CRM_DEAL_ROLLUPS=False):
                assert kept == pipeline_summary(pipeline=pipeline, deals=variant), reader
    visible = Opportunity.objects.visible_to(rep).active()
    summary = {t.stage.name: t for t in pipeline_summary(pipeline=pipeline, deals=visible)}
    assert (summary["New"].count, summary["New"].amount) == (3, Decimal("300.30"))  # not the other team's
    assert summary["New"].unconverted == {"USD": Decimal("40.00")}


def test_other_filters_add_up_the_deals_themselves(deals, rep, pipeline, stages):
    from pipeline.forms import BoardFilter

    visible = Opportunity.objects.visible_to(rep).active()
    request = type("R", (), {"user": rep})
    for variant in (
        BoardFilter({"q": "Deal"}, queryset=visible, request=request).qs,
        BoardFilter({"close_after": "2020-01-01"}, queryset=visible, request=request).qs,
        visible.filter(amount__gte=100),
        visible.filter(stage__kind="open"),
        Opportunity.objects.visible_to(rep),  # archived deals included
        Opportunity.objects.active(),  # no reader: not "what someone may see"
        visible.exclude(stage=stages["New"]),
        visible.filter(pk__in=[deals["rep_new"].pk])[:1],
    ):
        assert stage_totals_matching(variant) is None, variant.query
    with CaptureQueriesContext(connection) as queries:
        filtered = pipeline_summary(pipeline=pipeline, deals=visible.filter(amount__gte=100))
    assert not uses_totals(queries)
    assert {t.stage.name: t.count for t in filtered}["New"] == 2  # 100.10 and 200.20, not 40 USD


def test_a_filter_that_reads_like_visibility_but_joins_another_user_is_not_taken_for_it(rep, team, deals):
    """The same SQL text over another join (the creator's team instead of the owner's) is not the
    visibility rule: the joins are compared too."""
    from django.db.models import Q

    lookalike = Opportunity.objects.filter(Q(owner_id=rep.pk) | Q(created_by__team_id__in=[team.pk])).active()
    lookalike._visible_to = rep
    assert stage_totals_matching(lookalike) is None


def test_counting_the_readers_deals_reads_the_totals(deals, rep, manager, other_rep, crm_admin):
    for reader in (rep, manager, other_rep, crm_admin):
        visible = Opportunity.objects.visible_to(reader).active()
        with CaptureQueriesContext(connection) as queries:
            counted = visible.count()
        assert uses_totals(queries)
        assert counted == len(list(visible)) > 0
        assert visible.filter(status="open").count() == len([d for d in visible if d.status == "open"])
        assert visible.filter(name__icontains="deal").count() == len(list(visible.filter(name__icontains="deal")))


def test_the_deal_list_and_the_api_count_from_the_totals(client, deals, rep, django_assert_num_queries):
    from opportunities.selectors import opportunity_list

    client.force_login(rep)
    response = client.get("/opportunities/")
    expected = opportunity_list(user=rep).filter().count()
    assert response.context["page"].paginator.count == expected == len(list(opportunity_list(user=rep)))
    api = client.get("/api/v1/opportunities/", headers={"Accept": "application/json"}).json()
    assert api["count"] == expected


# --- the lost-deals report's "lost from" ---------------------------------------------------------


def test_lost_from_stage_is_the_stage_left_when_the_deal_was_last_lost(rep, stages, lost_reason):
    from django.db.models import OuterRef, Subquery

    from pipeline.models import StageChange

    deal = OpportunityFactory(owner=rep, stage=stages["Qualifying"])
    opportunity_move_stage(opportunity=deal, stage=stages["Lost"], user=rep, lost_reason=lost_reason)
    assert Opportunity.objects.get(pk=deal.pk).lost_from_stage == stages["Qualifying"]
    opportunity_move_stage(opportunity=deal, stage=stages["Demo scheduled"], user=rep)  # reopened
    assert Opportunity.objects.get(pk=deal.pk).lost_from_stage is None
    opportunity_move_stage(opportunity=deal, stage=stages["Lost"], user=rep, lost_reason=lost_reason)
    born_lost = OpportunityFactory(owner=rep, stage=stages["Lost"], lost_reason=lost_reason)

    history = Subquery(
        StageChange.objects.filter(opportunity=OuterRef("pk"), to_stage__kind="lost")
        .order_by("-changed_at", "-id")
        .values("from_stage_id")[:1]
    )
    rows = Opportunity.objects.filter(status="lost").annotate(from_history=history)
    assert {(d.pk, d.lost_from_stage_id) for d in rows} == {(d.pk, d.from_history) for d in rows}
    assert Opportunity.objects.get(pk=deal.pk).lost_from_stage == stages["Demo scheduled"]
    assert Opportunity.objects.get(pk=born_lost.pk).lost_from_stage is None


# --- concurrency (PostgreSQL) --------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_moves_of_one_owners_deals_neither_deadlock_nor_lose_a_change(rep, stages):
    """Moves in opposite directions touch the same two groups: each trigger writes them in key
    order, so two moves wait for each other instead of deadlocking, and no change is lost."""
    import threading
    import traceback

    first, second = stages["New"], stages["Qualifying"]
    forth = [OpportunityFactory(owner=rep, stage=first) for _ in range(6)]
    back = [OpportunityFactory(owner=rep, stage=second) for _ in range(6)]
    start = threading.Barrier(len(forth) + len(back))
    errors = []

    def move(deal, target):
        try:
            start.wait()
            for _ in range(3):
                current = Opportunity.objects.get(pk=deal.pk)
                goal = target if current.stage_id != target.pk else (second if target == first else first)
                opportunity_move_stage(opportunity=deal.pk, stage=goal, user=rep)
        except Exception:
            errors.append(traceback.format_exc())
        finally:
            connection.close()

    threads = [threading.Thread(target=move, args=(d, second)) for d in forth]
    threads += [threading.Thread(target=move, args=(d, first)) for d in back]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors[0]
    assert_totals_agree()


def test_a_deal_closed_at_midnight_counts_in_its_local_month(rep, stages):
    """Months are months of the reader's time zone (Europe/Rome here), as in the live report."""
    from reports.selectors import won_lost_report

    tz = timezone.get_current_timezone()
    for closed in (
        datetime.datetime(2024, 3, 1, 0, 30, tzinfo=tz),  # 23:30 UTC on 29 February
        datetime.datetime(2024, 3, 31, 23, 30, tzinfo=tz),
        datetime.datetime(2024, 10, 27, 2, 30, tzinfo=tz),  # the night the clocks go back
    ):
        OpportunityFactory(owner=rep, stage=stages["Won"], amount=Decimal("10.00"), created_at=closed, closed_at=closed)
    assert_totals_agree()
    report = won_lost_report(user=rep, params={"group_by": "month"})
    assert [(row.key, row.won_count) for row in report.rows] == [("2024-03", 2), ("2024-10", 1)]
    with override_settings(CRM_DEAL_ROLLUPS=False):
        assert report.as_dict() == won_lost_report(user=rep, params={"group_by": "month"}).as_dict()


def test_the_rebuild_command_recomputes_the_totals(deals):
    import io

    from django.core.management import call_command

    StageTotal.objects.update(deals=0)  # as after loading deals with the triggers off
    out = io.StringIO()
    call_command("rebuild_deal_totals", stdout=out)
    assert "stage_totals" in out.getvalue() and "closed_months" in out.getvalue()
    assert_totals_agree()
