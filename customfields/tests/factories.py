import factory

from customfields.models import CustomField


class CustomFieldFactory(factory.django.DjangoModelFactory):
    """A definition written straight to the table (the services are tested on their own)."""

    class Meta:
        model = CustomField

    entity = "deal"
    key = factory.Sequence(lambda n: f"field_{n}")
    label_it = factory.LazyAttribute(lambda o: o.key.replace("_", " ").capitalize())
    label_en = factory.LazyAttribute(lambda o: o.key.replace("_", " ").capitalize())
    type = "text"


def settore(**kwargs) -> CustomField:
    """The single-choice field most tests use: Settore, with three sectors."""
    return CustomFieldFactory(
        key="settore",
        label_it="Settore",
        label_en="Sector",
        type="choice",
        choices=[
            {"key": "manifattura", "label_it": "Manifattura", "label_en": "Manufacturing", "removed": False},
            {"key": "servizi", "label_it": "Servizi", "label_en": "Services", "removed": False},
            {"key": "pa", "label_it": "Pubblica amministrazione", "label_en": "Public sector", "removed": False},
        ],
        **kwargs,
    )
