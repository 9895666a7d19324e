"""Scenarios of import and export: the dry-run preview of a 200-row spreadsheet (what a user waits
for before running an import) and a filtered deal export (every page, streamed)."""

import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse


def _spreadsheet(rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["Ragione sociale", "Città", "Dipendenti", "Fatturato"])
    for n in range(rows):
        writer.writerow([f"Bench import {n} srl", "Bologna", n, f"{n * 1000},50"])
    return out.getvalue().encode()


def scenarios(ctx):
    from imports.services import import_job_create

    job = import_job_create(user=ctx.user, kind="organization", file=SimpleUploadedFile("bench.csv", _spreadsheet(200)))
    preview_url = reverse("imports:preview", args=[job.pk])
    export_url = reverse("opportunities:list")
    stage = ctx.pipeline.stages.order_by("order").first()

    def import_preview_200_rows():
        response = ctx.client.get(preview_url)
        assert response.status_code == 200, response.status_code
        assert b'data-count="created">200<' in response.content
        return response

    def deals_export_csv_one_stage():
        response = ctx.client.get(export_url, {"stage": stage.pk, "export": "csv"})
        assert response.status_code == 200, response.status_code
        b"".join(response.streaming_content)
        return response

    return [
        ("import_preview_200_rows", import_preview_200_rows),
        ("deals_export_csv_one_stage", deals_export_csv_one_stage),
    ]
