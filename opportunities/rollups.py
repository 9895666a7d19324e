"""Totals the database keeps up to date as deals change: the per-stage totals of the board and the
closed deals per month of the won/lost report.

Adding up every deal on each request cannot stay fast as the years pile up (a million deals: over
a second for the board's column totals, several for the won/lost report). These tables hold the
same sums for a few hundred or thousand groups instead, and the selectors read them whenever a
question can be answered from them exactly (``stage_totals_matching`` says when).

**Why triggers.** Deals are written by the services, but also in bulk: imports (``bulk_create``),
``opportunity_amounts_rebase`` (one UPDATE), the admin, COPY in ``bench/generate.py``. A trigger
on the deal table sees every one of them, inside the writing transaction, so the totals can never
drift from the rows. PostgreSQL gets one statement-level trigger per event that adds the
statement's changes up per group first (a bulk update of 100,000 deals writes each group once, in
key order so concurrent moves lock rows in the same order); SQLite gets row-level triggers (no
transition tables there). Both are generated here from one definition per table (:data:`ROLLUPS`),
and :func:`rollups_rebuild` recomputes a table from the same definition (after a COPY with the
triggers switched off, or a change of definition or time zone).

**When they are installed.** After every ``migrate`` (``post_migrate``): a migration that rebuilds
the deal table on SQLite drops its triggers, and a new definition or ``TIME_ZONE`` must rebuild.
An installed definition is recorded with a signature in ``opportunities_rollupstate`` (not a
model, so that test flushes leave it alone); a missing trigger or another signature reinstalls
and rebuilds.

**Time zone.** Months are months of the closing date in ``settings.TIME_ZONE`` at install time;
the won/lost selector uses the table only when the reader's current time zone is that one.

**Changing the deal table.** A migration that renames or drops a column these definitions read
must change them in the same commit: on PostgreSQL the trigger functions name the columns, and a
write would fail until they are reinstalled. ``manage.py rebuild_deal_totals`` reinstalls and
recomputes by hand.
"""

# SQL is built here from the table and column names of the definitions below (never from input);
# values are query parameters, and the time zone name is quoted as a literal.
# ruff: noqa: S608

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Q, Sum

DEAL_TABLE = "opportunities_opportunity"
STATE_TABLE = "opportunities_rollupstate"


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

ROLLUPS = (STAGE_TOTALS, CLOSED_MONTHS)


# --- SQL -----------------------------------------------------------------------------------------


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


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
        later, earlier = f"{row}.{match.group(1)}", f"{row}.{match.group(2)}"
        if vendor == "postgresql":
            return f"(({later} AT TIME ZONE {tz})::date - ({earlier} AT TIME ZONE {tz})::date)"
        return (
            f"CAST(ROUND(julianday(django_datetime_cast_date({later}, {tz}, 'UTC'))"
            f" - julianday(django_datetime_cast_date({earlier}, {tz}, 'UTC'))) AS INTEGER)"
        )

    expression = re.sub(r"\{month:(\w+)\}", month, expression)
    expression = re.sub(r"\{days:(\w+),(\w+)\}", days, expression)
    return expression.replace("{r}", row).replace("{tz}", tz)


def _rows_sql(rollup: Rollup, *, source: str, row: str, sign: str, vendor: str, tz: str) -> str:
    """``SELECT <keys>, <signed measures> FROM source row WHERE <where>``."""
    keys = [f"{_sql(e, row=row, vendor=vendor, tz=tz)} AS {n}" for n, e in rollup.keys]
    measures = [f"{sign}({_sql(e, row=row, vendor=vendor, tz=tz)}) AS {n}" for n, e in rollup.measures]
    where = _sql(rollup.where, row=row, vendor=vendor, tz=tz)
    return f"SELECT {', '.join(keys + measures)} FROM {source} {row} WHERE {where}"


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
    """What ``rollup``'s table must hold, computed from the deals: the rebuild and the tests' check."""
    return _grouped_sql(
        rollup,
        [_rows_sql(rollup, source=DEAL_TABLE, row="o", sign="+", vendor=vendor, tz=_quote(tz))],
        only_changes=False,
    )


def _signature(rollup: Rollup, *, vendor: str, tz: str) -> str:
    text = "\n".join(install_statements(rollup, vendor=vendor, tz=tz))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


# --- installing and rebuilding -----------------------------------------------------------------


