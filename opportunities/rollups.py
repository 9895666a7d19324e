"""Totals the database keeps up to date as deals change: the per-stage totals of the board, the
closed deals per month of the won/lost report, and the funnel's cohorts (deals per creation month
and set of stages entered) and stays (per stage and calendar days spent in it).

Adding up every deal on each request cannot stay fast as the years pile up (a million deals: over
a second for the board's column totals, several for the won/lost report). These tables hold the
same sums for a few hundred or thousand groups instead. A selector reads them when the reader's
filters are keys of the table (``DealFilters.keys_only()``, :func:`stage_totals_for`; for the
months ``reports.selectors._closed_months``), decided from the filter values, and otherwise adds
up the deals; each caller says in one line which it did.

**Why triggers.** Deals are written by the services, but also in bulk: imports (``bulk_create``),
``opportunity_amounts_rebase`` (one UPDATE), the admin, COPY in ``bench/generate.py``. A trigger
on the deal table sees every one of them, inside the writing transaction, so the totals can never
drift from the rows. PostgreSQL gets one statement-level trigger per event that adds the
statement's changes up per group first (a bulk update of 100,000 deals writes each group once, in
key order so concurrent moves lock rows in the same order); SQLite gets row-level triggers (no
transition tables there). Both are generated here from one definition per table (:data:`ROLLUPS`),
and the tables are recomputed from the same definition.

**Installed by migrations.** The migration operation :class:`InstallDealTotals` (first in
``opportunities/migrations/0009_deal_totals_triggers.py``) creates the triggers for the database
of the migration, computes the tables from the deals and records the time zone of the months in
``opportunities_dealtotalszone``; reversed, it drops them. Nothing is installed outside
``migrate`` (``manage.py rebuild_deal_totals`` does the same by hand, e.g. for a new
``TIME_ZONE``; ``manage.py check_deal_totals`` reports any difference between the tables and the
deals, and a missing trigger).

**Changing the deal table.** Any later migration that alters ``opportunities_opportunity``
(a field added, altered, renamed or removed, a constraint) must end with ``InstallDealTotals()``:
on SQLite altering a table often rebuilds it, which drops its triggers; on PostgreSQL the trigger
functions name the columns. One that renames or removes a column the definitions below read
changes them in the same commit and starts with ``DropDealTotals()`` (SQLite refuses to drop a
column a trigger reads). ``opportunities/tests/test_rollups.py`` fails when a trigger is missing
after ``migrate`` or such a migration does not end with the operation.

**The stage history.** The funnel's tables add up two columns of the deal, ``stages_entered`` and
``stage_days``, that triggers on ``pipeline_stagechange`` compute from the deal's history whenever
a history row is written, changed or deleted (see "The stage history" below); Python never writes
them (``Opportunity.save`` leaves them out). A migration that alters the history table ends with
``InstallDealTotals()`` too.

**Time zone.** Months are months of the closing date in ``settings.TIME_ZONE`` at install time;
the won/lost selector uses the table only when the reader's current time zone is that one
(:func:`closed_months_time_zone`).
"""

# SQL is built here from the table and column names of the definitions below (never from input);
# values are query parameters, and the time zone name is quoted as a literal.
# ruff: noqa: S608

from dataclasses import dataclass

from django.conf import settings
from django.db import connections, router, transaction
from django.db.migrations.operations.base import Operation
from django.db.models import Sum

from accounts.permissions import is_anonymous, owned_by_visible_q, sees_everything

from .models import StageTotal

DEAL_TABLE = "opportunities_opportunity"
# Which time zone each table's months were computed in (not a model: test flushes leave it alone).
ZONE_TABLE = "opportunities_dealtotalszone"


@dataclass(frozen=True)
class Rollup:
    """A table of sums over the deals matching ``where``, grouped by ``keys``.

    Expressions are SQL over one deal row, written with ``{r}`` for the row and ``{tz}`` for the
    time zone literal; ``{month:…}`` and ``{days:…,…}`` are spelled per database by :func:`_sql`.
    """

    name: str
    table: str
    where: str
    keys: tuple[tuple[str, str], ...]
    measures: tuple[tuple[str, str], ...]
    # The deal columns the expressions read: an UPDATE that changes none of them changes no sum.
    columns: tuple[str, ...]
    # True: one row per element of the deal's ``stage_days`` JSON array (``{stay:0}`` is the stage,
    # ``{stay:1}`` the whole days) instead of one row per deal.
    expand: bool = False

    @property
    def key_names(self) -> list[str]:
        return [name for name, _ in self.keys]

    @property
    def measure_names(self) -> list[str]:
        return [name for name, _ in self.measures]

    @property
    def uses_time_zone(self) -> bool:
        return any("{month:" in e or "{days:" in e for _, e in self.keys + self.measures)


