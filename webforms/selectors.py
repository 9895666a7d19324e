"""Every read of the web forms pages and API."""

from django.db.models import Count, Q

from .models import Submission, WebForm


def webform_list(*, user):
    """The forms ``user`` manages, with their submissions counted by status."""
    return (
        WebForm.objects.visible_to(user)
        .select_related("pipeline", "stage", "assignee", "team")
        .annotate(
            accepted_count=Count("submissions", filter=Q(submissions__status=Submission.Status.ACCEPTED)),
            review_count=Count("submissions", filter=Q(submissions__status=Submission.Status.REVIEW)),
            rejected_count=Count("submissions", filter=Q(submissions__status=Submission.Status.REJECTED)),
        )
        .order_by("name", "pk")
    )


def webform_get(*, user, pk: int) -> WebForm:
    return WebForm.objects.visible_to(user).select_related("pipeline", "stage", "assignee", "team", "owner").get(pk=pk)


def webform_public_get(*, slug: str) -> WebForm:
    """The form a visitor opens: active ones only (others are a 404)."""
    return WebForm.objects.select_related("owner", "assignee", "pipeline", "stage").get(slug=slug, active=True)


def submission_list(*, user, form: int | None = None, status: str | None = None):
    """Submissions of the forms ``user`` manages, newest first."""
    rows = Submission.objects.filter(form__in=WebForm.objects.visible_to(user).values("pk")).select_related(
        "form", "assigned_to", "opportunity", "contact", "organization"
    )
    if form is not None:
        rows = rows.filter(form_id=form)
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("-created_at", "-pk")


def submission_get(*, user, pk: int) -> Submission:
    return submission_list(user=user).select_related("reviewed_by").get(pk=pk)
