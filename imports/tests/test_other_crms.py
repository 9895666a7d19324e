"""Deals exported by other CRMs (Pipedrive, HubSpot) come in whole: headers matched by meaning,
their stages, statuses and lost reasons mapped by the user, every row accounted for."""

import csv
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.tests.factories import UserFactory
from contacts.models import Contact, Organization
from contacts.tests.factories import ContactFactory, OrganizationFactory
from core.exceptions import ValidationError
from imports.fields import FRACTION, PERCENT, auto_mapping
from imports.models import ImportJob, ImportKind, ImportMapping
from imports.services import (
    import_job_create,
    import_job_set_mapping,
    import_job_set_values,
    import_job_start,
    import_job_values,
    import_preview,
    import_run,
)
from imports.values import SKIP
from opportunities.models import Opportunity
from pipeline.models import LostReason, Pipeline, StageChange

DATA = Path(__file__).parent / "data"
pytestmark = pytest.mark.django_db


def file_rows(name):
    with open(DATA / name, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def upload(user, name, **kwargs) -> ImportJob:
    data = (DATA / name).read_bytes() if (DATA / name).exists() else name.encode()
    return import_job_create(user=user, kind=ImportKind.OPPORTUNITY, file=SimpleUploadedFile(name, data), **kwargs)


@pytest.fixture
def owners(db):
    return [
        UserFactory(username="mferri", first_name="Marco", last_name="Ferri"),
        UserFactory(username="gbianchi", first_name="Giulia", last_name="Bianchi"),
    ]


def reason(name):
    return str(LostReason.objects.get(name=name).pk)


def sales_stage(name):
    return str(Pipeline.objects.get(name="Sales pipeline").stages.get(name=name).pk)


def run_job(job, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():  # the test plays the worker below
        import_job_start(job=job)
    return import_run(job_id=job.pk)


PIPEDRIVE_VALUES = {
    "pipeline": {"Pipeline": None},  # filled in the test: ids are known there
    "stage": {
        "Qualified": "Qualifying",
        "Contact Made": "New",
        "Proposal Made": "Pending commitment",
        "Negotiations Started": "In negotiation",
    },
    "lost_reason": {
        "Too expensive": "Price",
        "Went with competitor": "Chose a competitor",
        "Not responsive": "No response",
    },
}


def pipedrive_values():
    return {
        "pipeline": {"Pipeline": str(Pipeline.objects.get(name="Sales pipeline").pk)},
        "stage": {value: sales_stage(name) for value, name in PIPEDRIVE_VALUES["stage"].items()},
        "lost_reason": {value: reason(name) for value, name in PIPEDRIVE_VALUES["lost_reason"].items()},
    }


def test_pipedrive_and_hubspot_headers_are_matched_by_meaning():
    pipedrive = auto_mapping(ImportKind.OPPORTUNITY, list(file_rows("pipedrive_deals.csv")[0]))
    assert pipedrive == {
        "external_id": "Deal - ID",
        "name": "Deal - Title",
        "owner": "Deal - Owner",
        "amount": "Deal - Value",
        "currency": "Deal - Currency",
        "probability": "Deal - Probability",
        "organization": "Deal - Organization",
        "pipeline": "Deal - Pipeline",
        "contact": "Deal - Contact person",
        "stage": "Deal - Stage",
        "status": "Deal - Status",
        "created_at": "Deal - Deal created",
        "closed_at": "Deal - Deal closed on",
        "lost_reason": "Deal - Lost reason",
        "expected_close_date": "Deal - Expected close date",
    }
    hubspot = auto_mapping(ImportKind.OPPORTUNITY, list(file_rows("hubspot_deals.csv")[0]))
    assert hubspot == {
        "external_id": "Record ID",
        "name": "Deal Name",
        "stage": "Deal Stage",
        "close_date": "Close Date",
        "owner": "Deal owner",
        "amount": "Amount",
        "pipeline": "Pipeline",
        "created_at": "Create Date",
        "probability": "Deal probability",
        "lost_reason": "Closed Lost Reason",
        "organization": "Associated Company",
        "contact": "Associated Contact",
        "type": "Deal Type",
    }
    italian = auto_mapping(ImportKind.OPPORTUNITY, ["Nome trattativa", "Organizzazione", "Persona", "Stato", "Motivo"])
    assert italian == {
        "name": "Nome trattativa",
        "organization": "Organizzazione",
        "contact": "Persona",
        "status": "Stato",
        "lost_reason": "Motivo",
    }
    assert auto_mapping(ImportKind.OPPORTUNITY, ["Titolo"]) == {"name": "Titolo"}
    assert auto_mapping(ImportKind.OPPORTUNITY, ["Deal name"]) == {"name": "Deal name"}


def test_pipedrive_export_imports_every_row_with_statuses_and_lost_reasons(
    crm_admin, owners, django_capture_on_commit_callbacks
):
    rows = file_rows("pipedrive_deals.csv")
    job = upload(crm_admin, "pipedrive_deals.csv")
    job = import_job_set_mapping(job=job, mapping=job.mapping, options={"create": "both"})

    preview = import_preview(job=job)
    # Nothing is imported while values of the file mean nothing here yet.
    assert preview.unknown == {
        "pipeline": ["Pipeline"],
        "stage": ["Negotiations Started", "Proposal Made", "Qualified", "Contact Made"],
        "lost_reason": ["Too expensive", "Went with competitor", "Not responsive"],
    }
    assert not preview.can_run
    with pytest.raises(ValidationError) as refused:
        import_job_start(job=job)
    assert set(refused.value.message_dict) == {"pipeline", "stage", "lost_reason"}
    assert not Opportunity.objects.exists()

    job = import_job_set_values(job=job, values=pipedrive_values(), save_as="Pipedrive deals")
    preview = import_preview(job=job)
    assert preview.unknown == {} and preview.can_run
    assert preview.options["probability_scale"] == PERCENT
    assert preview.result.counts == {"created": 20}
    assert not Opportunity.objects.exists()  # the preview is a dry run

    job = run_job(job, django_capture_on_commit_callbacks)
    assert job.status == "done"
    # Every row accounted for: 20 in the file, 20 deals.
    assert (job.created_count, job.updated_count, job.rejected_count) == (len(rows), 0, 0)
    deals = Opportunity.objects.all()
    expected = {status: sum(r["Deal - Status"] == status for r in rows) for status in ("open", "won", "lost")}
    assert expected == {"open": 7, "won": 6, "lost": 7}
    assert {s: deals.filter(status=s).count() for s in expected} == expected
    assert job.report["statuses"] == expected

    by_id = {d.external_id: d for d in deals.select_related("stage", "lost_reason", "pipeline", "contact", "owner")}
    for row in rows:
        deal = by_id[row["Deal - ID"]]
        assert deal.status == row["Deal - Status"]
        assert deal.owner.get_full_name() == row["Deal - Owner"]
        if row["Deal - Status"] == "lost":
            wanted = PIPEDRIVE_VALUES["lost_reason"].get(row["Deal - Lost reason"], row["Deal - Lost reason"])
            assert deal.lost_reason.name == (wanted or "Not recorded")
            # The other CRM's words are kept beside the reason they were mapped to.
            assert deal.lost_note == (row["Deal - Lost reason"] if row["Deal - Lost reason"] != wanted else "")
        if row["Deal - Status"] != "open":
            assert deal.closed_at.date().isoformat() == row["Deal - Deal closed on"][:10]
        else:
            assert deal.stage.name == PIPEDRIVE_VALUES["stage"].get(row["Deal - Stage"], row["Deal - Stage"])
            assert deal.probability == int(row["Deal - Probability"])
            assert deal.expected_close_date.isoformat() == row["Deal - Expected close date"]
    # Every status change went through the stage service: one history row per deal.
    assert StageChange.objects.filter(opportunity__in=deals).count() == 20
    # Contacts and organizations named by the file, created once each.
    assert Organization.objects.count() == len({r["Deal - Organization"] for r in rows})
    assert Contact.objects.count() == len({r["Deal - Contact person"] for r in rows} - {""})
    assert (
        by_id["101"].contact == by_id["114"].contact and by_id["101"].contact.organization.name == "Alfa Meccanica srl"
    )

    # The mapping was saved by name, and the next export from Pipedrive needs no work.
    saved = ImportMapping.objects.get(user=crm_admin, name="Pipedrive deals")
    assert saved.value_mapping["stage"]["Qualified"] == sales_stage("Qualifying")
    again = upload(crm_admin, "pipedrive_deals.csv")
    preview = import_preview(job=again)
    assert preview.unknown == {} and preview.result.counts == {"unchanged": 20}


def test_hubspot_export_imports_every_row_with_statuses_and_lost_reasons(
    crm_admin, owners, django_capture_on_commit_callbacks
):
    rows = file_rows("hubspot_deals.csv")
    job = upload(crm_admin, "hubspot_deals.csv")
    job = import_job_set_mapping(job=job, mapping=job.mapping, options={"create": "both"})
    preview = import_preview(job=job)
    # "Sales Pipeline", "Closed Won" and "Closed Lost" mean something here already.
    assert preview.unknown == {
        "stage": [
            "Contract Sent",
            "Appointment Scheduled",
            "Qualified To Buy",
            "Presentation Scheduled",
            "Decision Maker Bought-In",
        ],
        "lost_reason": ["Budget cut", "Chose competitor", "Timing: not this year"],
    }
    assert preview.options["probability_scale"] == FRACTION
    values = {
        "stage": {
            "Appointment Scheduled": sales_stage("New"),
            "Qualified To Buy": sales_stage("Qualifying"),
            "Presentation Scheduled": sales_stage("Demo scheduled"),
            "Decision Maker Bought-In": sales_stage("Pending commitment"),
            "Contract Sent": sales_stage("In negotiation"),
        },
        "lost_reason": {"Budget cut": reason("No budget"), "Chose competitor": reason("Chose a competitor")},
    }
    job = import_job_set_values(job=job, values=values)
    assert import_preview(job=job).unknown == {"lost_reason": ["Timing: not this year"]}
    # Skipping a value is a choice: its row stays out, and says why.
    job = import_job_set_values(job=job, values={"lost_reason": {"Timing: not this year": SKIP}})
    preview = import_preview(job=job)
    assert preview.can_run and preview.result.counts == {"created": 19, "rejected": 1}
    (skipped,) = preview.result.rejected
    assert skipped.errors == [
        ("Closed Lost Reason", "Timing: not this year is set to “skip” in the value mapping: the row is not imported.")
    ]

    job = run_job(job, django_capture_on_commit_callbacks)
    assert (job.created_count, job.rejected_count) == (19, 1)
    assert job.created_count + job.rejected_count == len(rows)
    assert job.report["rejected"] == [
        {"line": skipped.line, "errors": [{"column": "Closed Lost Reason", "message": skipped.errors[0][1]}]}
    ]
    deals = {d.external_id: d for d in Opportunity.objects.select_related("stage", "lost_reason", "contact")}
    stage_kind = {"Closed Won": "won", "Closed Lost": "lost"}
    imported = [r for r in rows if r["Closed Lost Reason"] != "Timing: not this year"]
    expected = {s: sum(stage_kind.get(r["Deal Stage"], "open") == s for r in imported) for s in ("open", "won", "lost")}
    assert expected == {"open": 9, "won": 6, "lost": 4}
    assert job.report["statuses"] == expected
    for row in imported:
        deal = deals[row["Record ID"]]
        assert deal.status == stage_kind.get(row["Deal Stage"], "open")
        close = row["Close Date"][:10]
        if deal.status == "open":
            # HubSpot's one Close Date is the expected one while the deal is open...
            assert deal.expected_close_date.isoformat() == close and deal.closed_at is None
            assert deal.probability == round(float(row["Deal probability"]) * 100)
        else:
            # ...and the day it was won or lost after.
            assert deal.closed_at.date().isoformat() == close
        if deal.status == "lost":
            wanted = {"Budget cut": "No budget", "Chose competitor": "Chose a competitor", "": "Not recorded"}
            assert deal.lost_reason.name == wanted[row["Closed Lost Reason"]]
    assert deals["9001"].contact.email == "luca.rossi@rossiarredamenti.it"
    assert deals["9001"].contact == deals["9007"].contact  # the same person twice in the file, once here


def test_a_saved_mapping_is_chosen_by_name_for_the_next_file(crm_admin, owners):
    job = upload(crm_admin, "hubspot_deals.csv")
    import_job_set_mapping(job=job, mapping={**job.mapping, "closed_at": "Last Activity Date"}, save_as="HubSpot")
    saved = ImportMapping.objects.get(name="HubSpot")
    other = upload(crm_admin, "hubspot_deals.csv", saved_mapping=saved.pk)
    assert other.mapping["closed_at"] == "Last Activity Date"
    with pytest.raises(ValidationError) as refused:
        upload(UserFactory(username="someone"), "hubspot_deals.csv", saved_mapping=saved.pk)  # not theirs
    assert "saved_mapping" in refused.value.message_dict


def test_contacts_and_organizations_are_created_only_when_asked_and_matched_among_visible_records(
    rep, other_rep, owners
):
    ContactFactory(owner=rep, first_name="Luca", last_name="Rossi", email="luca@alfa.it", organization=None)
    OrganizationFactory(owner=other_rep, name="Segreta srl")  # invisible to rep: not matched
    text = (
        "Deal name,Organization,Person\n"
        "Uno,Alfa srl,Luca Rossi (luca@alfa.it)\n"
        "Due,Alfa srl,Nuovo Contatto\n"
        "Tre,Segreta srl,nuovo contatto\n"
        "Quattro,Alfa srl,Nuovo Contatto\n"
    )
    job = import_job_create(user=rep, kind=ImportKind.OPPORTUNITY, file=SimpleUploadedFile("deals.csv", text.encode()))
    nothing = import_preview(job=import_job_set_mapping(job=job, mapping=job.mapping, options={"create": "none"}))
    assert [o.action for o in nothing.result.outcomes] == ["rejected"] * 4
    assert nothing.result.outcomes[0].errors == [("Organization", "There is no organization Alfa srl.")]
    # Every error of a row is reported, not just the first.
    assert nothing.result.outcomes[1].errors == [
        ("Organization", "There is no organization Alfa srl."),
        ("Person", "There is no contact Nuovo Contatto."),
    ]
    assert not import_preview(job=job).can_run  # "Run" is refused when no row can be imported

    import_job_set_mapping(job=job, mapping=job.mapping, options={"create": "both"})
    both = import_preview(job=job).result
    assert both.counts == {"created": 4}
    assert both.outcomes[0].notes == ["organization Alfa srl created"]  # Luca Rossi already exists
    assert both.outcomes[1].notes == ["contact Nuovo Contatto created"]
    assert both.outcomes[3].notes == []  # the same contact of the same organization, once


def test_every_error_of_a_row_names_its_column(crm_admin, owners):
    text = (
        "Titolo;Cliente;Valore;Probabilità;Stato;Responsabile\n"
        "Uno;Alfa srl;mille;120;forse;Nessuno\n"
        "Due;Alfa srl;1000;50;aperta;Marco Ferri\n"
    )
    job = import_job_create(
        user=crm_admin, kind=ImportKind.OPPORTUNITY, file=SimpleUploadedFile("it.csv", text.encode())
    )
    job = import_job_set_values(job=job, values={"status": {"forse": "open"}})
    result = import_preview(job=job).result
    first, second = result.outcomes
    assert first.errors == [
        ("Valore", "mille is not a number."),
        ("Probabilità", "120 is not a probability (0–100 %, or 0–1)."),
        ("Responsabile", "There is no user Nessuno."),
    ]
    assert second.action == "created"


@pytest.mark.parametrize(
    ("values", "scale", "stored"),
    [(["0.25", "0.5", "1"], FRACTION, 25), (["25", "50", "1"], PERCENT, 25), (["25 %", "", "0"], PERCENT, 25)],
)
def test_probabilities_in_either_scale_are_detected_per_file(
    crm_admin, values, scale, stored, django_capture_on_commit_callbacks
):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Deal", "Company", "Probability"])
    for n, value in enumerate(values):
        writer.writerow([f"Deal {n}", "Alfa srl", value])
    job = import_job_create(
        user=crm_admin, kind=ImportKind.OPPORTUNITY, file=SimpleUploadedFile("p.csv", out.getvalue().encode())
    )
    preview = import_preview(job=job)
    assert preview.options["probability_scale"] == scale and preview.can_run
    with pytest.raises(ValidationError) as refused:
        import_job_set_values(job=job, values={"stage": {"x": "999999"}})
    assert "stage" in refused.value.message_dict
    run_job(job, django_capture_on_commit_callbacks)
    assert Opportunity.objects.get(name="Deal 0").probability == stored


def test_the_pages_block_run_until_every_value_is_mapped(client, crm_admin, owners, django_capture_on_commit_callbacks):
    client.force_login(crm_admin)
    with open(DATA / "hubspot_deals.csv", "rb") as handle:
        response = client.post(reverse("imports:start"), {"kind": "opportunity", "file": handle})
    job = ImportJob.objects.get()
    page = client.get(response.url).content.decode()
    assert '<option value="Close Date" selected>' in page and 'name="create"' in page
    mapping = {**job.mapping, "create": "both", "save_as": "HubSpot deals"}
    assert client.post(job.get_absolute_url(), mapping).status_code == 302
    assert ImportMapping.objects.filter(name="HubSpot deals").exists()

    preview = client.get(reverse("imports:preview", args=[job.pk])).content.decode()
    assert 'data-unknown="8"' in preview and preview.count("data-unknown-value") == 8
    assert "disabled" in preview.split('id="run-form"')[1].split("</button>")[0]
    assert "Probabilities are read as 0–1: 0.25 is 25 %." in preview
    crm_admin.language = "it"
    crm_admin.save(update_fields=["language"])
    italian = client.get(reverse("imports:preview", args=[job.pk])).content.decode()
    assert "Valori del file" in italian and "8 valori da associare" in italian and "da associare</span>" in italian
    assert "Associa o salta ogni valore del file qui sopra prima di importare." in italian
    crm_admin.language = "en"
    crm_admin.save(update_fields=["language"])
    with django_capture_on_commit_callbacks():
        refused = client.post(reverse("imports:run", args=[job.pk]))
    assert refused.status_code == 302 and ImportJob.objects.get().status == "uploaded"

    # The values form lists every value in the order of the file; fill in the unknown ones.
    found = {}
    html_rows = preview.split('id="value-mapping"')[1]
    stages = {"Contract Sent": "In negotiation", "Appointment Scheduled": "New", "Qualified To Buy": "Qualifying"}
    stages |= {"Presentation Scheduled": "Demo scheduled", "Decision Maker Bought-In": "Pending commitment"}
    listed, _unknown = import_job_values(job)
    for field, entries in listed.items():
        for index, (value, target, _rows) in enumerate(entries):
            name = f"{field}-{index}"
            assert f'name="{name}"' in html_rows
            if field == "stage":
                found[name] = sales_stage(stages[value]) if value in stages else str(target.pk)
            elif field == "lost_reason":
                found[name] = {"Budget cut": reason("No budget"), "Chose competitor": reason("Chose a competitor")}.get(
                    value, SKIP
                )
            elif field == "pipeline":
                found[name] = str(target.pk)
    assert client.post(reverse("imports:values", args=[job.pk]), found).status_code == 302
    preview = client.get(reverse("imports:preview", args=[job.pk])).content.decode()
    assert 'data-unknown="0"' in preview
    assert "disabled" not in preview.split('id="run-form"')[1].split("</button>")[0]
    with django_capture_on_commit_callbacks():
        client.post(reverse("imports:run", args=[job.pk]))
    import_run(job_id=job.pk)
    result = client.get(job.get_absolute_url()).content.decode()
    assert 'data-count="created">19<' in result and 'data-count="rejected">1' in result
    assert "9 open, 6 won, 4 lost" in result
    assert "Closed Lost Reason</strong>: Timing: not this year is set to “skip”" in result


def test_a_refused_row_does_not_leave_the_next_one_a_lost_reason_rolled_back(crm_admin, owners):
    from imports.readers import read_table
    from imports.services import import_rows

    LostReason.objects.filter(name="Not recorded").delete()
    text = "Deal,Company,Status,Owner\nUno,Alfa srl,lost,Nobody\nDue,Alfa srl,lost,Marco Ferri\n"
    table = read_table(text.encode(), "d.csv")
    result = import_rows(
        kind=ImportKind.OPPORTUNITY,
        table=table,
        mapping=auto_mapping(ImportKind.OPPORTUNITY, table.headers),
        user=crm_admin,
    )
    assert [o.action for o in result.outcomes] == ["rejected", "created"]
    assert result.outcomes[0].errors == [("Owner", "There is no user Nobody.")]
    assert Opportunity.objects.get(name="Due").lost_reason.name == "Not recorded"