STAGE_TOTALS = Rollup(
    name="stage_totals",
    table="opportunities_stagetotal",
    where="{r}.archived_at IS NULL",
    keys=(
        ("pipeline_id", "{r}.pipeline_id"),
        ("stage_id", "{r}.stage_id"),
        ("owner_id", "{r}.owner_id"),
        ("status", "{r}.status"),
        ("currency", "{r}.currency"),
    ),
    measures=(
        ("deals", "1"),
        ("amount_base", "COALESCE({r}.amount_base, 0)"),
        ("weighted", "COALESCE({r}.amount_base * {r}.probability, 0)"),
        ("unconverted_deals", "CASE WHEN {r}.amount_base IS NULL THEN 1 ELSE 0 END"),
        ("unconverted_amount", "CASE WHEN {r}.amount_base IS NULL THEN {r}.amount ELSE 0 END"),
    ),
    columns=(
        "archived_at",
        "pipeline_id",
        "stage_id",
        "owner_id",
        "status",
        "currency",
        "amount_base",
        "probability",
        "amount",
    ),
)

CLOSED_MONTHS = Rollup(
    name="closed_months",
    table="opportunities_closedmonth",
    where="{r}.archived_at IS NULL AND {r}.status IN ('won', 'lost')",
    keys=(
        ("month", "{month:closed_at}"),
        ("pipeline_id", "{r}.pipeline_id"),
        ("owner_id", "{r}.owner_id"),
        ("status", "{r}.status"),
        ("currency", "{r}.currency"),
        ("type", "{r}.type"),
        ("lead_source", "{r}.lead_source"),
        ("lost_reason_id", "COALESCE({r}.lost_reason_id, 0)"),
    ),
    measures=(
        ("deals", "1"),
        ("converted_deals", "CASE WHEN {r}.amount_base IS NULL THEN 0 ELSE 1 END"),
        ("amount_base", "COALESCE({r}.amount_base, 0)"),
        ("amount", "{r}.amount"),
        ("unconverted_amount", "CASE WHEN {r}.amount_base IS NULL THEN {r}.amount ELSE 0 END"),
        ("cycle_days", "{days:closed_at,created_at}"),
    ),
    columns=(
        "archived_at",
        "status",
        "closed_at",
        "created_at",
        "pipeline_id",
        "owner_id",
        "currency",
        "type",
        "lead_source",
        "lost_reason_id",
        "amount_base",
        "amount",
    ),
)

# The funnel (reports/selectors/funnel.py): how far the deals created in a month went, and how long
# their stays in each stage lasted. Both read the deal's ``stages_entered`` and ``stage_days``, which
# the triggers on the stage history keep (see "The stage history" below).
FUNNEL_COHORTS = Rollup(
    name="funnel_cohorts",
    table="opportunities_funnelcohort",
    where="{r}.archived_at IS NULL",
    keys=(
        ("month", "{month:created_at}"),
        ("pipeline_id", "{r}.pipeline_id"),
        ("owner_id", "{r}.owner_id"),
        ("currency", "{r}.currency"),
        ("type", "{r}.type"),
        ("lead_source", "{r}.lead_source"),
        ("stages_entered", "{r}.stages_entered"),
    ),
    measures=(("deals", "1"),),
    columns=(
        "archived_at",
        "created_at",
        "pipeline_id",
        "owner_id",
        "currency",
        "type",
        "lead_source",
        "stages_entered",
    ),
)

STAGE_STAYS = Rollup(
    name="stage_stays",
    table="opportunities_stagestay",
    where="{r}.archived_at IS NULL",
    keys=(
        ("month", "{month:created_at}"),
        ("pipeline_id", "{r}.pipeline_id"),
        ("stage_id", "{stay:0}"),
        ("days", "{stay:1}"),
    ),
    measures=(("stays", "1"),),
    columns=("archived_at", "created_at", "pipeline_id", "stage_days"),
    expand=True,
)

ROLLUPS = (STAGE_TOTALS, CLOSED_MONTHS, FUNNEL_COHORTS, STAGE_STAYS)


# --- SQL -----------------------------------------------------------------------------------------


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def calendar_days_sql(later: str, earlier: str, *, vendor: str, tz: str) -> str:
    """SQL for the calendar days from ``earlier`` to ``later`` (two datetime expressions) in the
    time zone ``tz`` (a quoted literal), as a person counts them: 1 March at 18:00 to 5 March at
    9:00 is 4 days, whatever the hours and a daylight-saving change in between.

    The one definition of "days" between two moments of a deal: the sales cycle of the won/lost
    report and every stay in a stage (the funnel, time in stage), spelled as Django spells
    TruncDate on each database so the sums equal the live aggregates."""
    if vendor == "postgresql":
        return f"((({later}) AT TIME ZONE {tz})::date - (({earlier}) AT TIME ZONE {tz})::date)"
    return (
        f"CAST(ROUND(julianday(django_datetime_cast_date({later}, {tz}, 'UTC'))"
        f" - julianday(django_datetime_cast_date({earlier}, {tz}, 'UTC'))) AS INTEGER)"
    )


