"""The text matching every search in the CRM shares: the global search, and ``?search=`` of the
API lists.

Two SQL functions do the normalising, with the same names on both databases so one Django
expression serves both:

* ``crm_search_norm(text)``: lower case, accents removed ("Società" → "societa");
* ``crm_search_key(text)``: the same, keeping only letters and digits, so a VAT
  number, an e-mail or a phone number matches in any spacing ("IT 0123 4567 890", "+39 02-1234").

On **PostgreSQL** they are ``IMMUTABLE`` SQL functions over ``unaccent`` (installed by
``search/migrations/0001``), and GIN trigram indexes (``pg_trgm``) on those expressions over the
searched columns (``0002``) answer ``LIKE '%…%'`` and the word-similarity operator ``<%`` (typo
tolerance) without scanning the tables. There is no denormalised column to keep in step: the index
is on the expression, so every write path (services, imports, bulk loads, raw SQL) is covered.

On **SQLite** (the laptop default) the same functions are registered in Python on each connection
(``sqlite_functions_install``), plus ``crm_search_wsim`` (word similarity, as pg_trgm computes it);
the match is a scan with ``LIKE`` on the normalised text, which is fine at a laptop's scale.
"""

import re
import unicodedata
from functools import lru_cache

from django.db.models import BooleanField, Case, F, FloatField, Func, Q, TextField, Value, When
from django.db.models.functions import Concat, Greatest

SEARCH_HELP = (
    "Words, a VAT number, an e-mail or a phone number, as the global search matches them: accents, "
    "capitals and spacing do not matter and a typo is forgiven. Fewer than 2 characters match nothing."
)
WORD_SIMILARITY = 0.6  # pg_trgm.word_similarity_threshold's default; the SQLite scan uses the same
MIN_LENGTH = 2  # shorter queries return nothing (every row would match)
_KEY_DROP = re.compile(r"[^a-z0-9]")


def norm(value: str) -> str:
    """Lower case without accents, as ``crm_search_norm`` computes it in SQL."""
    if value is None:
        return None
    decomposed = unicodedata.normalize("NFKD", str(value))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def key(value: str) -> str:
    """The letters and digits of :func:`norm` (``crm_search_key``)."""
    if value is None:
        return None
    return _KEY_DROP.sub("", norm(value))


def _trigrams(word: str) -> set[str]:
    padded = f"  {word} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^0-9a-z]+", norm(text)) if w]


@lru_cache(maxsize=4096)
def _query_trigrams(query: str) -> frozenset[str]:
    grams = set()
    for word in _words(query):
        grams |= _trigrams(word)
    return frozenset(grams)


def word_similarity(query: str, text: str) -> float:
    """pg_trgm's ``word_similarity(query, text)`` as the SQLite scan computes it: the share of the
    query's trigrams (of its words, padded as pg_trgm pads them) found among the text's."""
    if not query or not text:
        return 0.0
    wanted = _query_trigrams(query)
    if not wanted:
        return 0.0
    have = set()
    for word in _words(text):
        have |= _trigrams(word)
    return len(wanted & have) / len(wanted)


def sqlite_functions_install(sender, connection, **kwargs):
    if connection.vendor != "sqlite":
        return
    raw = connection.connection
    raw.create_function("crm_search_norm", 1, norm, deterministic=True)
    raw.create_function("crm_search_key", 1, key, deterministic=True)
    raw.create_function("crm_search_wsim", 2, word_similarity, deterministic=True)


class SearchNorm(Func):
    function = "crm_search_norm"
    output_field = TextField()


class SearchKey(SearchNorm):
    function = "crm_search_key"


class WordSimilarity(Func):
    """``word_similarity(query, text)`` (0…1): how well ``query`` matches a part of ``text``."""

    function = "word_similarity"
    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, function="crm_search_wsim", **extra)


class WordSimilar(Func):
    """``query <% text``: the query matches a part of ``text`` despite a typo (uses the index)."""

    arg_joiner = " <%% "  # psycopg reads a lone % as a placeholder
    template = "(%(expressions)s)"
    output_field = BooleanField()

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(
            compiler,
            connection,
            template=f"(crm_search_wsim(%(expressions)s) >= {WORD_SIMILARITY})",
            arg_joiner=", ",
            **extra,
        )


def full_name(first: str = "first_name", last: str = "last_name"):
    """A contact's "first last", as the index on it is built."""
    return Concat(F(first), Value(" "), F(last))


