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
from opportunities.deal_filters import DealFilters, deals_matching
from opportunities.models import Opportunity, StageTotal
from opportunities.rollups import (
    ROLLUPS,
    closed_months_time_zone,
    funnel_column_differences,
    history_trigger_names,
    missing_triggers,
    rollup_differences,
    stage_totals_for,
    trigger_names,
)
from opportunities.services import (
    opportunity_amounts_rebase,
    opportunity_archive,
    opportunity_move_stage,
    opportunity_restore,
    opportunity_update,
    stage_enter,
)
from opportunities.tests.factories import OpportunityFactory
from pipeline.selectors import pipeline_summary

pytestmark = pytest.mark.django_db


def assert_totals_agree():
    assert funnel_column_differences() == []
    for rollup in ROLLUPS:
        assert rollup_differences(rollup) == [], rollup.name
    assert_check_is_clean()


def assert_check_is_clean():
    """``manage.py check_deal_totals`` finds nothing (it exits with status 1 on any difference)."""
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("check_deal_totals", stdout=out)
    assert "equal the deals" in out.getvalue()


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


def test_check_deal_totals_reports_a_lost_trigger_and_rebuild_reinstalls(deals, rep, stages, settings):
    import io

    from django.core.management import CommandError, call_command

    table = Opportunity._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP TRIGGER {table}_stage_totals_update ON {table}")
        else:
            cursor.execute(f"DROP TRIGGER {table}_stage_totals_update")
    opportunity_move_stage(opportunity=deals["rep_new"], stage=stages["Qualifying"], user=rep)

    out = io.StringIO()
    with pytest.raises(CommandError, match="difference"):
        call_command("check_deal_totals", stdout=out)
    report = out.getvalue()
    assert f"missing trigger {table}_stage_totals_update" in report
    assert f"opportunities_stagetotal [pipeline_id={stages['New'].pipeline_id}, stage_id={stages['New'].pk}" in report

    call_command("rebuild_deal_totals", stdout=io.StringIO())
    assert_totals_agree()

    # A new TIME_ZONE: the rebuild counts the months in it, and says so to the won/lost selector.
    settings.TIME_ZONE = "America/New_York"
    call_command("rebuild_deal_totals", stdout=io.StringIO())
    assert closed_months_time_zone() == "America/New_York"
    assert_totals_agree()


def test_the_migrations_install_every_trigger_and_record_the_time_zone(db, settings):
    """The test database was made by ``migrate``: a later migration that rebuilt the deal table
    without ending with InstallDealTotals (SQLite drops a rebuilt table's triggers) fails here."""
    assert missing_triggers() == []
    assert len(trigger_names(connection.vendor)) == (16 if connection.vendor == "postgresql" else 12)
    assert len(history_trigger_names(connection.vendor)) == (4 if connection.vendor == "postgresql" else 3)
    assert closed_months_time_zone() == settings.TIME_ZONE


def test_every_migration_that_alters_the_deal_table_after_the_triggers_reinstalls_them():
    """See opportunities/rollups.py: such a migration ends with InstallDealTotals()."""
    from django.db import migrations as ops
    from django.db.migrations.loader import MigrationLoader

    from opportunities.rollups import InstallDealTotals

    loader = MigrationLoader(None, ignore_no_migrations=True)
    graph = loader.graph
    installed_by = ("opportunities", "0009_deal_totals_triggers")
    harmless = (ops.AddIndex, ops.RemoveIndex, ops.RenameIndex, ops.RunPython, ops.AlterModelOptions)
    for key in graph.leaf_nodes():
        for node in graph.forwards_plan(key):
            if node == installed_by or installed_by not in graph.forwards_plan(node):
                continue
            migration = loader.graph.nodes[node]
            # The deal table, and the stage history whose triggers keep the deal's funnel columns.
            touches = [
                op
                for op in migration.operations
                if not isinstance(op, harmless)
                and (node[0], (getattr(op, "model_name", None) or getattr(op, "name", "")).lower())
                in {("opportunities", "opportunity"), ("pipeline", "stagechange")}
            ]
            if touches:
                assert isinstance(migration.operations[-1], InstallDealTotals), node


