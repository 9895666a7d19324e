"""Natural keys: names that differ only by case or spacing are the same record."""

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def name_key(value: str | None) -> str:
    """``"  ACME  spa "`` and ``"Acme SPA"`` give the same key."""
    value = unicodedata.normalize("NFKC", value or "")
    return _SPACES.sub(" ", value).strip().casefold()


def compact_key(value: str | None) -> str:
    """Like :func:`name_key` but ignoring spaces altogether: ``"GTXPro"`` is ``"GTX Pro"``."""
    return name_key(value).replace(" ", "")


def header_key(value: str | None) -> str:
    """A column header reduced to letters and digits: ``"E-mail "`` → ``"email"``."""
    value = unicodedata.normalize("NFKD", value or "")
    value = "".join(ch for ch in value if not unicodedata.combining(ch))
    return re.sub(r"[^0-9a-z]+", "", value.casefold())
