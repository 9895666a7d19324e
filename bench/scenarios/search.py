"""The global search (issue 21): the navigation bar's suggestions and the API's ``?search=`` over
the generated data set (deals "Bench deal 0000042", organizations "Bench Company 0000042 S.r.l.",
contacts "Nome42 Cognome42", contact42@bench.example). Target at 1M deals / 200k contacts on PostgreSQL: p50 ≤ 50 ms."""

from urllib.parse import urlencode

from django.urls import reverse

from . import BenchContext

BUDGETS = {
    # user (session cached), then one query per kind of record (7).
    "search_suggest_name": 9,
    "search_suggest_typo": 9,
    "search_suggest_common_word": 9,
    "search_suggest_email": 9,
    "search_page_html": 9,
    # user, count, page (the API's usual three, plus the token/session).
    "api_deals_search": 6,
}


def scenarios(ctx: BenchContext):
    n = 42
    queries = {
        "search_suggest_name": f"bench company {n:07d}",
        "search_suggest_typo": f"bench compnay {n:07d}",
        "search_suggest_common_word": "company",  # matches every organization: the candidate cap answers
        "search_suggest_email": f"Contact{n}@Bench.Example",
    }

    def get(url, expected=200):
        def call():
            response = ctx.client.get(url)
            assert response.status_code == expected, (url, response.status_code)
            return response

        return call

    found = [(name, get(f"{reverse('search:suggest')}?{urlencode({'q': q})}")) for name, q in queries.items()]
    found.append(("search_page_html", get(f"{reverse('search:page')}?{urlencode({'q': 'bench company 0000042'})}")))
    found.append(
        (
            "api_deals_search",
            get(f"/api/v1/opportunities/?{urlencode({'search': 'bench deal 0000042', 'page_size': 25})}"),
        )
    )
    return found