def _sql(expression: str, *, row: str, vendor: str, tz: str) -> str:
    """One definition expression for ``row`` on ``vendor``: the local month and the calendar days
    between two dates are spelled exactly as Django spells TruncMonth and TruncDate there, so the
    sums equal the live aggregates."""
    import re

    def month(match):
        column = f"{row}.{match.group(1)}"
        if vendor == "postgresql":
            return f"(date_trunc('month', {column} AT TIME ZONE {tz}))::date"
        return f"substr(django_datetime_trunc('month', {column}, {tz}, 'UTC'), 1, 10)"

    def days(match):
        return calendar_days_sql(f"{row}.{match.group(1)}", f"{row}.{match.group(2)}", vendor=vendor, tz=tz)

    def stay(match):
        if vendor == "postgresql":
            return f"(stay.value->>{match.group(1)})::bigint"
        return f"json_extract(stay.value, '$[{match.group(1)}]')"

    expression = re.sub(r"\{stay:(\d)\}", stay, expression)
    expression = re.sub(r"\{month:(\w+)\}", month, expression)
    expression = re.sub(r"\{days:(\w+),(\w+)\}", days, expression)
    return expression.replace("{r}", row).replace("{tz}", tz)


def _rows_sql(rollup: Rollup, *, source: str, row: str, sign: str, vendor: str, tz: str) -> str:
    """``SELECT <keys>, <signed measures> FROM source row WHERE <where>``."""
    keys = [f"{_sql(e, row=row, vendor=vendor, tz=tz)} AS {n}" for n, e in rollup.keys]
    measures = [f"{sign}({_sql(e, row=row, vendor=vendor, tz=tz)}) AS {n}" for n, e in rollup.measures]
    where = _sql(rollup.where, row=row, vendor=vendor, tz=tz)
    return f"SELECT {', '.join(keys + measures)} FROM {source} {row}{_expansion(rollup, row, vendor)} WHERE {where}"


def _expansion(rollup: Rollup, row: str, vendor: str) -> str:
    return f" {stays_sql(row, vendor=vendor)[0]}" if rollup.expand else ""


def stays_sql(row: str, *, vendor: str) -> tuple[str, str, str]:
    """(the join that turns the deal row ``row`` into one row per finished stay, the stay's stage,
    its calendar days), spelled for ``vendor``: the funnel's live path reads the stays this way too."""
    if vendor == "postgresql":
        join = f"CROSS JOIN LATERAL json_array_elements({row}.stage_days::json) AS stay(value)"
    else:
        join = f", json_each({row}.stage_days) AS stay"
    return join, _sql("{stay:0}", row=row, vendor=vendor, tz=""), _sql("{stay:1}", row=row, vendor=vendor, tz="")


def _grouped_sql(rollup: Rollup, parts: list[str], *, only_changes: bool) -> str:
    keys = ", ".join(rollup.key_names)
    sums = ", ".join(f"SUM({n})" for n in rollup.measure_names)
    having = " OR ".join(f"SUM({n}) <> 0" for n in rollup.measure_names)
    return (
        f"SELECT {keys}, {sums} FROM ({' UNION ALL '.join(parts)}) changes GROUP BY {keys}"
        + (f" HAVING {having}" if only_changes else "")
        + f" ORDER BY {keys}"
    )


def _upsert_sql(rollup: Rollup, select: str, *, vendor: str) -> str:
    columns = ", ".join(rollup.key_names + rollup.measure_names)
    keys = ", ".join(rollup.key_names)
    target = "t." if vendor == "postgresql" else ""
    updates = ", ".join(f"{n} = {target}{n} + excluded.{n}" for n in rollup.measure_names)
    alias = " AS t" if vendor == "postgresql" else ""
    return f"INSERT INTO {rollup.table}{alias} ({columns}) {select} ON CONFLICT ({keys}) DO UPDATE SET {updates}"


def _postgresql_install(rollup: Rollup, tz: str) -> list[str]:
    tz = _quote(tz)
    fn = f"{DEAL_TABLE}_{rollup.name}"

    def rows(source, row, sign):
        return _rows_sql(rollup, source=source, row=row, sign=sign, vendor="postgresql", tz=tz)

    bodies = {
        "insert": _grouped_sql(rollup, [rows("new_rows", "n", "+")], only_changes=False),
        "update": _grouped_sql(rollup, [rows("new_rows", "n", "+"), rows("old_rows", "o", "-")], only_changes=True),
        "delete": _grouped_sql(rollup, [rows("old_rows", "o", "-")], only_changes=True),
    }
    referencing = {
        "insert": "REFERENCING NEW TABLE AS new_rows",
        "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "delete": "REFERENCING OLD TABLE AS old_rows",
    }
    statements = []
    for event, select in bodies.items():
        statements += [
            f"CREATE OR REPLACE FUNCTION {fn}_{event}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n  {_upsert_sql(rollup, select, vendor='postgresql')};\n  RETURN NULL;\nEND\n$$",
            f"DROP TRIGGER IF EXISTS {fn}_{event} ON {DEAL_TABLE}",
            f"CREATE TRIGGER {fn}_{event} AFTER {event.upper()} ON {DEAL_TABLE} {referencing[event]} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {fn}_{event}()",
        ]
    statements += [
        f"CREATE OR REPLACE FUNCTION {fn}_truncate() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n  DELETE FROM {rollup.table};\n  RETURN NULL;\nEND\n$$",
        f"DROP TRIGGER IF EXISTS {fn}_truncate ON {DEAL_TABLE}",
        f"CREATE TRIGGER {fn}_truncate AFTER TRUNCATE ON {DEAL_TABLE} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {fn}_truncate()",
    ]
    return statements


