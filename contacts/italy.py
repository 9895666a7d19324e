"""Italian addresses: the province codes (sigle) and the postal code (CAP) rules."""

import re

# The sigle of the Italian provinces and metropolitan cities (ISTAT), plus the four Sardinian
# codes abolished in 2016 and revived by the 2025 reform (CI, OG, OT, VS): addresses still use them.
_SIGLE = """
    AG AL AN AO AP AQ AR AT AV BA BG BI BL BN BO BR BS BT BZ CA CB CE CH CI CL CN CO CR CS CT CZ EN
    FC FE FG FI FM FR GE GO GR IM IS KR LC LE LI LO LT LU MB MC ME MI MN MO MS MT NA NO NU OG OR OT
    PA PC PD PE PG PI PN PO PR PT PU PV PZ RA RC RE RG RI RM RN RO SA SI SO SP SR SS SU SV TA TE TN
    TO TP TR TS TV UD VA VB VC VE VI VR VS VT VV
"""
PROVINCES = frozenset(_SIGLE.split())  # noqa: SIM905 (the table reads like the official list)

# How people write the country of an Italian address in this CRM (the field is free text).
ITALY_NAMES = frozenset({"it", "ita", "italia", "italy", "italie", "italien", "repubblica italiana"})

CAP = re.compile(r"\d{5}")


def is_italy(country: str) -> bool:
    return country.strip().casefold() in ITALY_NAMES


def is_province(code: str) -> bool:
    return code.strip().upper() in PROVINCES


def is_cap(postal_code: str) -> bool:
    return bool(CAP.fullmatch(postal_code.strip()))