def _trigger_names(rollup: Rollup, vendor: str) -> list[str]:
    events = ["insert", "update", "delete"] + (["truncate"] if vendor == "postgresql" else [])
    return [f"{DEAL_TABLE}_{rollup.name}_{event}" for event in events]


def _installed_triggers(cursor, vendor: str) -> set[str]:
    if vendor == "postgresql":
        cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal", [DEAL_TABLE])
    else:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [DEAL_TABLE])
    return {row[0] for row in cursor.fetchall()}


def _ensure_state_table(cursor) -> None:
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} "
        "(name varchar(50) PRIMARY KEY, signature varchar(64) NOT NULL, time_zone varchar(64) NOT NULL)"
    )


def _states(cursor) -> dict[str, tuple[str, str]]:
    cursor.execute(f"SELECT name, signature, time_zone FROM {STATE_TABLE}")
    return {name: (signature, tz) for name, signature, tz in cursor.fetchall()}


def rollups_install(*, using: str = "default", force: bool = False, out=None) -> list[str]:
    """Install (or reinstall) the triggers whose definition, time zone or presence changed, and
    rebuild those tables. Returns the names of the rollups (re)built. Called after ``migrate``."""
    connection = connections[using]
    vendor = connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        return []
    tz = settings.TIME_ZONE
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
        if DEAL_TABLE not in tables or any(r.table not in tables for r in ROLLUPS):
            return []  # not migrated that far yet
    rebuilt = []
    with transaction.atomic(using=using), connection.cursor() as cursor:
        _ensure_state_table(cursor)
        states = _states(cursor)
        present = _installed_triggers(cursor, vendor)
        for rollup in ROLLUPS:
            rollup_tz = tz if rollup.uses_time_zone else ""
            signature = _signature(rollup, vendor=vendor, tz=rollup_tz)
            installed = set(_trigger_names(rollup, vendor)) <= present
            if not force and installed and states.get(rollup.name) == (signature, rollup_tz):
                continue
            _lock_deals(cursor, vendor)
            for statement in install_statements(rollup, vendor=vendor, tz=rollup_tz):
                cursor.execute(statement)
            _rebuild(cursor, rollup, vendor=vendor, tz=rollup_tz)
            cursor.execute(f"DELETE FROM {STATE_TABLE} WHERE name = %s", [rollup.name])
            cursor.execute(
                f"INSERT INTO {STATE_TABLE} (name, signature, time_zone) VALUES (%s, %s, %s)",
                [rollup.name, signature, rollup_tz],
            )
            rebuilt.append(rollup.name)
    if out is not None and rebuilt:
        out.write(f"Rebuilt the deal totals: {', '.join(rebuilt)}\n")
    return rebuilt


def _lock_deals(cursor, vendor: str) -> None:
    # Writers wait while a table is recomputed (readers do not): no change is counted twice or lost.
    if vendor == "postgresql":
        cursor.execute(f"LOCK TABLE {DEAL_TABLE} IN SHARE MODE")


def _rebuild(cursor, rollup: Rollup, *, vendor: str, tz: str) -> None:
    columns = ", ".join(rollup.key_names + rollup.measure_names)
    cursor.execute(f"DELETE FROM {rollup.table}")
    cursor.execute(f"INSERT INTO {rollup.table} ({columns}) {definition_sql(rollup, vendor=vendor, tz=tz)}")


def rollups_rebuild(*, using: str = "default") -> None:
    """Recompute every table from the deals, e.g. after loading deals with the triggers off."""
    connection = connections[using]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        _ensure_state_table(cursor)
        states = _states(cursor)
        _lock_deals(cursor, connection.vendor)
        for rollup in ROLLUPS:
            tz = states.get(rollup.name, (None, settings.TIME_ZONE))[1]
            _rebuild(cursor, rollup, vendor=connection.vendor, tz=tz)


def rollup_differences(rollup: Rollup, *, using: str = "default") -> list:
    """Rows where the table and its definition disagree (empty when right): for tests and checks."""
    connection = connections[using]
    with connection.cursor() as cursor:
        tz = _states(cursor).get(rollup.name, (None, settings.TIME_ZONE))[1]
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