def _sqlite_install(rollup: Rollup, tz: str) -> list[str]:
    tz = _quote(tz)
    name = f"{DEAL_TABLE}_{rollup.name}"

    def expr(e, row):
        return _sql(e, row=row, vendor="sqlite", tz=tz)

    def add_new():
        values = [expr(e, "NEW") for _, e in rollup.keys] + [expr(e, "NEW") for _, e in rollup.measures]
        select = f"SELECT {', '.join(values)} WHERE {expr(rollup.where, 'NEW')}"
        return _upsert_sql(rollup, select, vendor="sqlite") + ";"

    def remove_old():
        # An UPDATE, not an upsert: the group of a row being removed exists. (A flush that empties
        # this table before the deals must not leave negative rows behind.)
        sets = ", ".join(f"{n} = {n} - ({expr(e, 'OLD')})" for n, e in rollup.measures)
        match = " AND ".join(f"{n} = {expr(e, 'OLD')}" for n, e in rollup.keys)
        return f"UPDATE {rollup.table} SET {sets} WHERE ({expr(rollup.where, 'OLD')}) AND {match};"

    if rollup.expand:
        # Several rows per deal: add up the deal's stays per group first, then upsert the groups;
        # removing subtracts each group's stays of the old row.
        def grouped(row):
            keys = [f"{expr(e, row)} AS {n}" for n, e in rollup.keys]
            sums = [f"SUM({expr(e, row)}) AS {n}" for n, e in rollup.measures]
            return (
                f"SELECT {', '.join(keys + sums)} FROM json_each({row}.stage_days) AS stay "
                f"WHERE {expr(rollup.where, row)} GROUP BY {', '.join(rollup.key_names)}"
            )

        def add_new():
            return _upsert_sql(rollup, f"SELECT * FROM ({grouped('NEW')}) WHERE true", vendor="sqlite") + ";"

        def remove_old():
            match = " AND ".join(f"g.{n} = {rollup.table}.{n}" for n in rollup.key_names)
            sets = ", ".join(
                f"{n} = {n} - (SELECT g.{n} FROM ({grouped('OLD')}) g WHERE {match})" for n in rollup.measure_names
            )
            keys = ", ".join(rollup.key_names)
            return f"UPDATE {rollup.table} SET {sets} WHERE ({keys}) IN (SELECT {keys} FROM ({grouped('OLD')}));"

    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in rollup.columns)
    statements = []
    for event in ("insert", "update", "delete"):
        statements.append(f"DROP TRIGGER IF EXISTS {name}_{event}")
    statements += [
        f"CREATE TRIGGER {name}_insert AFTER INSERT ON {DEAL_TABLE} FOR EACH ROW BEGIN {add_new()} END",
        f"CREATE TRIGGER {name}_update AFTER UPDATE ON {DEAL_TABLE} FOR EACH ROW WHEN {changed} "
        f"BEGIN {remove_old()} {add_new()} END",
        f"CREATE TRIGGER {name}_delete AFTER DELETE ON {DEAL_TABLE} FOR EACH ROW BEGIN {remove_old()} END",
    ]
    return statements


def install_statements(rollup: Rollup, *, vendor: str, tz: str) -> list[str]:
    if vendor == "postgresql":
        return _postgresql_install(rollup, tz)
    if vendor == "sqlite":
        return _sqlite_install(rollup, tz)
    raise NotImplementedError(f"No rollup triggers for {vendor}")


def definition_sql(rollup: Rollup, *, vendor: str, tz: str) -> str:
    """What ``rollup``'s table must hold, computed from the deals: the rebuild and the check."""
    return _grouped_sql(
        rollup,
        [_rows_sql(rollup, source=DEAL_TABLE, row="o", sign="+", vendor=vendor, tz=_quote(tz))],
        only_changes=False,
    )


def _trigger_events(vendor: str) -> list[str]:
    return ["insert", "update", "delete"] + (["truncate"] if vendor == "postgresql" else [])


def trigger_names(vendor: str) -> list[str]:
    """The names of every trigger on the deal table that keeps the totals on ``vendor``."""
    return [f"{DEAL_TABLE}_{rollup.name}_{event}" for rollup in ROLLUPS for event in _trigger_events(vendor)]


