"""Which records a bulk action reaches: the records ``user`` may see (``visible_to``), active, narrowed
by the list's own FilterSet (the same query string the list page was showing) or by chosen ids."""

from types import SimpleNamespace

from django.http import QueryDict
from django.utils.translation import gettext as _

from accounts.permissions import assignable_owners
from contacts.filters import ContactFilter, OrganizationFilter
from contacts.models import Contact, Organization
from core.exceptions import ValidationError
from opportunities.filters import OpportunityFilter
from opportunities.models import LeadSource, Opportunity, OpportunityType
from pipeline.models import LostReason, Stage

from .models import BulkJob, BulkKind

MODELS = {BulkKind.DEAL: Opportunity, BulkKind.ORGANIZATION: Organization, BulkKind.CONTACT: Contact}
FILTERS = {BulkKind.DEAL: OpportunityFilter, BulkKind.ORGANIZATION: OrganizationFilter, BulkKind.CONTACT: ContactFilter}
# Query-string keys that choose a page or a download, not records.
NOT_FILTERS = ("page", "export", "per_page", "view")


def bulk_model(kind: str):
    return MODELS[BulkKind(kind)]


def bulk_queryset(*, user, kind: str, query: str | None = None, ids=None):
    """The active records of ``kind`` that ``user`` may see, matching ``query`` (a list's query
    string) and, when given, among ``ids``. A filter the list would refuse is a ValidationError
    naming it."""
    kind = BulkKind(kind)
    qs = MODELS[kind].objects.visible_to(user).filter(archived_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    if query:
        params = QueryDict(query, mutable=True)
        for key in NOT_FILTERS:
            params.pop(key, None)
        if params.get("archived") == "1":
            raise ValidationError({"query": _("Bulk actions work on active records only.")})
        filterset = FILTERS[kind](params, queryset=qs, request=SimpleNamespace(user=user))
        if not filterset.is_valid():
            raise ValidationError({f"query.{name}": errors for name, errors in filterset.errors.items()})
        qs = filterset.qs
    return qs.order_by()


def bulk_record_ids(*, user, kind: str, query: str | None = None, ids=None) -> list[int]:
    """The ids of :func:`bulk_queryset`, in id order: what a job walks through."""
    return sorted(bulk_queryset(user=user, kind=kind, query=query, ids=ids).values_list("pk", flat=True))


def bulk_job_get(*, user, pk: int) -> BulkJob:
    """One of ``user``'s own jobs; DoesNotExist otherwise."""
    return BulkJob.objects.get(user=user, pk=pk)


def bulk_choices(*, user, action: str) -> dict:
    """What the confirmation form of ``action`` offers: the owners ``user`` may assign, the stages
    (by pipeline) and the active lost reasons, the fields one may set."""
    if action == "owner":
        return {"owners": assignable_owners(user).order_by("first_name", "last_name", "username")}
    if action == "stage":
        return {
            "stages": Stage.objects.select_related("pipeline").order_by("pipeline__name", "order"),
            "lost_reasons": LostReason.objects.filter(active=True),
        }
    if action == "field":
        return {"types": OpportunityType.choices, "lead_sources": LeadSource.choices}
    return {}
