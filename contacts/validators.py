"""Validation of Italian (and EU) business identifiers with python-stdnum."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.it import codicefiscale, iva


def vat_number_canonical(value: str) -> str:
    """The one form a VAT number is stored in, so that the same company cannot be recorded twice
    under two spellings: an Italian partita IVA as its 11 digits ("IT 765.432.101-57" and
    "IT76543210157" are "76543210157"), another EU number with its country prefix, upper case,
    without spaces, dots or dashes. A value that is no VAT number is returned compact, for the
    validator to refuse."""
    compact = "".join(value.split()).replace(".", "").replace("-", "").upper()
    if compact.startswith("IT") and compact[2:].isdigit():
        return compact[2:]
    return compact


def validate_vat_number(value: str) -> None:
    """An 11-digit partita IVA (``IT`` prefix optional) or an EU VAT number with its prefix."""
    compact = value.replace(" ", "").upper()
    if compact.startswith("IT"):
        compact = compact[2:]
    if compact.isdigit():
        if not iva.is_valid(compact):
            raise ValidationError(
                _("%(value)s is not a valid Italian VAT number (partita IVA): check the 11 digits."),
                params={"value": value},
                code="invalid_vat",
            )
        return
    try:
        eu_vat.validate(value)
    except StdnumError:
        raise ValidationError(
            _("%(value)s is not a valid VAT number: use 11 digits or an EU country prefix (DE…, FR…)."),
            params={"value": value},
            code="invalid_vat",
        ) from None


def validate_fiscal_code(value: str) -> None:
    """A codice fiscale: 16 characters for a person, or 11 digits for a company."""
    compact = value.replace(" ", "").upper()
    valid = iva.is_valid(compact) if compact.isdigit() else codicefiscale.is_valid(compact)
    if not valid:
        raise ValidationError(
            _("%(value)s is not a valid Italian fiscal code (codice fiscale)."),
            params={"value": value},
            code="invalid_fiscal_code",
        )


_SDI_CODE = re.compile(r"[A-Z0-9]{7}")


def validate_sdi_code(value: str) -> None:
    """The SDI recipient code (codice destinatario) of e-invoicing: 7 letters or digits."""
    if not _SDI_CODE.fullmatch(value.replace(" ", "").upper()):
        raise ValidationError(
            _("%(value)s is not an SDI recipient code: it has 7 letters or digits (0000000 if none)."),
            params={"value": value},
            code="invalid_sdi_code",
        )
