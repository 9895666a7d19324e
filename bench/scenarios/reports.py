"""Scenarios of the reports: the won/lost report by owner and by month (page and API), the funnel,
the forecast and the lost deals, as a manager opens them over every closed deal (all time) and
over the last 12 months."""

from django.urls import reverse

BUDGETS = {
    # user (session cached), the won/lost query itself (one), filter choices, nav: independent of deals.
    "reports_won_lost_owner_api": 6,
    "reports_won_lost_month_api": 6,
    "reports_won_lost_owner_12m_page": 14,
    "reports_funnel_12m_api": 8,
    "reports_forecast_api": 12,
    "reports_lost_deals_12m_api": 8,
}


def scenarios(ctx):
    api = reverse("reports-api:won_lost")
    page = reverse("reports:won_lost")

    def get(url, params, expect=b'"rows"'):
        def run():
            response = ctx.client.get(url, params)
            assert response.status_code == 200, (response.status_code, response.content[:300])
            if expect:
                assert expect in response.content
            return response

        return run

    return [
        ("reports_won_lost_owner_api", get(api, {"group_by": "owner"})),
        ("reports_won_lost_month_api", get(api, {"group_by": "month"})),
        (
            "reports_won_lost_owner_12m_page",
            get(page, {"group_by": "owner", "period": "last_12_months"}, b"won-lost-table"),
        ),
        ("reports_funnel_12m_api", get(reverse("reports-api:funnel"), {"period": "last_12_months"}, b'"steps"')),
        ("reports_forecast_api", get(reverse("reports-api:forecast"), {}, b'"months"')),
        (
            "reports_lost_deals_12m_api",
            get(reverse("reports-api:lost_deals"), {"period": "last_12_months"}, b'"by_reason"'),
        ),
    ]
