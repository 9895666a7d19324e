"""Generate large, valid data sets on PostgreSQL quickly, with COPY.

Rows are built in Python to satisfy every constraint and the stage policy (probability from the
stage, closed_at for won/lost, a lost reason for lost deals, a StageChange row per stage entered),
then streamed with COPY, which loads about a million deals with their history in a minute.

    python -m bench.generate --open 100000 --closed 1000000

Everything the generator writes is wiped first (deals, history, organizations, contacts and the
benchmark users and teams); the seeded pipelines and lost reasons stay.
"""

import argparse
import datetime
import io
import os
import random
import sys
import time
from decimal import Decimal

TEAMS = 10
USERS_PER_TEAM = 6
BENCH_PASSWORD = "bench-password-123"  # noqa: S105 (benchmark users on a throwaway database)


def setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.base")
    import django

    django.setup()


def _copy(cursor, table: str, columns: list[str], rows) -> int:
    """COPY ``rows`` (tuples) into ``table``; values are escaped for the text format."""
    return _copy_lines(cursor, table, columns, ("\t".join(map(_text, row)) + "\n" for row in rows))


def _copy_lines(cursor, table: str, columns: list[str], lines) -> int:
    """COPY ready-made text-format ``lines`` into ``table``, 32 MB at a time."""
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    buffer = io.StringIO()
    count = 0
    for line in lines:
        buffer.write(line)
        count += 1
        if buffer.tell() > 32 * 1024 * 1024:
            buffer.seek(0)
            cursor.copy_expert(sql, buffer, size=1024 * 1024)
            buffer = io.StringIO()
    buffer.seek(0)
    cursor.copy_expert(sql, buffer, size=1024 * 1024)
    return count


def _history_lines(history, first_id: int):
    """StageChange rows as COPY text: millions of them, so formatted directly (every value is a
    number, a timestamp or the currency code: nothing to escape)."""
    null = r"\N"
    for i, previous, to, owner, when, amount, currency, probability, reason in history:
        yield (
            f"{first_id + i}\t{null if previous is None else previous}\t{to}\t{owner}\t{when.isoformat()}\t"
            f"{amount}\t{currency}\t{probability}\t{null if reason is None else reason}\n"
        )


def _text(value) -> str:
    if value is None:
        return r"\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _wipe(cursor):
    from contacts.models import Contact, Organization
    from opportunities.models import Opportunity, OpportunityLine
    from pipeline.models import StageChange

    tables = [m._meta.db_table for m in (StageChange, OpportunityLine, Opportunity, Contact, Organization)]
    # Deferred foreign-key checks still pending (a second data set in one transaction, as in a
    # test) would make TRUNCATE refuse: run them now.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


