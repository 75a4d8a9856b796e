"""Searching the library for words: ranked transcripts, and the segments where the words are, as snippets.

On PostgreSQL the transcripts are ranked by full-text search, each in its own language's text search
configuration where PostgreSQL has one (so "running" finds "run" in English); elsewhere every word must appear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Case, Value, When
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from transcripts.models import Transcript
from transcripts.selectors import QUERY_MAX_CHARS, QUERY_MAX_TERMS, transcripts_for

HITS_PER_TRANSCRIPT = 3
SNIPPET_CHARS = 240
STEM_CHARS = 4  # a word matches a query word that shares its first letters (a cheap stand-in for stemming)
# Whisper language codes → PostgreSQL's text search configurations; any other language uses "simple".
PG_CONFIGS = {
    "ar": "arabic", "da": "danish", "de": "german", "el": "greek", "en": "english", "es": "spanish",
    "fi": "finnish", "fr": "french", "hu": "hungarian", "it": "italian", "nl": "dutch", "no": "norwegian",
    "pt": "portuguese", "ro": "romanian", "ru": "russian", "sv": "swedish", "tr": "turkish",
}  # fmt: skip
WORD = re.compile(r"(\w+)")


@dataclass(frozen=True)
class SearchHit:
    transcript: Transcript
    start: float  # seconds; the transcript page seeks there with ?t=
    snippet: SafeString  # escaped text with the matching words in <mark>


def query_terms(query: str) -> list[str]:
    """The words searched for: at most QUERY_MAX_TERMS, from at most QUERY_MAX_CHARS (a long query cannot cost much)."""
    return [word.casefold() for word in WORD.findall(query[:QUERY_MAX_CHARS])][:QUERY_MAX_TERMS]


def search_library(*, owner: AbstractBaseUser, query: str, limit: int = 20) -> list[SearchHit]:
    terms = query_terms(query)
    if not terms:
        return []
    if connection.vendor == "postgresql":
        config = Case(
            *(When(language=code, then=Value(name)) for code, name in PG_CONFIGS.items()), default=Value("simple")
        )
        search = SearchQuery(" ".join(terms), config=config)
        transcripts = (
            Transcript.objects.filter(owner=owner)
            .annotate(rank=SearchRank(SearchVector("title", "text", config=config), search))
            .filter(rank__gt=0)
            .order_by("-rank", "-created_at")
        )
    else:
        transcripts = transcripts_for(owner=owner, query=" ".join(terms))
    hits: list[SearchHit] = []
    for transcript in transcripts.defer("text")[:limit]:
        hits += _segment_hits(transcript, terms) or [SearchHit(transcript, 0.0, _highlight(transcript.title, terms))]
    return hits[:limit]


def _matches(word: str, terms: list[str]) -> bool:
    word = word.casefold()
    return any(word.startswith(term[:STEM_CHARS]) if len(term) > STEM_CHARS else word == term for term in terms)


def _segment_hits(transcript: Transcript, terms: list[str]) -> list[SearchHit]:
    found = []
    for segment in transcript.segments:
        if any(_matches(word, terms) for word in WORD.findall(segment["text"])):
            found.append(SearchHit(transcript, float(segment["start"]), _highlight(segment["text"], terms)))
            if len(found) == HITS_PER_TRANSCRIPT:
                break
    return found


def _highlight(text: str, terms: list[str]) -> SafeString:
    text = text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS].rsplit(" ", 1)[0] + "…"
    # Every piece is escaped before any markup is added: a transcript can never inject HTML.
    pieces = [
        f"<mark>{escape(piece)}</mark>" if index % 2 and _matches(piece, terms) else escape(piece)
        for index, piece in enumerate(WORD.split(text))
    ]
    return mark_safe("".join(pieces))  # noqa: S308 - built from escaped pieces above
