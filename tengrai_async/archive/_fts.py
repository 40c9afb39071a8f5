"""The archive's search schema (SQLite FTS5 over the text parameters) and its query text.

Schema version 2 adds it: triggers keep ``artworks_fts`` in step with ``artworks``, whoever
writes the table, and indexes order artworks by the moment ``createdAt`` names.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["MOMENT", "SEARCH_MIGRATION", "match_expression"]

#: The moment ``createdAt`` names, as a Julian day number (0 when it is missing or unreadable).
#: The API writes the text several ways (``Z``, ``+02:00``, with or without milliseconds), so
#: the text does not sort by time; SQLite's ``julianday()`` reads every RFC 3339 form. The
#: indexes below are on exactly this expression: a query must spell it the same to use them.
MOMENT: Final = "ifnull(julianday(created_at), 0)"

#: The text the search indexes for one artwork: every string parameter named ``prompt`` or
#: ending in ``Prompt`` (``prompt``, ``negativePrompt``, ``textPrompt``, and any the API adds),
#: so enum values and image URLs stay out of the results. JSON that does not parse gives none.
_TEXT_OF: Final = (
    "(SELECT group_concat(value, ' ') FROM json_each("
    "CASE WHEN json_valid({row}.json) THEN {row}.json ELSE '{{}}' END, '$.parameters') "
    "WHERE type = 'text' AND key LIKE '%prompt')"
)

#: Migrates schema 1 to 2. The three ``*_moment`` indexes give a page in order (all, by kind,
#: by status); ``artworks_filters`` holds every filtered column, so that counting the matches
#: of a search never reads the wide rows (the JSON) of the table. The FTS row of an artwork has
#: the artwork's rowid (which SQLite keeps: the archive never deletes a row); the triggers run
#: inside the writer's transaction, so the index is never behind the table. Existing artworks
#: are indexed by the migration. No ``prefix`` index: a prefix query scans the few terms that
#: begin with it just as fast here, and the prefix index made storing a page half again slower.
SEARCH_MIGRATION: Final = f"""
    CREATE INDEX artworks_moment ON artworks ({MOMENT}, id);
    CREATE INDEX artworks_type_moment ON artworks (artwork_type, {MOMENT}, id);
    CREATE INDEX artworks_status_moment ON artworks (status, {MOMENT}, id);
    CREATE INDEX artworks_filters ON artworks (artwork_type, status, {MOMENT});
    CREATE VIRTUAL TABLE artworks_fts USING fts5(
        text, tokenize = 'unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER artworks_fts_insert AFTER INSERT ON artworks BEGIN
        INSERT INTO artworks_fts (rowid, text) VALUES (new.rowid, {_TEXT_OF.format(row="new")});
    END;
    CREATE TRIGGER artworks_fts_update AFTER UPDATE OF json ON artworks BEGIN
        DELETE FROM artworks_fts WHERE rowid = old.rowid;
        INSERT INTO artworks_fts (rowid, text) VALUES (new.rowid, {_TEXT_OF.format(row="new")});
    END;
    CREATE TRIGGER artworks_fts_delete AFTER DELETE ON artworks BEGIN
        DELETE FROM artworks_fts WHERE rowid = old.rowid;
    END;
    INSERT INTO artworks_fts (rowid, text)
        SELECT rowid, {_TEXT_OF.format(row="artworks")} FROM artworks;
"""  # noqa: S608 - built from our own constants only

# What FTS5's unicode61 tokenizer keeps as a token: runs of letters and digits (it splits on
# everything else, the underscore included).
_WORD: Final = re.compile(r"[^\W_]+")


def match_expression(text: str) -> str | None:
    """An FTS5 query for what a person typed: every word, as a prefix, all of them required.

    Each word is quoted, so nothing the person types is FTS5 syntax (``"``, ``*``, ``AND (``,
    ``NEAR(`` are text, never a syntax error), and given ``*``: ``fox`` finds "foxes". ``None``
    when the text holds no word at all.
    """
    words = _WORD.findall(text)
    if not words:
        return None
    return " ".join(f'"{word}"*' for word in words)
