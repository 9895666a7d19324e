import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from openpyxl import Workbook

from contacts.models import Contact, Organization
from contacts.tests.factories import OrganizationFactory, valid_partita_iva
from imports.fields import auto_mapping, parse_date, parse_decimal
from imports.models import ImportJob, ImportKind
from imports.readers import read_table
from imports.services import (
    import_job_create,
    import_job_set_mapping,
    import_job_start,
    import_preview,
    import_rows,
    import_run,
)
from opportunities.models import Opportunity
from pipeline.models import StageChange
from products.models import Product


def csv_bytes(rows):
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def xlsx_bytes(rows):
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def run(kind, rows, user, mapping=None, dry_run=False, name="f.csv"):
    table = read_table(csv_bytes(rows), name)
    return import_rows(
        kind=kind, table=table, mapping=mapping or auto_mapping(kind, table.headers), user=user, dry_run=dry_run
    )


@pytest.mark.django_db  # the record kind's custom fields are import fields too (none here)
def test_auto_mapping_matches_english_italian_and_sloppy_headers():
    headers = ["Ragione Sociale", "Partita IVA", "Codice fiscale", "CAP", "Città", "E-mail ", "Fatturato", "Other"]
    assert auto_mapping(ImportKind.ORGANIZATION, headers) == {
        "name": "Ragione Sociale",
        "vat_number": "Partita IVA",
        "fiscal_code": "Codice fiscale",
        "postal_code": "CAP",
        "city": "Città",
        "email": "E-mail ",
        "annual_revenue": "Fatturato",
    }
    assert auto_mapping(ImportKind.CONTACT, ["Nome", "Cognome", "Email", "Azienda"]) == {
        "first_name": "Nome",
        "last_name": "Cognome",
        "email": "Email",
        "organization": "Azienda",
    }
    deal = auto_mapping(ImportKind.OPPORTUNITY, ["Deal name", "Account", "Deal stage", "Importo", "Close date"])
    assert deal == {
        "name": "Deal name",
        "organization": "Account",
        "stage": "Deal stage",
        "amount": "Importo",
        "close_date": "Close date",
    }


def test_numbers_and_dates_in_italian_and_english_forms():
    assert parse_decimal("1.234,56") == Decimal("1234.56")
    assert parse_decimal("1,234.56") == Decimal("1234.56")
    assert parse_decimal("€ 99,5") == Decimal("99.5")
    assert parse_date("31/12/2024") == datetime.date(2024, 12, 31)
    assert parse_date("2024-12-31") == datetime.date(2024, 12, 31)


@pytest.mark.django_db
def test_preview_reports_each_bad_row_naming_the_column_and_saves_nothing(crm_admin, stages):
    OrganizationFactory(name="Acme SpA")
    result = run(
        ImportKind.OPPORTUNITY,
        [
            ["Nome", "Cliente", "Fase", "Importo", "Chiusura prevista"],
            ["Good deal", "Acme SpA", "Qualifying", "1.500,00", "31/12/2030"],
            ["Bad stage", "Acme SpA", "Maybe later", "100", ""],
            ["Bad amount", "Acme SpA", "Qualifying", "a lot", ""],
            ["Bad date", "Acme SpA", "Qualifying", "100", "next spring"],
            ["", "Acme SpA", "Qualifying", "100", ""],
        ],
        crm_admin,
        dry_run=True,
    )
    assert [o.action for o in result.outcomes] == ["created", "rejected", "rejected", "rejected", "rejected"]
    reasons = {o.line: o.reason for o in result.rejected}
    assert reasons[3].startswith("Fase: Maybe later is not a stage of Sales pipeline")
    assert reasons[4] == "Importo: a lot is not a number."
    assert reasons[5].startswith("Chiusura prevista: next spring is not a date")
    assert reasons[6] == "Nome: This value is required."
    assert not Opportunity.objects.exists()


@pytest.mark.django_db
def test_bad_vat_number_is_reported_on_its_column(crm_admin):
    result = run(
        ImportKind.ORGANIZATION,
        [["Ragione sociale", "P.IVA"], ["Rossi srl", "12345678901"], ["Bianchi srl", valid_partita_iva(7)]],
        crm_admin,
    )
    assert result.counts["created"] == 1
    (bad,) = result.rejected
    assert bad.line == 2 and bad.reason.startswith("P.IVA: ")
    assert Organization.objects.get().name == "Bianchi srl"


