"""Load the public "CRM Sales Opportunities" data set (Maven Analytics) into the CRM.

``sales_dataset_import`` reads the four CSV files and writes users and teams, organizations,
products and one deal per pipeline row. It is idempotent: users match by username, organizations
by name and products by name ignoring case and spaces, deals by ``external_id`` (the data set's
``opportunity_id``). A second run changes nothing; a changed row is updated through the services.

Speed: the 8,800 new deals are written with ``bulk_create``. The rows are built by the stage
service's own functions (:mod:`opportunities.services.stages`: ``stage_path_enter`` walks a deal
through Prospecting, then Engaging on ``engage_date``, then Won/Lost on ``close_date``, and
``opportunity_reference_day`` picks the day its amount converts on), so a deal and its
``StageChange`` rows are the same as ``opportunity_create`` + ``opportunity_move_stage`` would
write — same probability, status, ``closed_at``, ``stage_entered_at``, version, board position and
``amount_base``
(``salesdata/tests/test_services.py`` compares the two). What bulk skips on purpose is the outbox:
loading two years of history is not 26,000 live events, so no webhook fires for it.
"""

import csv
import datetime
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.models import Team, User
from accounts.permissions import sees_everything
from contacts.models import Organization
from contacts.services import organization_create, organization_update
from core.currency import quantize_cents, rate_on
from core.exceptions import ValidationError
from core.services import exchange_rate_set
from imports.keys import compact_key, name_key
from opportunities.models import Opportunity, OpportunityLine
from opportunities.services import (
    opportunity_line_add,
    opportunity_line_update,
    opportunity_move_stage,
    opportunity_reference_day,
    opportunity_update,
    stage_path_enter,
)
from pipeline.models import LostReason, Pipeline, Stage, StageChange
from products.models import Product
from products.services import product_create, product_update

PIPELINE_NAME = "CRM Sales Opportunities"
# name, kind, probability. Engaging is set near the data set's historical win rate (63 %).
STAGES = [
    ("Prospecting", Stage.Kind.OPEN, 10),
    ("Engaging", Stage.Kind.OPEN, 60),
    ("Won", Stage.Kind.WON, 100),
    ("Lost", Stage.Kind.LOST, 0),
]
LOST_REASON = "Not recorded"
PLURALS = {
    "team": "teams",
    "user": "users",
    "organization": "organizations",
    "product": "products",
    "opportunity": "opportunities",
    "stage change": "stage changes",
    "line": "deal lines",
}
NO_ACCOUNT = "Account not recorded"
CURRENCY = "USD"
# Obvious misspellings in accounts.csv, corrected and reported.
CORRECTIONS = {"sector": {"technolgy": "technology"}, "office_location": {"Philipines": "Philippines"}}

FILES = {
    "accounts.csv": ["account", "sector", "year_established", "revenue", "employees", "office_location"],
    "products.csv": ["product", "series", "sales_price"],
    "sales_teams.csv": ["sales_agent", "manager", "regional_office"],
    "sales_pipeline.csv": [
        "opportunity_id",
        "sales_agent",
        "product",
        "account",
        "deal_stage",
        "engage_date",
        "close_date",
        "close_value",
    ],
}