def closed_months_time_zone(*, using: str = "default") -> str | None:
    """The time zone whose months ``ClosedMonth`` counts, or None when it is not installed."""
    connection = connections[using]
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT time_zone FROM {STATE_TABLE} WHERE name = %s", [CLOSED_MONTHS.name])
            row = cursor.fetchone()
    except Exception:  # not installed (e.g. a database without the triggers): use the live sums
        return None
    return row[0] if row else None


def rollups_enabled() -> bool:
    """The selectors read these tables unless ``CRM_DEAL_ROLLUPS`` is False (tests compare both)."""
    return getattr(settings, "CRM_DEAL_ROLLUPS", True)


# --- answering from the totals -------------------------------------------------------------------

# Deal columns a StageTotal row is keyed by: a filter on one of them (=, IN) applies to the rows.
STAGE_TOTAL_KEYS = frozenset({"pipeline", "stage", "owner", "status", "currency"})


def stage_totals_matching(deals):
    """The StageTotal rows that add up to exactly ``deals``, or None when they cannot.

    They can when ``deals`` is ``Opportunity.objects.visible_to(user).active()`` (the reader's
    deals, not archived) narrowed only by ``=`` / ``IN`` on pipeline, stage, owner, status or
    currency, in any order: the WHERE clause is compared, part by part, with the one
    ``visible_to(user).active()`` builds (same SQL, same joins), and every other part must be one of
    those filters, which are then applied to the totals. Any other filter, a search, a slice, a
    DISTINCT or an annotation: None, and the caller aggregates the deals themselves.
    """
    from django.db.models.lookups import Exact, In
    from django.db.models.sql.where import AND

    from accounts.permissions import owned_by_visible_q, sees_everything

    from .models import Opportunity, StageTotal

    user = getattr(deals, "_visible_to", None)
    if user is None or deals.model is not Opportunity or not rollups_enabled():
        return None
    connection = connections[deals.db]
    if connection.vendor not in ("postgresql", "sqlite"):
        return None
    query = deals.query
    if (
        query.distinct
        or query.combinator
        or query.is_sliced
        or query.annotations
        or query.extra
        or query.group_by is not None
        or query.where.connector != AND
        or query.where.negated
    ):
        return None
    canonical = Opportunity.objects.visible_to(user).active().query
    base = query.get_initial_alias()
    if _joins(query) != _joins(canonical):
        return None
    try:
        wanted = {_compiled(canonical, child, connection) for child in canonical.where.children}
        found, narrowing = set(), Q()
        for child in query.where.children:
            sql = _compiled(query, child, connection)
            if sql in wanted:
                found.add(sql)
                continue
            lookup = _key_lookup(child, base, (Exact, In))
            if lookup is None:
                return None
            narrowing &= Q(**{lookup[0]: lookup[1]})
    except Exception:  # something that does not compile alone (EmptyResultSet, a subquery…)
        return None
    if found != wanted:
        return None
    totals = StageTotal.objects.using(deals.db).filter(narrowing)
    if not sees_everything(user):
        totals = totals.filter(owned_by_visible_q(user))
    return totals


def _joins(query) -> dict:
    """The joins a query's SQL uses (alias → what is joined, how), leaving unused ones aside."""
    return {
        alias: join.identity
        for alias, join in query.alias_map.items()
        if query.alias_refcount.get(alias) and hasattr(join, "identity") and join.parent_alias is not None
    }


def _compiled(query, node, connection) -> tuple:
    compiler = query.get_compiler(connection=connection)
    sql, params = compiler.compile(node)
    return sql, tuple(params)


def _key_lookup(node, base_alias: str, lookup_classes):
    """``("stage__in", [1, 2])`` for a WHERE part ``stage_id IN (1, 2)`` on the deal table itself."""
    from django.db.models.expressions import Col

    if not isinstance(node, lookup_classes) or not isinstance(node.lhs, Col) or node.lhs.alias != base_alias:
        return None
    name = node.lhs.target.name
    if name not in STAGE_TOTAL_KEYS:
        return None
    value = node.rhs
    plain = (int, str)
    if node.lookup_name == "exact" and isinstance(value, plain) and not isinstance(value, bool):
        return f"{name}__exact", value
    if (
        node.lookup_name == "in"
        and isinstance(value, list | tuple | set | frozenset)
        and all(isinstance(v, plain) and not isinstance(v, bool) for v in value)
    ):
        return f"{name}__in", list(value)
    return None


def stage_totals_count(totals) -> int:
    return totals.aggregate(n=Sum("deals"))["n"] or 0