@pytest.mark.django_db
def test_reimport_updates_and_names_differing_by_case_or_spacing_are_one_record(crm_admin):
    rows = [["Ragione sociale", "Città", "Dipendenti"], ["ACME  spa", "Milano", "10"], ["Acme SPA", "Roma", ""]]
    first = run(ImportKind.ORGANIZATION, rows, crm_admin)
    assert [o.action for o in first.outcomes] == ["created", "updated"]
    acme = Organization.objects.get()
    # The empty cell did not erase the employees; the name keeps the first spelling.
    assert (acme.name, acme.city, acme.employees) == ("ACME spa", "Roma", 10)

    second = run(ImportKind.ORGANIZATION, rows, crm_admin)
    assert Organization.objects.count() == 1
    assert [o.action for o in second.outcomes] == ["updated", "updated"]  # Milano, then Roma again
    third = run(ImportKind.ORGANIZATION, [rows[0], rows[2]], crm_admin)
    assert [o.action for o in third.outcomes] == ["unchanged"]


@pytest.mark.django_db
def test_deals_reimport_through_the_stage_service_by_external_id(crm_admin, stages, rep):
    header = ["ID", "Deal", "Account", "Stage", "Amount", "Owner", "Close date"]
    run(ImportKind.OPPORTUNITY, [header, ["X1", "Server", "Rossi srl", "Qualifying", "1000", "rep", ""]], crm_admin)
    deal = Opportunity.objects.get(external_id="X1")
    assert (deal.owner, deal.stage.name, deal.organization.name) == (rep, "Qualifying", "Rossi srl")

    result = run(
        ImportKind.OPPORTUNITY,
        [header, ["X1", "Server", "ROSSI SRL", "Lost", "1000", "rep", "2024-05-02"]],
        crm_admin,
    )
    assert result.counts["updated"] == 1
    deal.refresh_from_db()
    assert (deal.status, deal.lost_reason.name) == ("lost", "Not recorded")
    assert StageChange.objects.filter(opportunity=deal).count() == 2
    assert Opportunity.objects.count() == 1 and Organization.objects.count() == 1


@pytest.mark.django_db
def test_contacts_match_by_email_and_create_their_organization(crm_admin):
    rows = [["Nome", "Cognome", "Email", "Azienda"], ["Anna", "Verdi", "ANNA@x.it", "Verdi  SRL"]]
    run(ImportKind.CONTACT, rows, crm_admin)
    run(ImportKind.CONTACT, [rows[0], ["Anna Maria", "Verdi", "anna@x.it", "verdi srl"]], crm_admin)
    contact = Contact.objects.get()
    assert (contact.first_name, contact.email, contact.organization.name) == ("Anna Maria", "anna@x.it", "Verdi SRL")


@pytest.mark.django_db
def test_products_from_xlsx_match_by_code_or_name(crm_admin):
    data = xlsx_bytes(
        [["Codice", "Prodotto", "Prezzo", "IVA"], ["GTX-1", "GTX Pro", 4821, 22], [None, "MG Special", 55.5, 10]]
    )
    table = read_table(data, "catalogo.xlsx")
    mapping = auto_mapping(ImportKind.PRODUCT, table.headers)
    import_rows(kind=ImportKind.PRODUCT, table=table, mapping=mapping, user=crm_admin)
    table.rows[1]["Prodotto"] = "MGSpecial"
    again = import_rows(kind=ImportKind.PRODUCT, table=table, mapping=mapping, user=crm_admin)
    assert [o.action for o in again.outcomes] == ["unchanged", "unchanged"]
    assert Product.objects.get(code="GTX-1").unit_price == Decimal("4821.00")
    assert Product.objects.get(name="MG Special").vat_rate == Decimal("10.00")


@pytest.mark.django_db
def test_a_rep_cannot_overwrite_a_record_of_another_team(rep, other_rep):
    """Another team's organization is invisible to the rep: the import does not match it (nor say
    it exists); the rep gets an organization of their own and theirs is untouched."""
    theirs = OrganizationFactory(name="Theirs srl", owner=other_rep)
    result = run(ImportKind.ORGANIZATION, [["Name", "City"], ["THEIRS SRL", "Pisa"]], rep)
    assert [o.action for o in result.outcomes] == ["created"]
    theirs.refresh_from_db()
    assert theirs.city == "Milano" and theirs.owner == other_rep
    assert Organization.objects.exclude(pk=theirs.pk).get().owner == rep


@pytest.mark.django_db
def test_a_rep_cannot_overwrite_a_visible_record_of_a_teammate(rep, teammate):
    OrganizationFactory(name="Ours srl", owner=teammate)
    result = run(ImportKind.ORGANIZATION, [["Name", "City"], ["OURS SRL", "Pisa"]], rep)
    assert "you may not change it" in result.rejected[0].reason
    assert Organization.objects.get().city == "Milano"