def uninstall_statements(rollup: Rollup, *, vendor: str) -> list[str]:
    name = f"{DEAL_TABLE}_{rollup.name}"
    if vendor == "postgresql":
        return [
            statement
            for event in _trigger_events(vendor)
            for statement in (
                f"DROP TRIGGER IF EXISTS {name}_{event} ON {DEAL_TABLE}",
                f"DROP FUNCTION IF EXISTS {name}_{event}()",
            )
        ]
    return [f"DROP TRIGGER IF EXISTS {name}_{event}" for event in _trigger_events(vendor)]


# --- the stage history: what the funnel reads on each deal --------------------------------------
#
# ``stages_entered`` and ``stage_days`` of a deal are computed from its rows in the stage history
# (``pipeline.StageChange``), by triggers on the history: a move, a back-dated import, a deleted
# row all recompute the deal's two columns, and that UPDATE of the deal keeps the funnel tables.
# A stay lasts from entering a stage to entering the next (history ordered by time, then id); its
# length is calendar days (:func:`calendar_days_sql`) in the time zone the triggers were installed
# with, recorded under :data:`STAGE_DAYS` (``settings.TIME_ZONE``). The stage a deal is still in has
# no length yet.

HISTORY_TABLE = "pipeline_stagechange"
# The name the time zone of the deals' ``stage_days`` is recorded under in ZONE_TABLE.
STAGE_DAYS = "stage_days"
_NEXT_CHANGE = "LEAD(changed_at) OVER {window}"


def _postgresql_funnel_columns(deals: str, tz: str) -> str:
    """``SELECT id, entered, stays`` for the deals whose ids the query ``deals`` lists (``tz``: the
    quoted time zone of the days)."""
    window = "PARTITION BY opportunity_id ORDER BY changed_at, id"
    days = calendar_days_sql(_NEXT_CHANGE.format(window=f"({window})"), "changed_at", vendor="postgresql", tz=tz)
    return f"""
        SELECT t.id, COALESCE(c.entered, '') AS entered, COALESCE(c.stays, '[]') AS stays
        FROM ({deals}) t(id)
        LEFT JOIN (
            SELECT deal,
                   array_to_string(ARRAY(SELECT DISTINCT x FROM unnest(array_agg(stage)) AS x ORDER BY x), ',')
                       AS entered,
                   (json_agg(json_build_array(stage, days) ORDER BY at, hid) FILTER (WHERE days IS NOT NULL))::text
                       AS stays
            FROM (
                SELECT opportunity_id AS deal, to_stage_id AS stage, changed_at AS at, id AS hid,
                       {days} AS days
                FROM {HISTORY_TABLE} WHERE opportunity_id IN ({deals})
            ) h
            GROUP BY deal
        ) c ON c.deal = t.id"""


def _postgresql_funnel_update(deals: str, tz: str) -> str:
    return (
        f"UPDATE {DEAL_TABLE} d SET stages_entered = f.entered, stage_days = f.stays "
        f"FROM ({_postgresql_funnel_columns(deals, tz)}) f "
        f"WHERE d.id = f.id AND (d.stages_entered <> f.entered OR d.stage_days <> f.stays)"
    )


def _sqlite_entered(deal: str) -> str:
    return (
        f"COALESCE((SELECT group_concat(x, ',') FROM (SELECT DISTINCT to_stage_id AS x FROM {HISTORY_TABLE} "
        f"WHERE opportunity_id = {deal} ORDER BY x)), '')"
    )


def _sqlite_stays(deal: str, tz: str) -> str:
    days = calendar_days_sql(_NEXT_CHANGE.format(window="w"), "changed_at", vendor="sqlite", tz=tz)
    return (
        f"(SELECT json_group_array(json_array(stage, days)) FROM (SELECT stage, days FROM ("
        f"SELECT to_stage_id AS stage, changed_at AS at, id AS hid, {days} AS days "
        f"FROM {HISTORY_TABLE} WHERE opportunity_id = {deal} WINDOW w AS (ORDER BY changed_at, id)"
        f") WHERE days IS NOT NULL ORDER BY at, hid))"
    )


def _sqlite_funnel_update(deal: str | None, tz: str) -> str:
    """Recompute the deal whose id is ``deal`` (an expression), or every deal (None)."""
    if deal is None:
        row = f"{DEAL_TABLE}.id"
        return f"UPDATE {DEAL_TABLE} SET stages_entered = {_sqlite_entered(row)}, stage_days = {_sqlite_stays(row, tz)}"
    return (
        f"UPDATE {DEAL_TABLE} SET stages_entered = {_sqlite_entered(deal)}, stage_days = {_sqlite_stays(deal, tz)} "
        f"WHERE id = {deal};"
    )


HISTORY_EVENTS = {"postgresql": ("insert", "update", "delete", "truncate"), "sqlite": ("insert", "update", "delete")}