def _drop_indexes(cursor, tables: list[str]) -> list[str]:
    """Drop the plain (non-constraint) indexes of ``tables``; returns their definitions.

    Filling a table and then building its indexes once is several times faster than updating a
    dozen indexes row by row during COPY. Everything runs in the generator's transaction, so a
    failure puts the indexes back.
    """
    cursor.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid = ANY(%s::regclass[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        """,
        [tables],
    )
    indexes = cursor.fetchall()
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {name}")
    return [definition for _name, definition in indexes]


def _skip_foreign_key_triggers(cursor) -> None:
    """Skip the per-row foreign-key checks for the rest of the transaction, when allowed.

    Checking two million references one by one at commit takes longer than generating them; the
    rows are built from ids just read back, and the generator's test checks every reference.
    Needs a superuser; without one the checks simply run.
    """
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    if cursor.fetchone()[0]:
        cursor.execute("SET LOCAL session_replication_role = replica")


def _users(rng):
    from django.contrib.auth.hashers import make_password

    from accounts.models import Team, User

    password = make_password(BENCH_PASSWORD)  # hashed once: sixty PBKDF2 runs would take seconds

    User.objects.filter(username__startswith="bench-").delete()
    Team.objects.filter(name__startswith="Bench team ").delete()
    users = []
    for t in range(TEAMS):
        team = Team.objects.create(name=f"Bench team {t + 1}", region=rng.choice(["Nord", "Centro", "Sud"]))
        manager = User(
            username=f"bench-manager-{t + 1}",
            first_name="Manager",
            last_name=f"Team {t + 1}",
            role=User.Role.MANAGER,
            team=team,
        )
        manager.password = password
        manager.save()
        team.manager = manager
        team.save(update_fields=["manager"])
        users.append(manager)
        for r in range(USERS_PER_TEAM - 1):
            rep = User(
                username=f"bench-rep-{t + 1}-{r + 1}",
                first_name="Rep",
                last_name=f"{t + 1}.{r + 1}",
                role=User.Role.REP,
                team=team,
            )
            rep.password = password
            rep.save()
            users.append(rep)
    admin = User(username="bench-admin", first_name="Bench", last_name="Admin", role=User.Role.ADMIN)
    admin.password = password
    admin.save()
    return users, admin


def generate(*, open_deals: int, closed_deals: int, seed: int = 7, out=sys.stdout) -> dict:
    """Wipe and fill the database: returns counts and seconds taken."""
    from django.db import connection, transaction
    from django.utils import timezone

    from contacts.models import Contact, Organization
    from opportunities.models import ClosedMonth, Opportunity, StageTotal
    from opportunities.rollups import rollups_rebuild
    from pipeline.models import LostReason, Pipeline, StageChange

    if connection.vendor != "postgresql":
        raise SystemExit("The benchmark data sets need PostgreSQL: set DATABASE_URL.")
    rng = random.Random(seed)
    started = time.perf_counter()
    total = open_deals + closed_deals
    org_count = max(total // 10, 50)
    contact_count = max(total // 5, 100)
    now = timezone.now()
    today = timezone.localdate()

    pipeline = Pipeline.objects.get(is_default=True)
    stages = list(pipeline.stages.order_by("order"))
    open_stages = [s for s in stages if s.kind == "open"]
    won = next(s for s in stages if s.kind == "won")
    lost = next(s for s in stages if s.kind == "lost")
    reasons = list(LostReason.objects.values_list("id", flat=True))

    with transaction.atomic(), connection.cursor() as wrapper:
        cursor = wrapper.cursor
        _wipe(cursor)
        users, admin = _users(rng)
        owner_ids = [u.pk for u in users]
        team_of = {u.pk: u.team_id for u in users}

        org_table = Organization._meta.db_table
        _copy(
            cursor,
            org_table,
            [
                "name",
                "vat_number",
                "fiscal_code",
                "website",
                "email",
                "phone",
                "sector",
                "street",
                "postal_code",
                "city",
                "province",
                "country",
                "description",
                "owner_id",
                "external_id",
                "created_at",
                "updated_at",
            ],
            (
                (
                    f"Bench Company {i:07d} S.r.l.",
                    "",
                    "",
                    "",
                    "",
                    "",
                    rng.choice(["Software", "Moda", "Energia"]),
                    "",
                    "20121",
                    rng.choice(["Milano", "Roma", "Torino", "Napoli"]),
                    "MI",
                    "Italia",
                    "",
                    rng.choice(owner_ids),
                    f"bench-org-{i}",
                    now,
                    now,
                )
                for i in range(org_count)
            ),
        )
        cursor.execute(f"SELECT id, owner_id FROM {org_table} ORDER BY id")
        orgs = cursor.fetchall()
        org_ids_by_team: dict[int, list[int]] = {}
        for org_id, owner_id in orgs:
            org_ids_by_team.setdefault(team_of[owner_id], []).append(org_id)

        _copy(
            cursor,
            Contact._meta.db_table,
            [
                "first_name",
                "last_name",
                "email",
                "phone",
                "mobile",
                "job_title",
                "organization_id",
                "notes",
                "owner_id",
                "external_id",
                "created_at",
                "updated_at",
            ],
            (
                (
                    f"Nome{i}",
                    f"Cognome{i}",
                    f"contact{i}@bench.example",
                    "",
                    "",
                    "",
                    org_id,
                    "",
                    owner_id,
                    f"bench-contact-{i}",
                    now,
                    now,
                )
                for i, (org_id, owner_id) in enumerate(orgs[i % len(orgs)] for i in range(contact_count))
            ),
        )

        deals, history = [], []
        position_by_stage: dict[int, int] = {}
        for i in range(total):
            owner = rng.choice(owner_ids)
            org = rng.choice(org_ids_by_team[team_of[owner]])
            created = now - datetime.timedelta(days=rng.randint(1, 3 * 365), seconds=rng.randint(0, 86_399))
            amount = Decimal(rng.randint(500, 200_000)).quantize(Decimal("0.01"))
            is_open = i < open_deals
            if is_open:
                reached = rng.randint(0, len(open_stages) - 1)
                path = open_stages[: reached + 1]
                closed_at = None
                expected = today + datetime.timedelta(days=rng.randint(-60, 300))
            else:
                outcome = won if rng.random() < 0.45 else lost
                path = open_stages[: rng.randint(1, len(open_stages))] + [outcome]
                closed_at = min(created + datetime.timedelta(days=rng.randint(5, 200)), now)
                expected = closed_at.date()
            stage = path[-1]
            span = ((closed_at or now) - created).total_seconds()
            moments = sorted(created + datetime.timedelta(seconds=rng.uniform(0, span)) for _ in path[1:])
            entered = [created, *moments]
            if closed_at:
                entered[-1] = closed_at
            reason = rng.choice(reasons) if stage.kind == "lost" else None
            position = position_by_stage.get(stage.pk, 0) - 1
            position_by_stage[stage.pk] = position
            deals.append(
                (
                    f"Bench deal {i:07d}",
                    org,
                    None,
                    pipeline.pk,
                    stage.pk,
                    stage.kind,
                    amount,
                    "EUR",
                    amount,
                    expected,
                    stage.probability,
                    False,
                    rng.choice(["new_business", "existing_business"]),
                    "Call back" if is_open else "",
                    None,
                    "",
                    owner,
                    rng.choice(["website", "referral", "partner", "event", ""]),
                    reason,
                    "",
                    closed_at,
                    path[-2].pk if stage.kind == "lost" else None,
                    entered[-1],
                    position,
                    len(path),
                    f"bench-deal-{i}",
                    owner,
                    created,
                    entered[-1],
                    None,
                    # when it rots (opportunities.services.rotting): open deals of a stage that rots
                    entered[-1] + datetime.timedelta(days=stage.stale_after_days)
                    if is_open and stage.stale_after_days
                    else None,
                )
            )
            previous = None
            for step, when in zip(path, entered, strict=True):
                history.append(
                    (
                        i,
                        previous,
                        step.pk,
                        owner,
                        when,
                        amount,
                        "EUR",
                        step.probability,
                        reason if step.kind == "lost" else None,
                    )
                )
                previous = step.pk

        opp_table = Opportunity._meta.db_table
        opp_columns = [
            "name",
            "organization_id",
            "contact_id",
            "pipeline_id",
            "stage_id",
            "status",
            "amount",
            "currency",
            "amount_base",
            "expected_close_date",
            "probability",
            "probability_is_manual",
            "type",
            "next_step",
            "next_step_date",
            "description",
            "owner_id",
            "lead_source",
            "lost_reason_id",
            "lost_note",
            "closed_at",
            "lost_from_stage_id",
            "stage_entered_at",
            "position",
            "version",
            "external_id",
            "created_by_id",
            "created_at",
            "updated_at",
            "archived_at",
            "rots_at",
        ]
        dropped = _drop_indexes(cursor, [opp_table, StageChange._meta.db_table])
        _skip_foreign_key_triggers(cursor)
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")  # index builds sort in memory
        _copy(cursor, opp_table, opp_columns, deals)
        cursor.execute(f"SELECT MIN(id) FROM {opp_table}")
        first_id = cursor.fetchone()[0]
        _copy_lines(
            cursor,
            StageChange._meta.db_table,
            [
                "opportunity_id",
                "from_stage_id",
                "to_stage_id",
                "changed_by_id",
                "changed_at",
                "amount",
                "currency",
                "probability",
                "lost_reason_id",
            ],
            _history_lines(history, first_id),
        )
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")
        for definition in dropped:
            cursor.execute(definition)
        # The replica role also switched off the triggers that keep the deal totals: compute them
        # once from the rows, as the triggers would have.
        rollups_rebuild()
    with connection.cursor() as cursor:
        for model in (Organization, Contact, Opportunity, StageChange, StageTotal, ClosedMonth):
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    seconds = time.perf_counter() - started
    result = {
        "open": open_deals,
        "closed": closed_deals,
        "organizations": org_count,
        "contacts": contact_count,
        "stage_changes": len(history),
        "users": len(users) + 1,
        "seconds": round(seconds, 1),
    }
    out.write(f"Generated {result}\n")
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, default=10_000, help="open deals")
    parser.add_argument("--closed", type=int, default=10_000, help="won and lost deals")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    setup_django()
    generate(open_deals=args.open, closed_deals=args.closed, seed=args.seed)


if __name__ == "__main__":
    main()
