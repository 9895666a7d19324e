import datetime

import factory
from django.utils import timezone

from accounts.tests.factories import UserFactory
from activities.models import Activity


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    subject = factory.Sequence(lambda n: f"Chiamata {n}")
    kind = Activity.Kind.CALL
    owner = factory.SubFactory(UserFactory)
    due_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=1))
    duration_minutes = 30
