"""Translation catalogs: compile them without GNU gettext, and check them.

A fresh machine has Python and make, not gettext, so the ``.mo`` files (generated, not in git) are
compiled with Babel by ``make install``/``run``/``test``/``web`` (``manage.py compilemessages_py``)
and by the test session itself. ``catalog_problems`` is what the completeness test and CI check.
"""

import os
import re
from dataclasses import dataclass
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings

# Python-format placeholders: %(name)s, %s, %d, %%.
PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc%]")


def po_files(locale: str | None = None, domain: str = "*") -> list[Path]:
    """Every ``<LOCALE_PATHS>/<locale>/LC_MESSAGES/<domain>.po``."""
    files = []
    for root in settings.LOCALE_PATHS:
        files.extend(sorted(Path(root).glob(f"{locale or '*'}/LC_MESSAGES/{domain}.po")))
    return files


def read_catalog(path: Path):
    with open(path, "rb") as handle:
        return read_po(handle, abort_invalid=True)


def compile_catalogs(*, force: bool = False) -> list[Path]:
    """Write a ``.mo`` next to each ``.po`` that is newer than it; returns the files written.

    Fuzzy entries are left out, as GNU msgfmt does: a guessed translation is never shown.
    """
    written = []
    for po_path in po_files():
        mo_path = po_path.with_suffix(".mo")
        if not force and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        catalog = read_catalog(po_path)
        tmp = mo_path.with_suffix(f".mo.{os.getpid()}.tmp")  # two test processes may compile at once
        with open(tmp, "wb") as handle:
            write_mo(handle, catalog, use_fuzzy=False)
        tmp.replace(mo_path)  # atomic: a server reading the catalog never sees half a file
        written.append(mo_path)
    return written


@dataclass
class Problem:
    path: Path
    lineno: int
    msgid: str
    what: str

    def __str__(self):
        return f"{self.path.name}:{self.lineno}: {self.what}: {self.msgid!r}"


def _placeholders(text: str) -> list[str]:
    return sorted(p for p in PLACEHOLDER.findall(text) if p != "%%")


def catalog_problems(path: Path) -> list[Problem]:
    """Untranslated and fuzzy entries, and translations whose placeholders differ from the source."""
    problems = []
    for message in read_catalog(path):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        label = ids[0] if not message.context else f"{message.context}|{ids[0]}"
        if message.fuzzy:
            problems.append(Problem(path, message.lineno, label, "fuzzy"))
        if not all(strings):
            problems.append(Problem(path, message.lineno, label, "untranslated"))
            continue
        if message.python_format:
            # A plural's singular may spell the count out ("un record"); no form may add a placeholder
            # the source lacks (a KeyError at render time), and the plural keeps them all.
            expected = set(_placeholders(ids[-1]))
            for index, string in enumerate(strings):
                found = set(_placeholders(string))
                missing = expected - found if index == len(strings) - 1 else set()
                if missing or found - expected:
                    problems.append(Problem(path, message.lineno, label, f"placeholders differ in {string!r}"))
    return problems