@pytest.mark.django_db(transaction=True)
def test_the_trigger_migration_is_reversible(rep, stages):
    from django.core.management import call_command

    deal = OpportunityFactory(owner=rep, stage=stages["New"], amount=Decimal("10.00"))
    call_command("migrate", "opportunities", "0008", verbosity=0)
    try:
        assert missing_triggers() == trigger_names(connection.vendor) + history_trigger_names(connection.vendor)
        Opportunity.objects.filter(pk=deal.pk).update(amount_base=Decimal("99.00"))  # not followed
    finally:
        # Every app: going back to 0008 also unapplied the apps whose migrations depend on later
        # deal migrations (mail, notes, web forms...), and the rest of the suite needs their tables.
        call_command("migrate", verbosity=0)
    assert missing_triggers() == []
    assert_totals_agree()  # recomputed from the deals by the migration


# --- reading them --------------------------------------------------------------------------------


def _board_filter(params, reader):
    from pipeline.forms import BoardFilter

    return BoardFilter(params, queryset=Opportunity.objects.none(), request=type("R", (), {"user": reader}))


def test_the_board_totals_come_from_the_totals_when_the_filters_are_keys_and_equal_the_deals(
    deals, rep, teammate, manager, other_rep, crm_admin, team, pipeline, stages
):
    for reader in (rep, teammate, manager, other_rep, crm_admin):
        variants = [
            DealFilters(),
            DealFilters(stages=(stages["New"].pk, stages["Won"].pk)),  # a move's two columns
            DealFilters(scope="mine"),
            DealFilters(scope="team"),
            DealFilters(owners=(rep.pk, other_rep.pk)),
            DealFilters(teams=(team.pk,)),
            DealFilters(statuses=("open",)),  # the forecast
            DealFilters(currencies=("USD",)),
            DealFilters(pipeline=pipeline.pk, statuses=("won", "lost")),
            DealFilters.from_filterset(_board_filter({"scope": "team", "close_after": "no date"}, reader)),
        ]
        for filters in variants:
            assert filters.keys_only(), filters
            with CaptureQueriesContext(connection) as queries:
                kept = pipeline_summary(user=reader, pipeline=pipeline, filters=filters)
            assert uses_totals(queries), (reader, filters)
            with override_settings(CRM_DEAL_ROLLUPS=False):
                assert kept == pipeline_summary(user=reader, pipeline=pipeline, filters=filters), (reader, filters)
    summary = {t.stage.name: t for t in pipeline_summary(user=rep, pipeline=pipeline, filters=DealFilters())}
    assert (summary["New"].count, summary["New"].amount) == (3, Decimal("300.30"))  # not the other team's
    assert summary["New"].unconverted == {"USD": Decimal("40.00")}


def test_other_filters_add_up_the_deals_themselves(deals, rep, pipeline, stages):
    for filters in (
        DealFilters.from_filterset(_board_filter({"q": "Deal"}, rep)),
        DealFilters.from_filterset(_board_filter({"close_after": "2020-01-01"}, rep)),
        DealFilters.from_filterset(_board_filter({"type": "new_business"}, rep)),
        DealFilters(amount_min=Decimal("100"), statuses=("open",)),
        DealFilters(organization=deals["rep_new"].organization_id),
    ):
        assert not filters.keys_only()
        assert stage_totals_for(user=rep, filters=filters) is None
    with CaptureQueriesContext(connection) as queries:
        filtered = pipeline_summary(user=rep, pipeline=pipeline, filters=DealFilters(amount_min=Decimal("100")))
    assert not uses_totals(queries)
    assert {t.stage.name: t.count for t in filtered}["New"] == 2  # 100.10 and 200.20, not 40 USD


def test_the_forecasts_stage_totals_equal_the_open_deals_its_filters_select(deals, rep, manager, crm_admin, team):
    from reports.selectors import forecast_report

    for reader in (rep, manager, crm_admin):
        for params in ({}, {"team": team.pk}, {"owner": rep.pk}, {"type": "new_business"}, {"period": "this_year"}):
            with CaptureQueriesContext(connection) as queries:
                kept = forecast_report(user=reader, params=params).by_stage
            assert uses_totals(queries) == (params.keys() <= {"team", "owner"}), params
            with override_settings(CRM_DEAL_ROLLUPS=False):
                assert kept == forecast_report(user=reader, params=params).by_stage, (reader, params)
            assert sum(t.count for t in kept if not t.stage.is_open) == 0  # open deals only


