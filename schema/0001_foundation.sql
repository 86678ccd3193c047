-- Foundation: the extensions and text search configurations later migrations rely on.
-- Accent-insensitive search in French and English (see docs and NOTES: unaccent() is not
-- IMMUTABLE, so it is applied inside a text search configuration, which is).
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TEXT SEARCH CONFIGURATION fr_unaccent (COPY = french);
ALTER TEXT SEARCH CONFIGURATION fr_unaccent
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem;

CREATE TEXT SEARCH CONFIGURATION en_unaccent (COPY = english);
ALTER TEXT SEARCH CONFIGURATION en_unaccent
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem;
