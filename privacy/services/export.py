import csv
import io
import json
import zipfile

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from ..registry import related_kinds


def _row(obj) -> dict:
    out = {}
    for field in obj._meta.concrete_fields:
        value = getattr(obj, field.attname)
        if hasattr(value, "name") and field.get_internal_type() == "FileField":
            value = value.name or ""
        out[field.attname] = value
    return out


def _csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: json.dumps(v, cls=DjangoJSONEncoder) if isinstance(v, dict | list) else v for k, v in row.items()}
            )
    return buffer.getvalue()


def contact_export(*, user, contact) -> tuple[bytes, dict[str, int]]:
    """Everything about ``contact`` as one zip (access and portability): for the contact and every
    registered related kind (deals, their history, quotes, activities, documents with their files,
    consents… and the kinds other features register) a JSON and a CSV file; ``manifest.json``
    counts the rows. The caller checks that ``user`` may see the contact.

    Returns the archive's bytes and the rows per kind."""
    buffer = io.BytesIO()
    counts: dict[str, int] = {}
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        me = _row(contact)
        me["organization_name"] = contact.organization.name if contact.organization_id else ""
        archive.writestr("contact.json", json.dumps(me, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False))
        archive.writestr("contact.csv", _csv([me]))
        counts["contact"] = 1
        for kind in related_kinds("contact"):
            objects = list(kind.rows_for("contact", contact).order_by("pk"))
            rows = [_row(obj) for obj in objects]
            counts[kind.name] = len(rows)
            archive.writestr(f"{kind.name}.json", json.dumps(rows, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False))
            archive.writestr(f"{kind.name}.csv", _csv(rows))
            for obj in objects:
                for field in obj._meta.concrete_fields:
                    if field.get_internal_type() == "FileField":
                        file = getattr(obj, field.attname)
                        if file and file.storage.exists(file.name):
                            with file.open("rb") as handle:
                                archive.writestr(
                                    f"files/{kind.name}/{obj.pk}/{file.name.rsplit('/', 1)[-1]}", handle.read()
                                )
        archive.writestr(
            "manifest.json",
            json.dumps(
                {"contact_id": contact.pk, "exported_at": timezone.now(), "exported_by": user.pk, "rows": counts},
                cls=DjangoJSONEncoder,
                indent=2,
            ),
        )
    return buffer.getvalue(), counts
