"""The Italian catalog is complete, its placeholders match, and it is up to date with the source.

CI runs these with GNU gettext installed and ``CRM_REQUIRE_GETTEXT=1``; without gettext the
up-to-date check is skipped loudly (a fresh laptop has no xgettext), never silently passed.
"""

import os
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from core.i18n import catalog_problems, compile_catalogs, po_files, read_catalog

ITALIAN = Path(settings.BASE_DIR) / "locale" / "it" / "LC_MESSAGES" / "django.po"


def test_italian_catalog_exists():
    assert ITALIAN in po_files("it")


def test_italian_catalog_has_no_untranslated_fuzzy_or_broken_entry():
    problems = [str(problem) for path in po_files("it") for problem in catalog_problems(path)]
    assert not problems, "Fix these entries in the Italian catalog:\n" + "\n".join(problems)


def test_catalog_declares_italian_plural_forms():
    catalog = read_catalog(ITALIAN)
    assert str(catalog.locale) == "it"
    assert catalog.num_plurals == 2


def test_compile_writes_mo_files_and_skips_fresh_ones(tmp_path, settings):
    locale = tmp_path / "it" / "LC_MESSAGES"
    locale.mkdir(parents=True)
    shutil.copy(ITALIAN, locale / "django.po")
    settings.LOCALE_PATHS = [tmp_path]
    assert compile_catalogs() == [locale / "django.mo"]
    assert (locale / "django.mo").stat().st_size > 1000
    assert compile_catalogs() == []


def _msgids(path: Path) -> set[tuple[str | None, str]]:
    ids = set()
    for message in read_catalog(path):
        if message.id:
            msgid = message.id[0] if isinstance(message.id, tuple | list) else message.id
            ids.add((message.context, msgid))
    return ids


def test_catalog_is_up_to_date_with_the_source(tmp_path, settings, monkeypatch):
    """Every translatable string in the code is in the catalog, and nothing stale is left in it."""
    if not shutil.which("xgettext") or not shutil.which("msgmerge"):
        if os.environ.get("CRM_REQUIRE_GETTEXT") == "1":
            pytest.fail("GNU gettext (xgettext) is required here: apt-get install gettext")
        pytest.skip("GNU gettext is not installed: cannot check the catalog is up to date (CI does)")
    # A mirror of the project without its locale/ folder, so makemessages writes a fresh catalog
    # into tmp_path instead of merging into the committed one.
    mirror = tmp_path / "project"
    mirror.mkdir()
    for entry in Path(settings.BASE_DIR).iterdir():
        if entry.name not in {"locale", ".git", ".venv"}:
            (mirror / entry.name).symlink_to(entry)
    monkeypatch.chdir(mirror)
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    call_command("makemessages", locale=["it"], symlinks=True, verbosity=0)
    fresh = _msgids(tmp_path / "locale" / "it" / "LC_MESSAGES" / "django.po")
    committed = _msgids(ITALIAN)
    missing = sorted(fresh - committed, key=str)
    stale = sorted(committed - fresh, key=str)
    assert not missing and not stale, (
        "The Italian catalog is out of date: run `make messages` and translate the new entries.\n"
        f"Not in the catalog: {missing}\nNo longer in the code: {stale}"
    )


# --- Templates: no text a user reads outside {% translate %} / {% blocktranslate %} ---------------

_COMMENT = re.compile(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|{#.*?#}", re.S)
_BLOCKTRANS = re.compile(r"{%\s*blocktrans(?:late)?\b.*?{%\s*endblocktrans(?:late)?\s*%}", re.S)
_CLASS_BLOCK = re.compile(r"{%\s*block\s+\w*class\s*%}.*?{%\s*endblock\s*%}", re.S)
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1>", re.S | re.I)
_DJANGO = re.compile(r"{%.*?%}|{{.*?}}", re.S)
_READ_ATTRIBUTES = re.compile(r'\b(title|placeholder|aria-label|alt|data-confirm|aria-description)="([^"]*)"')
_HTML = re.compile(r"<[^>]+>", re.S)
_WORD = re.compile(r"[A-Za-zÀ-ÿ]{2,}")
# Names that read the same in every language.
_SAME_IN_EVERY_LANGUAGE = {"CSV", "Excel", "PDF", "XLSX", "&laquo;", "&raquo;", "&times;", "&middot;"}


def _untranslated_text(source: str) -> list[str]:
    for pattern in (_COMMENT, _BLOCKTRANS, _CLASS_BLOCK, _SCRIPT):
        source = pattern.sub(" ", source)
    found = [
        f'{name}="{value}"' for name, value in _READ_ATTRIBUTES.findall(source) if _WORD.search(_DJANGO.sub(" ", value))
    ]
    for line in _HTML.sub(" ", _DJANGO.sub(" ", source)).splitlines():
        line = line.strip()
        if _WORD.search(line) and line not in _SAME_IN_EVERY_LANGUAGE:
            found.append(line)
    return found


def _templates() -> list[Path]:
    base = Path(settings.BASE_DIR)
    roots = [base / "templates", *base.glob("*/templates")]
    return sorted(p for root in roots for p in root.rglob("*") if p.suffix in {".html", ".txt"})


def test_templates_have_no_untranslated_text():
    """A heuristic for the sweep: text between tags and in title/aria-label/placeholder/alt
    attributes must come from {% translate %} or {% blocktranslate %}."""
    base = Path(settings.BASE_DIR)
    problems = [
        f"{path.relative_to(base)}: {text}"
        for path in _templates()
        for text in _untranslated_text(path.read_text(encoding="utf-8"))
    ]
    assert not problems, "Wrap these in {% translate %} / {% blocktranslate %}:\n" + "\n".join(problems)


def test_the_template_check_finds_raw_text():
    assert _untranslated_text('<h1>Deals</h1><a title="Open it">x</a>') == ['title="Open it"', "Deals  x"]
    assert _untranslated_text('{% translate "Deals" %}<b title="{% translate \'Open\' %}">{{ n }}</b>') == []


def test_every_model_and_field_of_ours_has_a_translatable_name():
    from django.apps import apps
    from django.utils.functional import Promise

    base = str(settings.BASE_DIR)
    problems = []
    for model in apps.get_models():
        path = apps.get_app_config(model._meta.app_label).path
        if not path.startswith(base) or "site-packages" in path:
            continue
        for owner, label in [(model._meta, "verbose_name"), (model._meta, "verbose_name_plural")]:
            if not isinstance(getattr(owner, label), Promise):
                problems.append(f"{model.__name__}.Meta.{label}")
        for field in model._meta.get_fields():
            if field.concrete and not field.auto_created and not isinstance(field.verbose_name, Promise):
                problems.append(f"{model.__name__}.{field.name}")
    assert not problems, "Give these a gettext_lazy verbose name: " + ", ".join(problems)