def history_trigger_names(vendor: str) -> list[str]:
    return [f"{HISTORY_TABLE}_funnel_{event}" for event in HISTORY_EVENTS.get(vendor, ())]


def history_install_statements(vendor: str, tz: str) -> list[str]:
    """The triggers keeping each deal's ``stages_entered`` and ``stage_days`` (days in ``tz``)."""
    name = f"{HISTORY_TABLE}_funnel"
    tz = _quote(tz)
    if vendor == "sqlite":
        changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in ("opportunity_id", "to_stage_id", "changed_at"))
        return [
            *(f"DROP TRIGGER IF EXISTS {n}" for n in history_trigger_names(vendor)),
            f"CREATE TRIGGER {name}_insert AFTER INSERT ON {HISTORY_TABLE} FOR EACH ROW "
            f"BEGIN {_sqlite_funnel_update('NEW.opportunity_id', tz)} END",
            f"CREATE TRIGGER {name}_update AFTER UPDATE ON {HISTORY_TABLE} FOR EACH ROW WHEN {changed} "
            f"BEGIN {_sqlite_funnel_update('OLD.opportunity_id', tz)} "
            f"{_sqlite_funnel_update('NEW.opportunity_id', tz)} END",
            f"CREATE TRIGGER {name}_delete AFTER DELETE ON {HISTORY_TABLE} FOR EACH ROW "
            f"BEGIN {_sqlite_funnel_update('OLD.opportunity_id', tz)} END",
        ]
    deals = {
        "insert": ("REFERENCING NEW TABLE AS new_rows", "SELECT DISTINCT opportunity_id FROM new_rows"),
        "update": (
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
            "SELECT opportunity_id FROM new_rows UNION SELECT opportunity_id FROM old_rows",
        ),
        "delete": ("REFERENCING OLD TABLE AS old_rows", "SELECT DISTINCT opportunity_id FROM old_rows"),
    }
    statements = []
    for event, (referencing, ids) in deals.items():
        statements += [
            f"CREATE OR REPLACE FUNCTION {name}_{event}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n  {_postgresql_funnel_update(ids, tz)};\n  RETURN NULL;\nEND\n$$",
            f"DROP TRIGGER IF EXISTS {name}_{event} ON {HISTORY_TABLE}",
            f"CREATE TRIGGER {name}_{event} AFTER {event.upper()} ON {HISTORY_TABLE} {referencing} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {name}_{event}()",
        ]
    statements += [
        f"CREATE OR REPLACE FUNCTION {name}_truncate() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n  UPDATE {DEAL_TABLE} SET stages_entered = '', stage_days = '[]' "
        f"WHERE stages_entered <> '' OR stage_days <> '[]';\n  RETURN NULL;\nEND\n$$",
        f"DROP TRIGGER IF EXISTS {name}_truncate ON {HISTORY_TABLE}",
        f"CREATE TRIGGER {name}_truncate AFTER TRUNCATE ON {HISTORY_TABLE} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {name}_truncate()",
    ]
    return statements


def history_uninstall_statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [
            statement
            for name in history_trigger_names(vendor)
            for statement in (f"DROP TRIGGER IF EXISTS {name} ON {HISTORY_TABLE}", f"DROP FUNCTION IF EXISTS {name}()")
        ]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in history_trigger_names(vendor)]


def _funnel_columns_fill(execute, vendor: str, tz: str) -> None:
    """Compute every deal's ``stages_entered`` and ``stage_days`` from its history."""
    if vendor == "postgresql":
        execute(_postgresql_funnel_update(f"SELECT id FROM {DEAL_TABLE}", _quote(tz)))
    else:
        execute(_sqlite_funnel_update(None, _quote(tz)))


def funnel_column_differences(*, using: str = "default") -> list:
    """Deals whose ``stages_entered`` or ``stage_days`` differ from their history: (id, expected,
    kept). Empty when right: for tests and ``check_deal_totals``."""
    connection = connections[using]
    tz = _quote(stage_days_time_zone(using=using) or settings.TIME_ZONE)
    if connection.vendor == "postgresql":
        sql = (
            f"SELECT f.id, f.entered, f.stays, d.stages_entered, d.stage_days "
            f"FROM ({_postgresql_funnel_columns(f'SELECT id FROM {DEAL_TABLE}', tz)}) f "
            f"JOIN {DEAL_TABLE} d ON d.id = f.id "
            f"WHERE d.stages_entered <> f.entered OR d.stage_days <> f.stays ORDER BY f.id"
        )
    elif connection.vendor == "sqlite":
        sql = (
            f"SELECT id, e, s, stages_entered, stage_days FROM (SELECT id, {_sqlite_entered('d.id')} AS e, "
            f"{_sqlite_stays('d.id', tz)} AS s, stages_entered, stage_days FROM {DEAL_TABLE} d) "
            f"WHERE e <> stages_entered OR s <> stage_days ORDER BY id"
        )
    else:
        return []
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [(row[0], row[1:3], row[3:5]) for row in cursor.fetchall()]


