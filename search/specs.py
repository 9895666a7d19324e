"""What the search looks at, per model. The indexes of ``migrations/0002`` are built from these
same expressions, so a query and its index cannot drift apart (a change here needs a migration
that rebuilds the index)."""

from .text import Spec, full_name

OPPORTUNITY = Spec(texts=["name"])
ORGANIZATION = Spec(texts=["name"], keys=["vat_number", "email", "phone"])
CONTACT = Spec(texts=[full_name], keys=["email", "phone", "mobile"])
ACTIVITY = Spec(texts=["subject"])
QUOTE = Spec(texts=["title"])
PRODUCT = Spec(texts=["name"], keys=["code"])
DOCUMENT = Spec(texts=["original_name"])

# (app_label, model_name) → spec, for the index migration.
BY_MODEL = {
    ("opportunities", "opportunity"): OPPORTUNITY,
    ("contacts", "organization"): ORGANIZATION,
    ("contacts", "contact"): CONTACT,
    ("activities", "activity"): ACTIVITY,
    ("quotes", "quote"): QUOTE,
    ("products", "product"): PRODUCT,
    ("documents", "document"): DOCUMENT,
}