class Spec:
    """What is searched on one model: ``texts`` (names: matched as words, typo tolerant, ranked)
    and ``keys`` (identifiers: VAT, e-mail, phone, codes, matched in any spacing)."""

    def __init__(self, *, texts, keys=()):
        self.texts = texts  # callables returning an expression, or field names
        self.keys = keys

    @staticmethod
    def _expr(item):
        return F(item) if isinstance(item, str) else item()

    def text_exprs(self):
        return [SearchNorm(self._expr(t)) for t in self.texts]

    def key_exprs(self):
        return [SearchKey(self._expr(k)) for k in self.keys]


def query_parts(query: str) -> tuple[str, str]:
    """The normalised query and its key form; ("", "") when too short to search."""
    q = " ".join(norm(query or "").split())
    if len(q) < MIN_LENGTH:
        return "", ""
    return q, key(q)


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def match_q(spec: Spec, query: str, *, typos: bool = True) -> Q | None:
    """A filter for the rows of ``spec`` matching ``query``, or None when the query is too short.

    A row matches when one of its names contains the query (accents and case aside), or is within
    a typo of it (word similarity), or one of its identifiers contains the query's letters and
    digits, whatever the spacing."""
    q, k = query_parts(query)
    if not q:
        return None
    condition = Q()
    for expr in spec.text_exprs():
        condition |= Q(_SearchContains(expr, Value(q)))
        if typos and len(q) >= 3:
            condition |= Q(WordSimilar(Value(q), expr))
    for variant in key_variants(k):
        for expr in spec.key_exprs():
            condition |= Q(_SearchContains(expr, Value(variant)))
    return condition


_COUNTRY_PREFIX = re.compile(r"^[a-z]{2}(?=[0-9]{5,}$)")


def key_variants(k: str) -> list[str]:
    """The identifier forms of a query: itself, and without a VAT number's country prefix
    ("IT01234567890" also finds the Italian number stored as its 11 digits)."""
    if len(k) < 3:
        return []
    variants = [k]
    bare = _COUNTRY_PREFIX.sub("", k)
    if bare != k:
        variants.append(bare)
    return variants


class _SearchContains(Func):
    """``expr LIKE '%value%'`` on already-normalised text (no ``UPPER``/``LOWER`` wrapping, so the
    trigram index on the expression answers it)."""

    output_field = BooleanField()

    def as_sql(self, compiler, connection, **extra):
        expr_sql, expr_params = compiler.compile(self.source_expressions[0])
        value = self.source_expressions[1].value
        return f"({expr_sql} LIKE %s ESCAPE '\\')", [*expr_params, f"%{_like(value)}%"]

    def as_postgresql(self, compiler, connection, **extra):
        expr_sql, expr_params = compiler.compile(self.source_expressions[0])
        value = self.source_expressions[1].value
        return f"({expr_sql} LIKE %s)", [*expr_params, f"%{_like(value)}%"]


def score_expr(spec: Spec, query: str):
    """How well a row matches (higher first): the best word similarity over its names, plus 1
    when a name starts with the query, plus 0.5 when an identifier contains it."""
    q, k = query_parts(query)
    texts = spec.text_exprs()
    parts = [WordSimilarity(Value(q), t) for t in texts]
    best = Greatest(*parts) if len(parts) > 1 else parts[0]
    prefix = Q()
    for t in texts:
        prefix |= Q(_SearchStarts(t, Value(q)))
    score = best + Case(When(prefix, then=Value(1.0)), default=Value(0.0), output_field=FloatField())
    if key_variants(k) and spec.keys:
        keyq = Q()
        for variant in key_variants(k):
            for e in spec.key_exprs():
                keyq |= Q(_SearchContains(e, Value(variant)))
        score = score + Case(When(keyq, then=Value(0.5)), default=Value(0.0), output_field=FloatField())
    return score


class _SearchStarts(_SearchContains):
    def as_sql(self, compiler, connection, **extra):
        expr_sql, expr_params = compiler.compile(self.source_expressions[0])
        value = self.source_expressions[1].value
        return f"({expr_sql} LIKE %s ESCAPE '\\')", [*expr_params, f"{_like(value)}%"]

    def as_postgresql(self, compiler, connection, **extra):
        expr_sql, expr_params = compiler.compile(self.source_expressions[0])
        value = self.source_expressions[1].value
        return f"({expr_sql} LIKE %s)", [*expr_params, f"{_like(value)}%"]
