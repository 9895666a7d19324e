"""Seeded pipelines, stages and lost reasons are shown in the user's language; typed names as typed."""

import pytest
from django.utils import translation

from opportunities.models import OpportunityType
from pipeline.models import LostReason, Pipeline, Stage
from pipeline.stage_names import SEEDED_NAMES

ITALIAN_STAGES = {
    "Sales pipeline": [
        "Nuova",
        "In fase di verifica",
        "Demo programmata",
        "In attesa di impegno",
        "Trattativa in corso",
        "Ottenuta",
        "Persa",
    ],
    "Classic pipeline": [
        "In prospettiva",
        "Proposto il valore",
        "Inviato preventivo",
        "Rinegoziazione",
        "Chiuso vinto",
        "Chiuso perso",
    ],
}


@pytest.mark.django_db
def test_seeded_stages_carry_their_italian_names(pipeline):
    with translation.override("it"):
        for name, italian in ITALIAN_STAGES.items():
            seeded = Pipeline.objects.get(name=name)
            assert [stage.display_name for stage in seeded.stages.all()] == italian
            assert [str(stage) for stage in seeded.stages.all()] == italian
        assert str(Pipeline.objects.get(name="Sales pipeline")) == "Pipeline di vendita"
        assert str(LostReason.objects.get(name="Price")) == "Prezzo"
    with translation.override("en"):
        assert [s.display_name for s in pipeline.stages.all()][:3] == ["New", "Qualifying", "Demo scheduled"]


@pytest.mark.django_db
def test_every_seeded_name_is_in_the_table(pipeline):
    names = {*Pipeline.objects.values_list("name", flat=True), *Stage.objects.values_list("name", flat=True)}
    names |= set(LostReason.objects.values_list("name", flat=True))
    assert names <= set(SEEDED_NAMES)


@pytest.mark.django_db
def test_a_stage_typed_by_a_user_keeps_its_name_even_if_it_is_an_english_seeded_word(pipeline):
    custom = Pipeline.objects.create(name="Rinnovi")
    typed = Stage.objects.create(pipeline=custom, name="Won", order=1, kind="won", probability=100)
    other = Stage.objects.create(pipeline=pipeline, name="Sopralluogo", order=98, probability=40)
    with translation.override("it"):
        assert typed.display_name == "Won"
        assert str(custom) == "Rinnovi"
        assert other.display_name == "Sopralluogo"


def test_deal_type_choices_in_italian():
    with translation.override("it"):
        assert dict(OpportunityType.choices) == {
            "new_business": "Nuovo business",
            "existing_business": "Business esistente",
        }
