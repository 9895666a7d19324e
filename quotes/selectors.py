"""Every read of quotes that a page, the PDF or an export needs."""

from django.db.models import Prefetch

from .models import Quote, QuoteLine
from .vat import QuoteTotals, totals_of

LIST_RELATED = ("opportunity", "organization", "contact", "owner")


def quote_list(*, user, include_archived: bool = False):
    """Quotes ``user`` may see, newest number first. Quotes have no archive: ``include_archived`` is
    accepted for the shared list helper and lists nothing more."""
    from django.db.models import DateTimeField, Value

    return (
        Quote.objects.visible_to(user)
        .select_related(*LIST_RELATED)
        # The page's lines in one query, for each quote's total (``Quote.totals``).
        .prefetch_related(Prefetch("lines", queryset=QuoteLine.objects.order_by("position", "id")))
        .annotate(archived_at=Value(None, output_field=DateTimeField()))
    )


def quote_get(*, user, pk) -> Quote:
    """One quote ``user`` may see (raises Quote.DoesNotExist otherwise)."""
    return (
        Quote.objects.visible_to(user).select_related(*LIST_RELATED, "revision_of", "opportunity__pipeline").get(pk=pk)
    )


def quote_lines(*, quote: Quote):
    return quote.lines.select_related("product").order_by("position", "id")


def quote_line_list(*, user):
    """Lines of the quotes ``user`` may see, by quote and position."""
    visible = Quote.objects.visible_to(user).values("pk")
    return QuoteLine.objects.filter(quote__in=visible).select_related("product").order_by("quote_id", "position", "id")


def quote_totals(*, quote: Quote, lines=None) -> QuoteTotals:
    """Subtotal, VAT per rate and total: the one computation the page, the PDF and the list share."""
    return totals_of(lines if lines is not None else quote_lines(quote=quote))
