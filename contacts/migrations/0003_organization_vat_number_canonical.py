"""Store every VAT number in its one canonical form (``contacts.validators.vat_number_canonical``):
"IT76543210157" and "76543210157" were two spellings of the same partita IVA, which the unique
constraint could not see as duplicates. A row whose canonical form another organization already
holds keeps its spelling (the first one, by id, gets the canonical form) and is listed, for a
person to merge the two records."""

from django.db import migrations


def canonical(value: str) -> str:
    # A copy of contacts.validators.vat_number_canonical as it was when this migration was written.
    compact = "".join(value.split()).replace(".", "").replace("-", "").upper()
    if compact.startswith("IT") and compact[2:].isdigit():
        return compact[2:]
    return compact


def normalise(apps, schema_editor):
    Organization = apps.get_model("contacts", "Organization")
    rows = list(Organization.objects.exclude(vat_number="").order_by("pk").values_list("pk", "vat_number"))
    taken = {value for _pk, value in rows}
    for pk, value in rows:
        target = canonical(value)
        if target == value:
            continue
        if target in taken:
            print(f"\n  organization {pk}: VAT number {value!r} left as is, {target!r} belongs to another one")
            continue
        Organization.objects.filter(pk=pk).update(vat_number=target)
        taken.discard(value)
        taken.add(target)


class Migration(migrations.Migration):
    dependencies = [("contacts", "0002_organization_sdi_code_and_pec")]

    operations = [migrations.RunPython(normalise, migrations.RunPython.noop)]
