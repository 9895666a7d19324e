"""Scenarios of the records around a deal: the calendar, the iCal feed, "my activities" and a
quote's PDF (each reads deals, so the runner explains their plans)."""

from decimal import Decimal

from django.urls import reverse

from . import BenchContext

BUDGETS = {
    # user (session cached), teams, activities, close dates, next steps, feed token, nav: not the entries.
    "calendar_month_html": 9,
    "activities_mine_html": 5,
    # user (session cached), quote (+ joins), lines, customer.
    "quote_pdf": 8,
    "ical_feed": 6,
}


def scenarios(ctx: BenchContext):
    from activities.services import calendar_feed_token_get_or_create
    from opportunities.models import Opportunity
    from quotes.services import quote_create, quote_line_add

    quote = ctx.state.get("records_quote")
    if quote is None:
        opp = Opportunity.objects.get(pk=ctx.opportunity_ids[0])
        quote = quote_create(user=ctx.user, opportunity=opp, copy_lines=False, title="Bench – preventivo")
        for n, rate in enumerate(["22.00", "10.00", "4.00"]):
            quote_line_add(
                quote=quote,
                user=ctx.user,
                description=f"Riga {n + 1} – servizio è “speciale” & <co>",
                quantity=Decimal(n + 1),
                unit_price=Decimal("123.45"),
                vat_rate=Decimal(rate),
            )
        ctx.state["records_quote"] = quote
    token = calendar_feed_token_get_or_create(user=ctx.user).token
    urls = {
        "calendar_month_html": reverse("calendar:month"),
        "activities_mine_html": reverse("activities:mine"),
        "quote_pdf": reverse("quotes:pdf", args=[quote.pk]),
        "ical_feed": reverse("calendar:feed", args=[token]),
    }

    def page(name):
        def get():
            response = ctx.client.get(urls[name])
            assert response.status_code == 200, (name, response.status_code)
            return response

        return get

    return [(name, page(name)) for name in urls]
