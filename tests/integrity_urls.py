"""The CRM's URLs plus one view that trips a real unique constraint outside any form (for
tests/test_integrity_errors.py)."""

from django.db import transaction
from django.urls import include, path


def team_create_twice(request):
    from accounts.models import Team

    with transaction.atomic():
        Team.objects.create(name="Doppione")
    with transaction.atomic():
        Team.objects.create(name="Doppione")  # the database refuses the second one


urlpatterns = [
    path("test/team-twice/", team_create_twice),
    path("", include("crm.urls")),
]
