"""The related kinds that exist today, registered from PrivacyConfig.ready()."""

from django.core.files.base import ContentFile

from .registry import RelatedKind, register


def _deal_audit_rows(target, record):
    from opportunities.models import OpportunityChange

    field = "opportunity__contact" if target == "contact" else "opportunity__organization"
    return OpportunityChange.objects.filter(**{field: record})


def _stage_change_rows(target, record):
    from pipeline.models import StageChange

    field = "opportunity__contact" if target == "contact" else "opportunity__organization"
    return StageChange.objects.filter(**{field: record})


def _quote_line_rows(target, record):
    from quotes.models import QuoteLine

    return QuoteLine.objects.filter(**{f"quote__{target}": record})


def _consent_rows(target, record):
    from .models import Consent

    if target != "contact":
        return Consent.objects.none()
    return Consent.objects.filter(contact=record)


def _erase_document_files(queryset, terms):
    """A document attached to the person is about them: its file is replaced by a placeholder."""
    for doc in queryset.filter(contact__isnull=False):
        if doc.file:
            name = doc.file.name
            doc.file.storage.delete(name)
            doc.file.save("erased.txt", ContentFile(b"[erased]\n"), save=False)
        doc.original_name = "erased.txt"
        doc.content_type = "text/plain"
        doc.size = len(b"[erased]\n")
        doc.description = ""
        doc.save(update_fields=["file", "original_name", "content_type", "size", "description"])


def register_existing_kinds() -> None:
    register(RelatedKind("contacts", "contacts.Contact", organization_field="organization"))
    register(RelatedKind("subsidiaries", "contacts.Organization", organization_field="parent"))
    register(
        RelatedKind(
            "deals",
            "opportunities.Opportunity",
            "contact",
            "organization",
            personal_text_fields=("name", "description"),
        )
    )
    register(
        RelatedKind(
            "deal_history",
            "opportunities.OpportunityChange",
            rows=_deal_audit_rows,
            movable=False,
            personal_text_fields=("old_value", "new_value"),
        )
    )
    register(RelatedKind("stage_history", "pipeline.StageChange", rows=_stage_change_rows, movable=False))
    register(RelatedKind("quotes", "quotes.Quote", "contact", "organization"))
    register(RelatedKind("quote_lines", "quotes.QuoteLine", rows=_quote_line_rows, movable=False))
    register(RelatedKind("documents", "documents.Document", "contact", "organization", erase=_erase_document_files))
    register(
        RelatedKind(
            "activities", "activities.Activity", "contact", "organization", personal_text_fields=("subject", "notes")
        )
    )
    register(RelatedKind("consents", "privacy.Consent", rows=_consent_rows, movable=False))
