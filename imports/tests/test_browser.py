"""Import in the real browser: upload, map, preview, run, and watch the progress bar finish."""

import pytest

from contacts.models import Organization
from crm.celery import app
from imports.models import ImportJob
from imports.services import import_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_upload_map_preview_run_and_watch_the_progress(page, live_server, login, crm_admin, screenshot, tmp_path):
    lines = ["Ragione sociale;Città;Dipendenti"] + [f"Azienda {n} srl;Bologna;{n}" for n in range(40)]
    lines += ["AZIENDA  1 SRL;Modena;7", "Senza dipendenti srl;Parma;molti"]
    path = tmp_path / "aziende.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # The page must poll a job that a worker runs: no inline run here, the test plays the worker.
    app.conf.task_always_eager = False

    login(page, crm_admin)
    page.click("text=Organizations")
    page.click("main a:has-text('Import')")
    assert page.locator("#id_kind").input_value() == "organization"
    page.set_input_files("#id_file", str(path))
    page.click("button:has-text('Upload and map columns')")

    assert page.locator("#id_name").input_value() == "Ragione sociale"
    assert page.locator("#id_city").input_value() == "Città"
    assert page.locator("#id_employees").input_value() == "Dipendenti"
    screenshot(page, "import-mapping")
    page.click("button:has-text('Preview')")

    assert page.locator("[data-count=created]").inner_text() == "40"
    assert page.locator("[data-count=updated]").inner_text() == "1"
    assert page.locator("[data-count=rejected]").inner_text() == "1"
    assert "Dipendenti: molti is not a number." in page.locator("#rejected-rows").inner_text()
    screenshot(page, "import-preview")
    assert not Organization.objects.exists()
    page.click("[data-testid=import-run]")  # counts only the rows that will be imported

    page.wait_for_selector("#import-progress[data-status=queued]")
    assert page.locator("[data-progress-label]").inner_text() == "0 %"
    screenshot(page, "import-queued")
    job = ImportJob.objects.get()
    import_run(job_id=job.pk)  # the worker

    # The page notices on its own (htmx polling), without a reload.
    page.wait_for_selector("#import-progress[data-status=done]")
    bar = page.locator(".progress-bar")
    assert bar.get_attribute("data-progress") == "100"
    assert bar.evaluate("el => el.style.width") == "100%"
    assert page.locator("[data-progress-label]").inner_text() == "100 %"
    assert page.locator("#import-counts [data-count=created]").inner_text() == "40"
    assert page.locator("h1").inner_text() == "Import of organizations from aziende.csv"
    screenshot(page, "import-done")
    assert Organization.objects.count() == 40

    with page.expect_download() as download:
        page.click("text=Download the rejected rows with their reason")
    content = download.value.path().read_text(encoding="utf-8-sig")
    assert "Senza dipendenti srl" in content and "molti is not a number" in content