# --- installing: by migrations, or by hand ---------------------------------------------------------


def _time_zone(rollup: Rollup) -> str:
    return settings.TIME_ZONE if rollup.uses_time_zone else ""


def rollups_install(connection, execute, *, only: tuple[str, ...] | None = None, zones=None) -> list[str]:
    """Install the triggers of every table (or of the tables named in ``only``, without the stage
    history's) for ``connection``'s database, compute the tables from the deals and record their
    time zone (``settings.TIME_ZONE``, or the one in ``zones`` by table name). ``execute(sql,
    params)`` runs a statement (a migration's schema editor, or a cursor). Returns the names of the
    tables computed."""
    vendor = connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        return []
    zones = zones or {}
    execute(f"CREATE TABLE IF NOT EXISTS {ZONE_TABLE} (rollup varchar(50) PRIMARY KEY, time_zone varchar(64) NOT NULL)")
    _lock_deals(execute, vendor)
    rollups = [rollup for rollup in ROLLUPS if only is None or rollup.name in only]
    if only is None:
        # The deal triggers are off while every deal's funnel columns are filled in (the tables
        # are computed below anyway); the history's triggers keep the columns from then on.
        for rollup in ROLLUPS:
            for statement in uninstall_statements(rollup, vendor=vendor):
                execute(statement)
        days_tz = zones.get(STAGE_DAYS, settings.TIME_ZONE)
        for statement in history_install_statements(vendor, days_tz):
            execute(statement)
        _funnel_columns_fill(execute, vendor, days_tz)
        execute(f"DELETE FROM {ZONE_TABLE} WHERE rollup = %s", [STAGE_DAYS])
        execute(f"INSERT INTO {ZONE_TABLE} (rollup, time_zone) VALUES (%s, %s)", [STAGE_DAYS, days_tz])
    for rollup in rollups:
        tz = zones.get(rollup.name, _time_zone(rollup))
        for statement in install_statements(rollup, vendor=vendor, tz=tz):
            execute(statement)
        _rebuild(execute, rollup, vendor=vendor, tz=tz)
        execute(f"DELETE FROM {ZONE_TABLE} WHERE rollup = %s", [rollup.name])
        execute(f"INSERT INTO {ZONE_TABLE} (rollup, time_zone) VALUES (%s, %s)", [rollup.name, tz])
    return [rollup.name for rollup in rollups]


def rollups_uninstall(connection, execute) -> None:
    """Drop the triggers (the tables stay, no longer kept up to date) and the time zone record."""
    vendor = connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        return
    for statement in history_uninstall_statements(vendor):
        execute(statement)
    for rollup in ROLLUPS:
        for statement in uninstall_statements(rollup, vendor=vendor):
            execute(statement)
    execute(f"DROP TABLE IF EXISTS {ZONE_TABLE}")


class InstallDealTotals(Operation):
    """Migration operation: install the triggers that keep the deal totals and compute the totals.

    Ends every migration that alters the deal table (see the module's docstring). Reversed, it
    drops the triggers."""

    reversible = True
    reduces_to_sql = True

    def __init__(self, only: tuple[str, ...] | None = None):
        # ``only``: the tables that existed when a migration was written (0009 installs the first
        # two); None: every table and the stage history's triggers.
        self.only = tuple(only) if only is not None else None
        super().__init__()

    def deconstruct(self):
        return (self.__class__.__qualname__, [], {"only": self.only} if self.only is not None else {})

    def state_forwards(self, app_label, state):
        pass  # no model changes: triggers live in the database only

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if router.allow_migrate(schema_editor.connection.alias, app_label):
            rollups_install(schema_editor.connection, schema_editor.execute, only=self.only)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if router.allow_migrate(schema_editor.connection.alias, app_label):
            rollups_uninstall(schema_editor.connection, schema_editor.execute)

    def describe(self):
        return "Install the triggers that keep the deal totals, and compute the totals"


