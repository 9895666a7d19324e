import factory

from pipeline.models import Pipeline
from webforms.models import WebForm, default_fields


class WebFormFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebForm

    name = factory.Sequence(lambda n: f"Contact us {n}")
    slug = factory.Sequence(lambda n: f"contact-{n}")
    pipeline = factory.LazyFunction(lambda: Pipeline.objects.get(is_default=True))
    fields = factory.LazyFunction(
        lambda: {
            **default_fields(),
            "vat_number": {"shown": True, "required": False},
            "phone": {"shown": True, "required": False},
        }
    )
    min_fill_seconds = 0
    assignment = WebForm.Assignment.FIXED