@pytest.mark.django_db
def test_job_runs_in_the_background_once_and_writes_the_rejected_rows(crm_admin, django_capture_on_commit_callbacks):
    upload = SimpleUploadedFile(
        "aziende.csv", csv_bytes([["Ragione sociale", "Dipendenti"], ["Alfa srl", "3"], ["Beta srl", "tre"]])
    )
    job = import_job_create(user=crm_admin, kind=ImportKind.ORGANIZATION, file=upload)
    assert job.mapping == {"name": "Ragione sociale", "employees": "Dipendenti"} and job.total_rows == 2
    assert [o.action for o in import_preview(job=job).result.outcomes] == ["created", "rejected"]
    assert not Organization.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        import_job_start(job=job)
    job.refresh_from_db()
    assert (job.status, job.progress, job.created_count, job.rejected_count) == ("done", 100, 1, 1)
    assert import_run(job_id=job.pk) is None  # a second delivery of the task does nothing
    assert Organization.objects.count() == 1

    with job.rejected_file.open("rb") as handle:
        rows = list(csv.reader(io.StringIO(handle.read().decode("utf-8-sig"))))
    assert rows == [
        ["line", "reason", "Ragione sociale", "Dipendenti"],
        ["3", "Dipendenti: tre is not a number.", "Beta srl", "tre"],
    ]


@pytest.mark.django_db
def test_mapping_must_name_existing_columns_and_required_fields(crm_admin):
    upload = SimpleUploadedFile("x.csv", csv_bytes([["Foo", "Bar"], ["1", "2"]]))
    job = import_job_create(user=crm_admin, kind=ImportKind.ORGANIZATION, file=upload)
    with pytest.raises(Exception) as exc:
        import_job_set_mapping(job=job, mapping={"city": "Nope"})
    assert set(exc.value.message_dict) == {"city", "name"}
    assert import_job_set_mapping(job=job, mapping={"name": "Foo"}).mapping == {"name": "Foo"}
    assert ImportJob.objects.get().status == "uploaded"


@pytest.mark.django_db
def test_import_csv_command_dry_run_then_real(crm_admin, tmp_path):
    path = tmp_path / "orgs.csv"
    path.write_bytes(csv_bytes([["Company", "Town", "Staff"], ["Gamma spa", "Bari", "5"], ["Delta spa", "Lecce", "?"]]))
    out = io.StringIO()
    call_command(
        "import_csv",
        "organizations",
        str(path),
        "--dry-run",
        "--mapping",
        "employees=Staff",
        "--no-progress",
        stdout=out,
    )
    assert "would have 1 created, 0 updated, 0 unchanged, 1 rejected" in out.getvalue()
    assert not Organization.objects.exists()
    out = io.StringIO()
    call_command("import_csv", "organizations", str(path), "--mapping", "employees=Staff", "--no-progress", stdout=out)
    assert "1 created" in out.getvalue() and Organization.objects.get().employees == 5
    rejected = (tmp_path / "orgs.csv.rejected.csv").read_text(encoding="utf-8-sig")
    assert "Staff: ? is not a number." in rejected and "Delta spa" in rejected


@pytest.mark.django_db
def test_a_job_left_running_by_a_dead_worker_is_taken_over(crm_admin):
    upload = SimpleUploadedFile("a.csv", csv_bytes([["Name"], ["Zeta srl"]]))
    job = import_job_create(user=crm_admin, kind=ImportKind.ORGANIZATION, file=upload)
    recently = timezone.now() - datetime.timedelta(minutes=1)
    ImportJob.objects.filter(pk=job.pk).update(status="running", heartbeat_at=recently)
    assert import_run(job_id=job.pk) is None  # someone is working on it
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=recently - datetime.timedelta(hours=1))
    assert import_run(job_id=job.pk).status == "done"
    assert Organization.objects.get().name == "Zeta srl"


@pytest.mark.django_db
def test_import_csv_set_gives_a_value_to_rows_without_one(crm_admin, classic_stages, tmp_path):
    path = tmp_path / "deals.csv"
    path.write_bytes(csv_bytes([["Deal", "Customer", "Stage"], ["Router", "Rossi srl", "Quote sent"]]))
    out = io.StringIO()
    call_command("import_csv", "deals", str(path), "--set", "pipeline=Classic pipeline", "--no-progress", stdout=out)
    assert "1 created" in out.getvalue()
    assert Opportunity.objects.get().stage == classic_stages["Quote sent"]


@pytest.mark.django_db
def test_a_rep_cannot_import_products(rep):
    result = run(ImportKind.PRODUCT, [["Prodotto", "Prezzo"], ["Tablet", "300"]], rep)
    assert result.rejected[0].reason == "Prodotto: Only managers and administrators can change the catalog."
    assert not Product.objects.exists()
