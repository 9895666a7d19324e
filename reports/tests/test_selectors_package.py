"""The selectors package keeps the doors the views, the API and the exports use."""

import inspect

import reports.selectors as selectors


def test_every_public_name_is_importable_and_every_report_selector_says_what_it_computes():
    for name in selectors.__all__:
        assert hasattr(selectors, name), name
    for name in ("won_lost_report", "funnel_report", "forecast_report", "lost_deals_report", "report_filter"):
        function = getattr(selectors, name)
        assert inspect.getdoc(function), f"{name} has no docstring"
        # One module per report: the selector lives in its own module, not in the package's __init__.
        assert function.__module__ != "reports.selectors", name
