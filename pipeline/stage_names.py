"""Translations of the names seeded by ``pipeline/migrations/0002_seed_pipelines.py``.

Seeded pipelines, stages and lost reasons are stored with their English names (what fixtures,
imports and the API match on) and *shown* in the user's language through this table. The Italian
names follow the Italian user interfaces of Brevo (Sales pipeline) and Vtiger (Classic pipeline).
A name typed by a user (a new stage, or a seeded one renamed) is not in the table and is shown as
typed. Templates, serializers and exports use ``display_name`` (or ``str()``), never ``name``.

The context "seeded name" keeps these apart from the same English words used elsewhere ("Won" as
a stage is "Ottenuta", as a deal status "Vinta").
"""

from django.utils.translation import pgettext_lazy

CONTEXT = "seeded name"

SEEDED_NAMES = {
    # Pipelines
    "Sales pipeline": pgettext_lazy("seeded name", "Sales pipeline"),
    "Classic pipeline": pgettext_lazy("seeded name", "Classic pipeline"),
    # Sales pipeline (Brevo)
    "New": pgettext_lazy("seeded name", "New"),
    "Qualifying": pgettext_lazy("seeded name", "Qualifying"),
    "Demo scheduled": pgettext_lazy("seeded name", "Demo scheduled"),
    "Pending commitment": pgettext_lazy("seeded name", "Pending commitment"),
    "In negotiation": pgettext_lazy("seeded name", "In negotiation"),
    "Won": pgettext_lazy("seeded name", "Won"),
    "Lost": pgettext_lazy("seeded name", "Lost"),
    # Classic pipeline (Vtiger)
    "Prospecting": pgettext_lazy("seeded name", "Prospecting"),
    "Value proposition": pgettext_lazy("seeded name", "Value proposition"),
    "Quote sent": pgettext_lazy("seeded name", "Quote sent"),
    "Renegotiation": pgettext_lazy("seeded name", "Renegotiation"),
    "Closed won": pgettext_lazy("seeded name", "Closed won"),
    "Closed lost": pgettext_lazy("seeded name", "Closed lost"),
    # Lost reasons
    "Price": pgettext_lazy("seeded name", "Price"),
    "Missing feature": pgettext_lazy("seeded name", "Missing feature"),
    "No budget": pgettext_lazy("seeded name", "No budget"),
    "Chose a competitor": pgettext_lazy("seeded name", "Chose a competitor"),
    "No response": pgettext_lazy("seeded name", "No response"),
    "Other": pgettext_lazy("seeded name", "Other"),
}


def seeded_display_name(name: str, *, is_system: bool) -> str:
    """The name in the active language for a seeded record; a name typed by a user, as typed."""
    if is_system and name in SEEDED_NAMES:
        return str(SEEDED_NAMES[name])
    return name
