import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contacts.models import Organization
from imports.models import ImportJob

CSV = "Ragione sociale;Partita IVA;Città;Dipendenti\nAlfa srl;;Milano;3\nBeta srl;;Roma;tre\nALFA  SRL;;Torino;4\n"


@pytest.fixture
def client_admin(client, crm_admin):
    client.force_login(crm_admin)
    return client


def upload(client, text=CSV, name="aziende.csv", kind="organization"):
    return client.post(reverse("imports:start"), {"kind": kind, "file": SimpleUploadedFile(name, text.encode("utf-8"))})


@pytest.mark.django_db
def test_upload_map_preview_run_and_download_the_rejected_rows(client_admin, django_capture_on_commit_callbacks):
    response = upload(client_admin)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == job.get_absolute_url()

    page = client_admin.get(job.get_absolute_url())
    assert page.status_code == 200
    html = page.content.decode()
    assert '<option value="Ragione sociale" selected>' in html and '<option value="Città" selected>' in html

    mapping = {"name": "Ragione sociale", "city": "Città", "employees": "Dipendenti"}
    response = client_admin.post(job.get_absolute_url(), mapping)
    assert response.status_code == 302 and response.url == reverse("imports:preview", args=[job.pk])

    preview = client_admin.get(response.url).content.decode()
    assert 'data-count="created">1<' in preview and 'data-count="updated">1<' in preview
    assert "<strong>Dipendenti</strong>: tre is not a number." in preview
    assert not Organization.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client_admin.post(reverse("imports:run", args=[job.pk]))
    assert response.status_code == 302
    result = client_admin.get(job.get_absolute_url()).content.decode()
    assert 'data-progress="100"' in result and 'data-count="rejected">1' in result
    assert Organization.objects.get().city == "Torino"

    download = client_admin.get(reverse("imports:rejected", args=[job.pk]))
    body = b"".join(download.streaming_content).decode("utf-8-sig")
    assert "Beta srl" in body and "tre is not a number" in body and "Alfa" not in body


@pytest.mark.django_db
def test_mapping_without_the_required_column_is_refused_on_the_field(client_admin):
    upload(client_admin)
    job = ImportJob.objects.get()
    response = client_admin.post(job.get_absolute_url(), {"city": "Città"})
    assert response.status_code == 200
    assert "Choose the column that holds the name." in response.content.decode()


@pytest.mark.django_db
def test_a_file_that_is_not_a_spreadsheet_gets_a_form_error(client_admin):
    response = upload(client_admin, text="hello", name="notes.pdf")
    assert response.status_code == 200 and "Upload a .csv or .xlsx file." in response.content.decode()
    response = client_admin.post(
        reverse("imports:start"), {"kind": "product", "file": SimpleUploadedFile("x.xlsx", b"not a zip")}
    )
    assert "not a readable Excel" in response.content.decode()
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_progress_partial_polls_until_done_with_fixed_queries(client_admin, django_assert_num_queries):
    upload(client_admin)
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(status="running", processed_rows=1, total_rows=3)
    with django_assert_num_queries(1):  # the job (the session and the user are cached)
        partial = client_admin.get(reverse("imports:progress", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in partial and 'data-progress="33"' in partial
    ImportJob.objects.filter(pk=job.pk).update(status="done", processed_rows=3)
    partial = client_admin.get(reverse("imports:progress", args=[job.pk])).content.decode()
    assert "hx-trigger" not in partial and 'data-progress="100"' in partial


@pytest.mark.django_db
def test_someone_elses_import_is_404(client, crm_admin, rep):
    client.force_login(crm_admin)
    upload(client)
    job = ImportJob.objects.get()
    client.force_login(rep)
    for name in ("detail", "preview", "progress", "rejected"):
        assert client.get(reverse(f"imports:{name}", args=[job.pk])).status_code == 404
    assert client.post(reverse("imports:run", args=[job.pk])).status_code == 404


@pytest.mark.django_db
def test_lists_link_to_the_import_with_their_kind(client_admin):
    for url, kind in [
        ("contacts:organization_list", "organization"),
        ("contacts:contact_list", "contact"),
        ("opportunities:list", "opportunity"),
    ]:
        assert f"?kind={kind}" in client_admin.get(reverse(url)).content.decode()
    page = client_admin.get(reverse("imports:start") + "?kind=contact").content.decode()
    assert '<option value="contact" selected>' in page


@pytest.mark.django_db
def test_a_too_large_file_is_refused_on_the_field(client_admin, monkeypatch):
    monkeypatch.setattr("imports.forms.MAX_UPLOAD_BYTES", 10)
    response = upload(client_admin)
    assert "The file is larger than" in response.content.decode()
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_preview_of_a_long_file_checks_its_first_rows_and_says_so(client_admin, monkeypatch):
    monkeypatch.setattr("imports.services.PREVIEW_LIMIT", 2)
    upload(client_admin)
    job = ImportJob.objects.get()
    page = client_admin.get(reverse("imports:preview", args=[job.pk])).content.decode()
    # Beta's "tre" employees is rejected: the button counts the other two (the third not checked yet).
    assert "A dry run of the first 2 of 3 rows" in page and "Import 2 rows" in page


@pytest.mark.django_db
def test_deals_without_a_pipeline_column_go_to_the_pipeline_chosen_on_the_mapping_page(
    client_admin, classic_stages, django_capture_on_commit_callbacks
):
    upload(client_admin, text="Deal,Customer,Stage\nRouter,Rossi srl,Quote sent\n", name="d.csv", kind="opportunity")
    job = ImportJob.objects.get()
    assert 'name="default_pipeline"' in client_admin.get(job.get_absolute_url()).content.decode()
    mapping = {"name": "Deal", "organization": "Customer", "stage": "Stage", "default_pipeline": "Classic pipeline"}
    client_admin.post(job.get_absolute_url(), mapping)
    preview = client_admin.get(reverse("imports:preview", args=[job.pk])).content.decode()
    assert 'data-count="created">1<' in preview
    with django_capture_on_commit_callbacks(execute=True):
        client_admin.post(reverse("imports:run", args=[job.pk]))
    from opportunities.models import Opportunity

    assert Opportunity.objects.get().stage == classic_stages["Quote sent"]