@dataclass
class DatasetSummary:
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    # (file, line number, reason)
    set_aside: list[tuple[str, int, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        out = []
        for kind, label in PLURALS.items():
            out.append(
                f"{label:15} created {self.created[kind]:>6,}   updated {self.updated[kind]:>5,}"
                f"   unchanged {self.unchanged[kind]:>6,}"
            )
        out.append(f"{'set aside':15} {len(self.set_aside):>6,}")
        out += [f"  - {name} line {line}: {reason}" for name, line, reason in self.set_aside[:50]]
        if len(self.set_aside) > 50:
            out.append(f"  … and {len(self.set_aside) - 50} more")
        out.append("How the data set's quirks were handled:")
        out += [f"  - {note}" for note in self.notes]
        out.append(f"Took {self.seconds:.1f} s")
        return out


def _read(path: Path, name: str) -> list[dict]:
    file = path / name
    if not file.exists():
        raise ValidationError({"path": f"{file} is missing."})
    with file.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [column for column in FILES[name] if column not in (reader.fieldnames or [])]
        if missing:
            raise ValidationError({"path": f"{name} lacks the column(s) {', '.join(missing)}."})
        return [{k: (v or "").strip() for k, v in row.items() if k} for row in reader]


def _day(value: str) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


def _at(day: datetime.date) -> datetime.datetime:
    """Noon local time: the date stays the same whatever the time zone of a report."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


def _username(full_name: str) -> str:
    return slugify(full_name).replace("-", ".")[:150]


def _pipeline() -> tuple[Pipeline, dict[str, Stage], int]:
    created = 0
    pipeline, was_created = Pipeline.objects.get_or_create(name=PIPELINE_NAME)
    created += was_created
    stages = {s.name: s for s in pipeline.stages.all()}
    for name, kind, probability in STAGES:
        if name not in stages:
            order = max([s.order for s in stages.values()], default=0) + 1
            stages[name] = Stage.objects.create(
                pipeline=pipeline, name=name, order=order, kind=kind, probability=probability
            )
    for stage in stages.values():
        stage.pipeline = pipeline
    return pipeline, stages, created


def _people(teams_rows, summary) -> dict[str, User]:
    """Managers lead one team each (named after them, region = regional office); agents join it."""
    people: dict[str, User] = {}
    existing = {u.username: u for u in User.objects.select_related("team")}
    teams = {t.name: t for t in Team.objects.all()}

    def person(full_name: str, role: str, team: Team | None) -> User:
        username = _username(full_name)
        first, _space, last = full_name.partition(" ")
        user = existing.get(username)
        if user is None:
            user = User(username=username, first_name=first, last_name=last, role=role, team=team)
            user.set_unusable_password()
            user.save()
            existing[username] = user
            summary.created["user"] += 1
        elif user.team_id != (team.pk if team else None) or (user.role != role and not user.is_crm_admin):
            user.team = team
            if not user.is_crm_admin:
                user.role = role
            user.save(update_fields=["team", "role"])
            summary.updated["user"] += 1
        else:
            summary.unchanged["user"] += 1
        return user

    by_manager = defaultdict(list)
    for row in teams_rows:
        by_manager[(row["manager"], row["regional_office"])].append(row["sales_agent"])
    for (manager_name, region), agents in by_manager.items():
        team_name = f"{region} – {manager_name}"
        team = teams.get(team_name)
        if team is None:
            team = teams[team_name] = Team.objects.create(name=team_name, region=region)
            summary.created["team"] += 1
        else:
            summary.unchanged["team"] += 1
        manager = person(manager_name, User.Role.MANAGER, team)
        if team.manager_id != manager.pk or team.region != region:
            team.manager, team.region = manager, region
            team.save(update_fields=["manager", "region"])
        people[name_key(manager_name)] = manager
        for agent in agents:
            people[name_key(agent)] = person(agent, User.Role.REP, team)
    return people


def _organizations(accounts_rows, user, summary) -> dict[str, Organization]:
    orgs = {name_key(o.name): o for o in Organization.objects.all()}
    fixes = Counter()

    def data_for(row) -> dict:
        values = {}
        for column, wrong_right in CORRECTIONS.items():
            values[column] = wrong_right.get(row[column], row[column])
            if values[column] != row[column]:
                fixes[(column, row[column], values[column])] += 1
        revenue = Decimal(row["revenue"]) * 1_000_000 if row["revenue"] else None
        return {
            "name": " ".join(row["account"].split()),
            "sector": values["sector"],
            "founded_year": int(row["year_established"]) if row["year_established"] else None,
            "annual_revenue": quantize_cents(revenue) if revenue is not None else None,
            "employees": int(row["employees"]) if row["employees"] else None,
            "country": values["office_location"],
        }

    for line, row in enumerate(accounts_rows, start=2):
        try:
            data = data_for(row)
        except (ValueError, InvalidOperation):
            summary.set_aside.append(("accounts.csv", line, f"unreadable number in account {row['account']!r}"))
            continue
        _save_org(orgs, data, user, summary)

    # Parents once every account exists.
    for line, row in enumerate(accounts_rows, start=2):
        parent_name = row.get("subsidiary_of", "")
        org = orgs.get(name_key(row["account"]))
        if not parent_name or org is None:
            continue
        parent = orgs.get(name_key(parent_name))
        if parent is None:
            summary.set_aside.append(("accounts.csv", line, f"parent {parent_name!r} is not an account: not linked"))
        elif org.parent_id != parent.pk:
            organization_update(organization=org, user=user, data={"parent": parent})
    for (column, wrong, right), count in sorted(fixes.items()):
        summary.notes.append(f"{column} {wrong!r} read as {right!r} ({count} account(s))")
    return orgs


def _save_org(orgs, data, user, summary) -> Organization:
    key = name_key(data["name"])
    org = orgs.get(key)
    if org is None:
        orgs[key] = organization_create(user=user, data=data)
        summary.created["organization"] += 1
        return orgs[key]
    if org.name != data["name"]:
        data = {k: v for k, v in data.items() if k != "name"}  # keep the name as already spelled
    updated = organization_update(organization=org, user=user, data=data)
    orgs[key] = updated
    if updated.changes:
        summary.updated["organization"] += 1
    else:
        summary.unchanged["organization"] += 1
    return updated


def _products(products_rows, user, summary) -> dict[str, Product]:
    products = {compact_key(p.name): p for p in Product.objects.all()}
    for line, row in enumerate(products_rows, start=2):
        try:
            price = Decimal(row["sales_price"])
        except InvalidOperation:
            summary.set_aside.append(("products.csv", line, f"price {row['sales_price']!r} is not a number"))
            continue
        key = compact_key(row["product"])
        product = products.get(key)
        values = {"category": row["series"], "unit_price": price, "currency": CURRENCY}
        if product is None:
            products[key] = product_create(user=user, name=" ".join(row["product"].split()), **values)
            summary.created["product"] += 1
        elif any(getattr(product, k) != v for k, v in values.items()):
            products[key] = product_update(product=product, user=user, data=values)
            summary.updated["product"] += 1
        else:
            summary.unchanged["product"] += 1
    return products


class _Rates:
    """``rate_on`` cached by day: ~450 distinct days instead of 8,800 queries."""

    def __init__(self):
        self.cache = {}

    def to_base(self, amount: Decimal, currency: str, day: datetime.date) -> Decimal | None:
        key = (currency, day)
        if key not in self.cache:
            self.cache[key] = rate_on(currency, day)
        rate = self.cache[key]
        return None if rate is None else quantize_cents(amount * rate)


def sales_dataset_import(
    *,
    path: Path | str,
    user,
    usd_rate: Decimal | None = None,
    usd_rate_from: datetime.date | None = None,
    progress=None,
) -> DatasetSummary:
    """Import the data set found in the folder ``path``; returns what was created, updated, set aside.

    ``user`` is recorded as the creator of the records. ``usd_rate`` (value of 1 USD in the base
    currency) is stored as the USD exchange rate from ``usd_rate_from`` (default: the data set's
    first date) so that deal totals convert; without it and without an existing USD rate the deals
    stay "unconverted" and reports show them apart. ``progress(done, total)`` is called as deals are built.
    """
    if not sees_everything(user):
        # It writes users, teams and the records of every team: an administrator's job, not a
        # way around the owner and change rules the services apply to everyone else.
        raise ValidationError(_("The data set can only be loaded by an administrator."))
    started = time.monotonic()
    path = Path(path)
    rows = {name: _read(path, name) for name in FILES}
    summary = DatasetSummary()
    with transaction.atomic():
        summary = _import(rows, user, usd_rate, usd_rate_from, progress, summary)
    summary.seconds = time.monotonic() - started
    return summary


def _import(rows, user, usd_rate, usd_rate_from, progress, summary) -> DatasetSummary:
    pipeline_rows = rows["sales_pipeline.csv"]
    all_days = [_day(r[c]) for r in pipeline_rows for c in ("engage_date", "close_date") if r[c][:4].isdigit()]
    first_day, last_day = (min(all_days), max(all_days)) if all_days else (timezone.localdate(),) * 2

    if usd_rate is not None:
        exchange_rate_set(currency=CURRENCY, valid_from=usd_rate_from or first_day, rate=usd_rate)
        summary.notes.append(f"USD rate {usd_rate} stored from {usd_rate_from or first_day}")

    pipeline, stages, _created = _pipeline()
    reason, _created = LostReason.objects.get_or_create(name=LOST_REASON, defaults={"order": 99})
    people = _people(rows["sales_teams.csv"], summary)
    orgs = _organizations(rows["accounts.csv"], user, summary)
    products = _products(rows["products.csv"], user, summary)
    product_names = {compact_key(r["product"]): r["product"] for r in rows["products.csv"]}

    ids = [r["opportunity_id"] for r in pipeline_rows]
    existing = {
        o.external_id: o
        for o in Opportunity.objects.filter(external_id__in=ids).select_related("stage").prefetch_related("lines")
    }
    tops = dict(
        Opportunity.objects.filter(stage__in=stages.values(), archived_at__isnull=True)
        .values_list("stage")
        .annotate(m=Min("position"))
    )
    rates = _Rates()
    new_deals, histories, new_products = [], [], []
    quirks = Counter()
    seen = set()

    for line, row in enumerate(pipeline_rows, start=2):
        if progress:
            progress(line - 1, len(pipeline_rows))
        ext_id = row["opportunity_id"]
        problem, deal = _deal_values(row, people, orgs, products, stages, reason, last_day)
        if not ext_id:
            problem = "no opportunity_id"
        elif ext_id in seen:
            problem = f"opportunity_id {ext_id} appears twice; the first row was kept"
        if problem:
            summary.set_aside.append(("sales_pipeline.csv", line, problem))
            continue
        seen.add(ext_id)
        if not row["account"]:
            quirks["no account", row["deal_stage"]] += 1
            if NO_ACCOUNT.casefold() not in orgs:
                _save_org(orgs, {"name": NO_ACCOUNT, "country": ""}, user, summary)
            deal["organization"] = orgs[NO_ACCOUNT.casefold()]
        if row["product"] != product_names.get(compact_key(row["product"])):
            quirks["product", row["product"], deal["product"].name] += 1
        if not row["engage_date"]:
            quirks["no date", row["deal_stage"]] += 1

        current = existing.get(ext_id)
        if current is None:
            opp, changes = _build(deal, ext_id, user, tops, rates)
            new_deals.append(opp)
            histories.append(changes)
            new_products.append(deal["product"])
        else:
            _update(current, deal, user, summary)

    Opportunity.objects.bulk_create(new_deals, batch_size=1000)
    changes = [change for opp, steps in zip(new_deals, histories, strict=True) for change in steps]
    for change in changes:
        change.opportunity_id = change.opportunity.pk
    StageChange.objects.bulk_create(changes, batch_size=2000)
    summary.created["opportunity"] += len(new_deals)
    summary.created["stage change"] += len(changes)
    # One line per deal, as opportunity_line_add writes it: the product, sold at the deal's amount.
    lines = [
        OpportunityLine(
            opportunity=opp,
            product=product,
            description=product.name,
            quantity=Decimal(1),
            unit_price=opp.amount,
            discount_percent=Decimal(0),
            position=0,
        )
        for opp, product in zip(new_deals, new_products, strict=True)
    ]
    OpportunityLine.objects.bulk_create(lines, batch_size=2000)
    summary.created["line"] += len(lines)

    _notes(summary, quirks, new_deals, pipeline_rows, last_day)
    return summary


def _deal_values(row, people, orgs, products, stages, reason, last_day):
    """The deal a pipeline row describes, or the reason it cannot be imported."""
    owner = people.get(name_key(row["sales_agent"]))
    if owner is None:
        return f"sales agent {row['sales_agent']!r} is not in sales_teams.csv", None
    product = products.get(compact_key(row["product"]))
    if product is None:
        return f"product {row['product']!r} is not in products.csv", None
    stage = stages.get(row["deal_stage"].strip().title())
    if stage is None:
        return f"deal_stage {row['deal_stage']!r} is not Prospecting, Engaging, Won or Lost", None
    org = orgs.get(name_key(row["account"])) if row["account"] else None
    if row["account"] and org is None:
        return f"account {row['account']!r} is not in accounts.csv", None
    try:
        engaged, closed = _day(row["engage_date"]), _day(row["close_date"])
    except ValueError:
        return f"engage_date {row['engage_date']!r} or close_date {row['close_date']!r} is not a date", None
    if not stage.is_open and closed is None:
        return f"a {stage.name} deal without close_date", None
    if (stage.name == "Engaging" or not stage.is_open) and engaged is None:
        return f"a {stage.name} deal without engage_date", None
    if engaged and closed and closed < engaged:
        return "close_date is before engage_date", None
    amount = product.unit_price
    if stage.is_won:
        try:
            amount = Decimal(row["close_value"])
        except InvalidOperation:
            return f"close_value {row['close_value']!r} is not a number", None
        if amount < 0:
            return f"close_value {row['close_value']!r} is negative", None
    path = [stages["Prospecting"]]
    if stage.name != "Prospecting":
        path.append(stages["Engaging"])
    if not stage.is_open:
        path.append(stage)
    start = engaged or last_day
    return None, {
        "name": f"{row['account'] or NO_ACCOUNT} · {product.name}",
        "owner": owner,
        "organization": org,
        "product": product,
        "amount": quantize_cents(amount),
        "path": path,
        "dates": [_at(start), _at(start), _at(closed) if closed else None][: len(path)],
        "lost_reason": reason if stage.is_lost else None,
    }


def _build(deal, ext_id, user, tops, rates) -> tuple[Opportunity, list[StageChange]]:
    """The deal and its history as opportunity_create + opportunity_move_stage would write them."""
    created_at = deal["dates"][0]
    opp = Opportunity(
        name=deal["name"],
        owner=deal["owner"],
        organization=deal["organization"],
        amount=deal["amount"],
        currency=CURRENCY,
        probability=None,
        probability_is_manual=False,
        external_id=ext_id,
        created_by=user,
        created_at=created_at,
        version=0,
    )
    path = list(zip(deal["path"], deal["dates"], strict=True))
    steps = stage_path_enter(opp, path, user=user, lost_reason=deal["lost_reason"])
    final = deal["path"][-1]
    tops[final.pk] = tops.get(final.pk, 1) - 1
    opp.position = tops[final.pk]
    opp.amount_base = rates.to_base(opp.amount, opp.currency, opportunity_reference_day(opp))
    return opp, steps


def _update(opp: Opportunity, deal, user, summary) -> None:
    """A deal imported before: change what differs, through the services."""
    data = {}
    if opp.owner_id != deal["owner"].pk:
        data["owner"] = deal["owner"]
    if opp.organization_id != (deal["organization"].pk if deal["organization"] else None):
        data["organization"] = deal["organization"]
    if opp.amount != deal["amount"]:
        data["amount"] = deal["amount"]
    if opp.currency != CURRENCY:
        data["currency"] = CURRENCY
    target = deal["path"][-1]
    moved = target.pk != opp.stage_id
    if moved:
        opportunity_move_stage(
            opportunity=opp, stage=target, user=user, at=deal["dates"][-1], lost_reason=deal["lost_reason"]
        )
    if data:
        opportunity_update(opportunity=opp.pk, user=user, data=data)
    lines = list(opp.lines.all())
    line_data = {"product": deal["product"], "description": deal["product"].name, "unit_price": deal["amount"]}
    line_changed = False
    if not lines:
        opportunity_line_add(opportunity=opp, user=user, product=deal["product"], unit_price=deal["amount"])
        summary.created["line"] += 1
    elif len(lines) == 1 and (
        lines[0].product_id != deal["product"].pk
        or lines[0].description != deal["product"].name
        or lines[0].unit_price != deal["amount"]
    ):
        opportunity_line_update(line=lines[0], user=user, data=line_data)
        summary.updated["line"] += 1
        line_changed = True
    else:
        summary.unchanged["line"] += 1
    if data or moved or line_changed:
        summary.updated["opportunity"] += 1
    else:
        summary.unchanged["opportunity"] += 1


def _notes(summary, quirks, new_deals, pipeline_rows, last_day):
    for key, count in sorted(quirks.items(), key=str):
        if key[0] == "product":
            summary.notes.append(
                f"product {key[1]!r} in {count:,} pipeline rows is {key[2]!r} of products.csv"
                " (same name ignoring case and spaces)"
            )
        elif key[0] == "no account":
            summary.notes.append(
                f"{count:,} {key[1]} rows have no account: their deals belong to the organization"
                f" {NO_ACCOUNT!r} (an opportunity needs a customer); reassign them when known"
            )
        elif key[0] == "no date":
            summary.notes.append(
                f"{count:,} {key[1]} rows have no date at all: created on {last_day}, the data set's last date"
            )
    lost = sum(1 for r in pipeline_rows if r["deal_stage"] == "Lost")
    if lost:
        summary.notes.append(
            f"{lost:,} Lost rows carry no reason: lost reason {LOST_REASON!r}; their amount is the"
            " product's list price (close_value is 0), as for open deals"
        )
    unconverted = sum(1 for o in new_deals if o.amount_base is None)
    if unconverted:
        summary.notes.append(
            f"amounts are in USD and no USD rate is known for {unconverted:,} new deals: they stay"
            " unconverted (reports show them apart); pass --usd-rate to store one"
        )
    elif new_deals:
        summary.notes.append("amounts are in USD, converted to the base currency at the stored USD rate")
