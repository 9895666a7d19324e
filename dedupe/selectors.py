"""Reads for the duplicates page: likely groups among the records a user may see."""

from dataclasses import dataclass, field

from contacts.models import Contact, Organization

from .detection import SCORES, Candidate, name_key, person_key, phone_key, tax_id_key
from .models import MergeEvent

# The page looks at the most recently changed records a user may see, at most this many per kind,
# with one query per kind: the cost of the page does not grow with the size of the database.
SCAN_LIMIT = 5000
GROUP_LIMIT = 100

ORGANIZATION_SCAN_FIELDS = ("pk", "name", "vat_number", "fiscal_code")
CONTACT_SCAN_FIELDS = ("pk", "first_name", "last_name", "email", "phone", "mobile", "organization_id")


@dataclass
class DuplicateGroup:
    reason: str
    ids: list[int]
    records: list = field(default_factory=list)

    @property
    def score(self) -> int:
        return SCORES[self.reason]

    @property
    def reason_label(self) -> str:
        return Candidate(None, self.reason).reason_label


def _group(rows, keyers) -> list[DuplicateGroup]:
    """Records sharing a key, strongest rule first; a record joins only its strongest group."""
    taken: set[int] = set()
    groups: list[DuplicateGroup] = []
    for reason, keyer in keyers:
        buckets: dict[str, list[int]] = {}
        for row in rows:
            for key in keyer(row):
                if key:
                    buckets.setdefault(key, []).append(row["pk"])
        for ids in buckets.values():
            ids = sorted(set(ids) - taken)
            if len(ids) > 1:
                taken.update(ids)
                groups.append(DuplicateGroup(reason, ids))
    return groups


def duplicate_groups(*, user, kind: str) -> list[DuplicateGroup]:
    """Likely duplicate groups of ``kind`` ("organization" or "contact") among the active records
    ``user`` may see, best score first, each with its records loaded (two queries in all)."""
    if kind == "organization":
        model = Organization
        rows = list(
            Organization.objects.visible_to(user)
            .active()
            .order_by("-updated_at", "-pk")
            .values(*ORGANIZATION_SCAN_FIELDS)[:SCAN_LIMIT]
        )
        keyers = [
            ("tax_id", lambda r: {tax_id_key(r["vat_number"]), tax_id_key(r["fiscal_code"])}),
            ("name", lambda r: {name_key(r["name"])}),
        ]
    else:
        model = Contact
        rows = list(
            Contact.objects.visible_to(user)
            .active()
            .order_by("-updated_at", "-pk")
            .values(*CONTACT_SCAN_FIELDS)[:SCAN_LIMIT]
        )
        keyers = [
            ("email", lambda r: {r["email"].strip().lower()}),
            ("phone", lambda r: {phone_key(r["phone"]), phone_key(r["mobile"])}),
            (
                "name_in_organization",
                lambda r: (
                    {f"{r['organization_id']}|{person_key(r['first_name'], r['last_name'])}"}
                    if r["organization_id"]
                    else set()
                ),
            ),
        ]
    groups = sorted(_group(rows, keyers), key=lambda g: (-g.score, g.ids[0]))[:GROUP_LIMIT]
    wanted = {pk for g in groups for pk in g.ids}
    related = ("organization", "owner") if kind == "contact" else ("owner",)
    by_pk = model.objects.select_related(*related).in_bulk(wanted)
    for g in groups:
        g.records = [by_pk[pk] for pk in g.ids if pk in by_pk]
    return groups


def merge_history(*, kind: str, record_id: int):
    """The merges into this record, newest first (its timeline), with who merged."""
    return MergeEvent.objects.filter(kind=kind, survivor_id=record_id).select_related("merged_by")[:20]
