"""The real "CRM Sales Opportunities" data set, imported with the project's own command."""

import csv
import datetime
from collections import Counter
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import Team, User
from contacts.models import Organization
from core.models import ExchangeRate
from imports.keys import compact_key
from opportunities.models import Opportunity, OpportunityLine
from opportunities.services import opportunity_create, opportunity_line_add, opportunity_move_stage
from pipeline.models import LostReason, Stage, StageChange
from products.models import Product
from salesdata.services import NO_ACCOUNT, PIPELINE_NAME, _at, sales_dataset_import

DATASET = Path(settings.BASE_DIR) / "datasets" / "crm-sales-opportunities"


def read(name):
    with (DATASET / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def importer(crm_admin):
    return crm_admin


def run(path=DATASET, *args):
    out = StringIO()
    call_command("import_sales_dataset", str(path), "--no-progress", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_whole_data_set_matches_the_csv_files_and_a_second_run_changes_nothing(importer):
    accounts, products, teams, pipeline = (
        read("accounts.csv"),
        read("products.csv"),
        read("sales_teams.csv"),
        read("sales_pipeline.csv"),
    )
    output = run()

    assert Opportunity.objects.filter(external_id__in=[r["opportunity_id"] for r in pipeline]).count() == len(pipeline)
    deals = Opportunity.objects.filter(pipeline__name=PIPELINE_NAME)
    by_stage = Counter(deals.values_list("stage__name", flat=True))
    assert by_stage == Counter(r["deal_stage"] for r in pipeline)
    assert deals.filter(status="won").count() == sum(r["deal_stage"] == "Won" for r in pipeline)
    assert deals.filter(status="lost", lost_reason__name="Not recorded").count() == sum(
        r["deal_stage"] == "Lost" for r in pipeline
    )
    assert set(deals.values_list("currency", flat=True)) == {"USD"}
    # Won amounts are close_value; the others the product's list price.
    prices = {compact_key(r["product"]): Decimal(r["sales_price"]) for r in products}
    expected_total = sum(
        Decimal(r["close_value"]) if r["deal_stage"] == "Won" else prices[compact_key(r["product"])] for r in pipeline
    )
    assert sum(deals.values_list("amount", flat=True)) == expected_total

    # Accounts, plus one placeholder for the rows without account.
    assert Organization.objects.count() == len(accounts) + 1
    no_account = sum(1 for r in pipeline if not r["account"])
    assert deals.filter(organization__name=NO_ACCOUNT).count() == no_account > 0
    assert Organization.objects.filter(parent__isnull=False).count() == sum(1 for r in accounts if r["subsidiary_of"])
    acme = Organization.objects.get(name="Acme Corporation")
    assert (acme.sector, acme.employees, acme.annual_revenue) == ("technology", 2822, Decimal("1100040000.00"))
    assert Product.objects.count() == len(products)  # "GTXPro" is "GTX Pro", not an eighth product
    assert OpportunityLine.objects.filter(opportunity__in=deals).count() == len(pipeline)
    gtx_pro = sum(compact_key(r["product"]) == "gtxpro" for r in pipeline)
    assert OpportunityLine.objects.filter(opportunity__in=deals, product__name="GTX Pro").count() == gtx_pro

    managers = {r["manager"] for r in teams}
    assert Team.objects.count() == len(managers)
    assert User.objects.filter(role=User.Role.MANAGER).count() == len(managers)
    assert User.objects.filter(role=User.Role.REP, team__isnull=False).count() == len(teams)
    darcel = User.objects.get(first_name="Darcel", last_name="Schlecht")
    darcel_row = next(r for r in teams if r["sales_agent"] == "Darcel Schlecht")
    assert darcel.team.manager.get_full_name() == darcel_row["manager"]
    assert darcel.team.region == darcel_row["regional_office"]
    assert deals.filter(owner=darcel).count() == sum(r["sales_agent"] == "Darcel Schlecht" for r in pipeline)

    # Stage history: Prospecting, then Engaging on engage_date, then Won/Lost on close_date.
    expected_changes = sum({"Prospecting": 1, "Engaging": 2}.get(r["deal_stage"], 3) for r in pipeline)
    assert StageChange.objects.filter(opportunity__in=deals).count() == expected_changes
    row = next(r for r in pipeline if r["deal_stage"] == "Lost")
    lost = Opportunity.objects.get(external_id=row["opportunity_id"])
    assert lost.created_at == _at(datetime.date.fromisoformat(row["engage_date"]))
    assert lost.closed_at == _at(datetime.date.fromisoformat(row["close_date"]))
    assert [(c.to_stage.name, c.changed_at.date()) for c in lost.stage_changes.all()] == [
        ("Prospecting", lost.created_at.date()),
        ("Engaging", lost.created_at.date()),
        ("Lost", lost.closed_at.date()),
    ]
    assert "GTXPro" in output and "technolgy" in output and "set aside            0" in output

    # Idempotent: nothing created the second time, nothing changed.
    before = (Opportunity.objects.count(), StageChange.objects.count(), Organization.objects.count())
    second = run()
    assert (Opportunity.objects.count(), StageChange.objects.count(), Organization.objects.count()) == before
    assert "created      0" in second.splitlines()[4] and "unchanged  8,800" in second


def write_dataset(folder: Path, pipeline_rows: list[str], accounts=None):
    folder.mkdir(exist_ok=True)
    (folder / "accounts.csv").write_text(
        "account,sector,year_established,revenue,employees,office_location,subsidiary_of\n"
        + (accounts or "Acme Corporation,technolgy,1996,1100.04,2822,United States,\n")
    )
    (folder / "products.csv").write_text("product,series,sales_price\nGTX Pro,GTX,4821\nMG Special,MG,55\n")
    (folder / "sales_teams.csv").write_text(
        "sales_agent,manager,regional_office\nMoses Frase,Dustin Brinkmann,Central\n"
    )
    (folder / "sales_pipeline.csv").write_text(
        "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\n"
        + "\n".join(pipeline_rows)
        + "\n"
    )
    return folder


@pytest.mark.django_db
def test_bulk_import_writes_what_the_services_write(importer, tmp_path):
    """One deal imported in bulk equals one made by opportunity_create + opportunity_move_stage."""
    folder = write_dataset(tmp_path / "d", ["AAA,Moses Frase,GTXPro,Acme Corporation,Lost,2017-01-05,2017-03-01,0"])
    exchange = ExchangeRate.objects.create(currency="USD", valid_from=datetime.date(2016, 1, 1), rate=Decimal("0.9"))
    sales_dataset_import(path=folder, user=importer)
    bulk = Opportunity.objects.get(external_id="AAA")

    stages = {s.name: s for s in Stage.objects.filter(pipeline__name=PIPELINE_NAME)}
    engaged, closed = _at(datetime.date(2017, 1, 5)), _at(datetime.date(2017, 3, 1))
    Opportunity.objects.filter(pk=bulk.pk).update(archived_at=closed)  # free the board column position
    made = opportunity_create(
        user=importer,
        name=bulk.name,
        owner=bulk.owner,
        organization=bulk.organization,
        stage=stages["Prospecting"],
        amount=Decimal("4821.00"),
        currency="USD",
        external_id="BBB",
        created_at=engaged,
    )
    opportunity_move_stage(opportunity=made, stage=stages["Engaging"], user=importer, at=engaged)
    made = opportunity_move_stage(
        opportunity=made,
        stage=stages["Lost"],
        user=importer,
        at=closed,
        lost_reason=LostReason.objects.get(name="Not recorded"),
    )
    bulk.refresh_from_db()
    made.refresh_from_db()  # the funnel columns are written by the database
    skip = {"id", "external_id", "updated_at", "archived_at"}
    fields = [f.attname for f in Opportunity._meta.concrete_fields if f.attname not in skip]
    assert {f: getattr(bulk, f) for f in fields} == {f: getattr(made, f) for f in fields}
    assert bulk.amount_base == Decimal("4338.90") and exchange.pk

    def history(opp):
        return list(
            opp.stage_changes.values_list(
                "from_stage", "to_stage", "changed_by", "changed_at", "amount", "currency", "probability", "lost_reason"
            )
        )

    assert history(bulk) == history(made) and len(history(bulk)) == 3

    opportunity_line_add(opportunity=made, user=importer, product=Product.objects.get(name="GTX Pro"))
    line_fields = ["product_id", "description", "quantity", "unit_price", "discount_percent", "position"]
    assert list(bulk.lines.values(*line_fields)) == list(made.lines.values(*line_fields))


@pytest.mark.django_db
def test_bad_rows_are_set_aside_with_their_reason(importer, tmp_path):
    folder = write_dataset(
        tmp_path / "d",
        [
            "OK1,Moses Frase,MG Special,,Prospecting,,,",
            "BAD1,Nobody Known,MG Special,Acme Corporation,Won,2017-01-05,2017-03-01,50",
            "BAD2,Moses Frase,Unknown Box,Acme Corporation,Engaging,2017-01-05,,",
            "BAD3,Moses Frase,MG Special,Acme Corporation,Closing,2017-01-05,,",
            "BAD4,Moses Frase,MG Special,Acme Corporation,Won,2017-01-05,03/01/2017,50",
            "BAD5,Moses Frase,MG Special,Acme Corporation,Won,2017-01-05,2017-03-01,lots",
            "BAD6,Moses Frase,MG Special,Nowhere Inc,Won,2017-01-05,2017-03-01,50",
            "OK1,Moses Frase,MG Special,,Prospecting,,,",
        ],
    )
    summary = sales_dataset_import(path=folder, user=importer)
    reasons = {line: reason for _file, line, reason in summary.set_aside}
    assert summary.created["opportunity"] == 1
    assert "Nobody Known" in reasons[3]
    assert "Unknown Box" in reasons[4]
    assert "Closing" in reasons[5]
    assert "03/01/2017" in reasons[6]
    assert "close_value 'lots'" in reasons[7]
    assert "Nowhere Inc" in reasons[8]
    assert "appears twice" in reasons[9]
    assert len(summary.set_aside) == 7


@pytest.mark.django_db
def test_a_changed_row_updates_the_deal_through_the_stage_service(importer, tmp_path):
    folder = write_dataset(tmp_path / "d", ["AAA,Moses Frase,GTX Pro,Acme Corporation,Engaging,2017-01-05,,"])
    sales_dataset_import(path=folder, user=importer)
    write_dataset(folder, ["AAA,Moses Frase,GTX Pro,ACME  corporation,Won,2017-01-05,2017-02-01,4500"])
    summary = sales_dataset_import(path=folder, user=importer)
    deal = Opportunity.objects.get(external_id="AAA")
    assert (summary.created["opportunity"], summary.updated["opportunity"]) == (0, 1)
    assert (deal.status, deal.amount, deal.closed_at) == ("won", Decimal("4500.00"), _at(datetime.date(2017, 2, 1)))
    assert deal.stage_changes.count() == 3
    assert deal.lines.get().unit_price == Decimal("4500.00")
    assert Organization.objects.count() == 1


@pytest.mark.django_db
def test_missing_file_is_a_clear_error(importer, tmp_path):
    with pytest.raises(CommandError, match="accounts.csv is missing"):
        run(tmp_path)


@pytest.mark.django_db
def test_usd_rate_option_converts_the_amounts(importer, tmp_path):
    folder = write_dataset(tmp_path / "d", ["AAA,Moses Frase,GTX Pro,Acme Corporation,Won,2017-01-05,2017-02-01,1000"])
    output = run(folder, "--usd-rate", "0.95")
    assert Opportunity.objects.get(external_id="AAA").amount_base == Decimal("950.00")
    assert "USD rate 0.95" in output
