from django import template

from ..selectors.targets import targets_home

register = template.Library()


@register.inclusion_tag("analytics/_home_targets.html", takes_context=True)
def targets_attainment(context):
    """The attainment of the reader's targets (and, for a manager, their teams') this month and
    quarter, for the home page. Two or three queries; nothing when there is no target."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"targets": None}
    return {"targets": targets_home(user=user), "request": request}