class DropDealTotals(InstallDealTotals):
    """Migration operation: drop the triggers first (before removing or renaming a column they
    read); the migration then ends with :class:`InstallDealTotals`."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        super().database_backwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        super().database_forwards(app_label, schema_editor, from_state, to_state)

    def describe(self):
        return "Drop the triggers that keep the deal totals"


def _lock_deals(execute, vendor: str) -> None:
    # Writers wait while a table is recomputed (readers do not): no change is counted twice or lost.
    if vendor == "postgresql":
        execute(f"LOCK TABLE {DEAL_TABLE} IN SHARE MODE")


def _rebuild(execute, rollup: Rollup, *, vendor: str, tz: str) -> None:
    columns = ", ".join(rollup.key_names + rollup.measure_names)
    execute(f"DELETE FROM {rollup.table}")
    execute(f"INSERT INTO {rollup.table} ({columns}) {definition_sql(rollup, vendor=vendor, tz=tz)}")


def _installed_time_zones(cursor) -> dict[str, str]:
    cursor.execute(f"SELECT rollup, time_zone FROM {ZONE_TABLE}")
    return dict(cursor.fetchall())


def rollups_rebuild(*, using: str = "default") -> None:
    """Recompute every table from the deals in the time zone it was installed with (after loading
    deals with the triggers switched off)."""
    connection = connections[using]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        rollups_install(connection, cursor.execute, zones=_installed_time_zones(cursor))


# --- checking ----------------------------------------------------------------------------------------


def missing_triggers(*, using: str = "default") -> list[str]:
    """The triggers that should keep the totals but are not on the deal table."""
    connection = connections[using]
    present = set()
    with connection.cursor() as cursor:
        for table in (DEAL_TABLE, HISTORY_TABLE):
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal", [table]
                )
            else:
                cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table])
            present |= {row[0] for row in cursor.fetchall()}
    expected = trigger_names(connection.vendor) + history_trigger_names(connection.vendor)
    return [name for name in expected if name not in present]


def rollup_differences(rollup: Rollup, *, using: str = "default") -> list:
    """Rows where the table and its definition disagree (empty when right): for tests and checks."""
    connection = connections[using]
    with connection.cursor() as cursor:
        tz = _installed_time_zones(cursor).get(rollup.name, _time_zone(rollup))
        cursor.execute(definition_sql(rollup, vendor=connection.vendor, tz=tz))
        expected = {_key(row[: len(rollup.keys)]): row[len(rollup.keys) :] for row in cursor.fetchall()}
        cursor.execute(
            f"SELECT {', '.join(rollup.key_names + rollup.measure_names)} FROM {rollup.table} "
            f"WHERE {' OR '.join(f'{n} <> 0' for n in rollup.measure_names)}"
        )
        actual = {_key(row[: len(rollup.keys)]): row[len(rollup.keys) :] for row in cursor.fetchall()}
    differences = []
    for key in sorted(set(expected) | set(actual), key=str):
        want = tuple(_normal(v) for v in expected.get(key, ()))
        got = tuple(_normal(v) for v in actual.get(key, ()))
        if want != got:
            differences.append((key, want, got))
    return differences


def _key(values) -> tuple:
    # A month reads back as a date or as text, depending on the database and the query.
    return tuple(v.isoformat()[:10] if hasattr(v, "isoformat") else v for v in values)


def _normal(value):
    from decimal import Decimal

    return round(Decimal(str(value)), 2) if value is not None else None


def rollup_time_zone(rollup: Rollup, *, using: str = "default") -> str | None:
    """The time zone whose months ``rollup``'s table counts, or None when it is not installed (a
    database the migration installed no triggers on)."""
    connection = connections[using]
    if connection.vendor not in ("postgresql", "sqlite"):
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT time_zone FROM {ZONE_TABLE} WHERE rollup = %s", [rollup.name])
        row = cursor.fetchone()
    return row[0] if row else None


def rollup_time_zones(*, using: str = "default") -> dict[str, str]:
    """Every installed table's time zone, by table name, in one query (empty when none is)."""
    connection = connections[using]
    if connection.vendor not in ("postgresql", "sqlite"):
        return {}
    with connection.cursor() as cursor:
        return _installed_time_zones(cursor)


def closed_months_time_zone(*, using: str = "default") -> str | None:
    return rollup_time_zone(CLOSED_MONTHS, using=using)


def stage_days_time_zone(*, using: str = "default") -> str | None:
    """The time zone whose calendar days the deals' ``stage_days`` count, or None when the stage
    history's triggers are not installed."""
    return rollup_time_zones(using=using).get(STAGE_DAYS)


def rollups_enabled() -> bool:
    """The selectors read these tables unless ``CRM_DEAL_ROLLUPS`` is False (tests compare both)."""
    return getattr(settings, "CRM_DEAL_ROLLUPS", True)


# --- answering from the totals -------------------------------------------------------------------


def stage_totals_for(*, user, filters, using: str = "default"):
    """The StageTotal rows holding exactly the active deals ``user`` may see that ``filters``
    select, or None when the filters are not keys only (the caller then adds up the deals).

    Decided from the filter values (``filters.keys_only()``), never from a queryset's SQL."""

    if not rollups_enabled() or not filters.keys_only() or connections[using].vendor not in ("postgresql", "sqlite"):
        return None
    if is_anonymous(user):
        return StageTotal.objects.none()
    totals = StageTotal.objects.using(using).filter(filters.keys_q(user))
    if not sees_everything(user):
        totals = totals.filter(owned_by_visible_q(user))
    return totals


def stage_totals_count(totals) -> int:
    """How many deals ``totals`` (from :func:`stage_totals_for`) add up."""
    return totals.aggregate(n=Sum("deals"))["n"] or 0
