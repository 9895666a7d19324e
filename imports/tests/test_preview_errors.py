"""The import preview names every error of a row, by the column or a human label (issue 16)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contacts.models import Organization
from contacts.tests.factories import valid_partita_iva
from imports.models import ImportKind
from imports.services import import_job_create, import_job_set_mapping

from .test_services import csv_bytes, run

pytestmark = pytest.mark.django_db


def test_every_error_of_a_row_is_reported(crm_admin):
    rows = [["Ragione sociale", "P.IVA", "E-mail", "Dipendenti"], ["Rossi srl", "12345678901", "not-an-email", "many"]]
    (bad,) = run(ImportKind.ORGANIZATION, rows, crm_admin).rejected
    columns = [column for column, _message in bad.errors]
    assert columns == ["E-mail", "Dipendenti", "P.IVA"]
    assert "12345678901 is not a valid Italian VAT number" in bad.reason
    assert not Organization.objects.exists()


def test_a_trial_record_is_not_remembered_by_later_rows(crm_admin):
    """The errors of row 2 are found by trying it, rolled back: row 3 must create its own record."""
    rows = [
        ["Ragione sociale", "P.IVA", "Dipendenti"],
        ["Rossi srl", valid_partita_iva(3), "many"],
        ["Rossi srl", valid_partita_iva(3), "12"],
    ]
    result = run(ImportKind.ORGANIZATION, rows, crm_admin)
    assert [o.action for o in result.outcomes] == ["rejected", "created"]
    assert Organization.objects.get().employees == 12


def test_errors_name_fields_as_people_do(crm_admin):
    vat = valid_partita_iva(5)
    rows = [["Ragione sociale", "P.IVA"], ["Uno srl", f"IT{vat}"], ["Due srl", vat]]
    result = run(ImportKind.ORGANIZATION, rows, crm_admin, mapping={"name": "Ragione sociale", "vat_number": "P.IVA"})
    (dup,) = result.rejected
    assert dup.reason == "P.IVA: Another organization already has this VAT number."
    # A field the file does not map (a default value) is named by its label, never by its code name.
    result = run(
        ImportKind.ORGANIZATION, [["Ragione sociale"], ["Tre srl"]], crm_admin, mapping={"name": "Ragione sociale"}
    )
    assert result.outcomes[0].action == "created"


def test_preview_button_counts_only_importable_rows(client, crm_admin):
    rows = [["Ragione sociale", "P.IVA"], ["Uno srl", valid_partita_iva(1)], ["Due srl", "123"], ["Tre srl", ""]]
    job = import_job_create(
        user=crm_admin, kind=ImportKind.ORGANIZATION, file=SimpleUploadedFile("orgs.csv", csv_bytes(rows))
    )
    import_job_set_mapping(job=job, mapping={"name": "Ragione sociale", "vat_number": "P.IVA"})
    client.force_login(crm_admin)
    html = client.get(reverse("imports:preview", args=[job.pk])).content.decode()
    assert "Import 2 rows" in html
    assert "Import 3 rows" not in html
    assert "vat_number" not in html