# The API's and the list's parameters, one filter at a time and together: DealFilters selects the
# same deals as the FilterSet that validated them (the rows of the list come from the FilterSet).
FILTER_PARAMS = [
    {},
    {"q": "deal"},
    {"scope": "mine"},
    {"scope": "team"},
    {"scope": "all"},
    {"status": "open"},
    {"type": "new_business"},
    {"lead_source": "website"},
    {"amount_min": "100", "amount_max": "1000"},
    {"close_after": "2000-01-01", "close_before": "2100-01-01"},
    {"closed_after": "2000-01-01", "closed_before": "2100-01-01"},
    {"updated_since": "2000-01-01T00:00:00Z"},
]


@pytest.mark.parametrize("params", FILTER_PARAMS)
def test_deal_filters_select_what_the_filterset_selects(deals, rep, manager, crm_admin, stages, params):
    from opportunities.filters import OpportunityFilter
    from opportunities.selectors import opportunity_list

    extra = [{}, {"stage": stages["New"].pk}, {"owner": rep.pk}, {"organization": deals["rep_new"].organization_id}]
    for reader in (rep, manager, crm_admin):
        for more in extra:
            request = type("R", (), {"user": reader})
            filterset = OpportunityFilter({**params, **more}, queryset=opportunity_list(user=reader), request=request)
            assert filterset.is_valid(), filterset.errors
            filters = DealFilters.from_filterset(filterset)
            expected = sorted(filterset.qs.values_list("pk", flat=True))
            assert sorted(deals_matching(user=reader, filters=filters).values_list("pk", flat=True)) == expected


def test_deal_filters_know_every_filter_of_the_list_and_the_reports(rep, pipeline, stages):
    """A filter added to a FilterSet but not to DealFilters raises instead of being left out of
    the totals."""
    from opportunities.filters import OpportunityFilter

    data = {name: object() for name in OpportunityFilter.base_filters}
    data["ordering"] = ["name"]
    for name in ("pipeline", "stage", "owner"):
        data[name] = {"pipeline": pipeline, "stage": stages["New"], "owner": rep}[name]
    DealFilters.from_cleaned_data(data)  # no ValueError
    with pytest.raises(ValueError, match="colour"):
        DealFilters.from_cleaned_data({"colour": "red"})


def test_the_deal_list_and_the_api_count_from_the_totals_when_the_filters_are_keys(client, deals, rep, stages):
    from opportunities.selectors import opportunity_list

    client.force_login(rep)
    everything = len(list(opportunity_list(user=rep)))
    new = len(list(opportunity_list(user=rep).filter(stage=stages["New"])))
    for params, expected, from_totals in (
        ({}, everything, True),
        ({"stage": stages["New"].pk, "scope": "mine"}, new - 1, True),  # the teammate's deal out
        ({"q": "zzz-no-such-deal"}, 0, False),
        ({"amount_min": "150"}, 2, False),  # 1000.00 and 200.20
    ):
        with CaptureQueriesContext(connection) as queries:
            page = client.get("/opportunities/", params).context["page"]
        assert page.paginator.count == expected, params
        assert uses_totals(queries) == from_totals, params
        with CaptureQueriesContext(connection) as queries:
            api = client.get("/api/v1/opportunities/", params, headers={"Accept": "application/json"}).json()
        assert api["count"] == expected, params
        assert uses_totals(queries) == from_totals, params
    # The archived deals are not in the totals: counted.
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/opportunities/", {"archived": "1"}).context["page"].paginator.count == 1
    assert not uses_totals(queries)


def test_an_invalid_filter_of_the_pipeline_summary_is_a_400_naming_it(client, rep, pipeline):
    client.force_login(rep)
    url = f"/api/v1/pipelines/{pipeline.pk}/summary/"
    for name, value in (("amount_min", "abc"), ("close_after", "not-a-date"), ("stage", "999999"), ("scope", "x")):
        response = client.get(url, {name: value}, headers={"Accept": "application/json"})
        assert response.status_code == 400, (name, response.content)
        assert name in response.json()["error"]["fields"]
    assert client.get(url, {"amount_min": "10"}, headers={"Accept": "application/json"}).status_code == 200


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

    from django.core.management import CommandError, call_command

    StageTotal.objects.update(deals=0)  # as after loading deals with the triggers off
    with pytest.raises(CommandError):
        call_command("check_deal_totals", stdout=io.StringIO())
    out = io.StringIO()
    call_command("rebuild_deal_totals", stdout=out)
    assert "stage_totals" in out.getvalue() and "closed_months" in out.getvalue()
    assert_totals_agree()
