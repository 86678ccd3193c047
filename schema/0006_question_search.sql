-- A question's full-text vector is read only once the question is answered or closed: the
-- similar questions (server/questions/view.c) are looked for among those, and
-- questions_search_idx holds only those. As a generated column it was computed for every
-- question at intake: about 70 µs of PostgreSQL for a 600-character question (unaccent and
-- stemming), some 7 % of an intake. It is now computed when a question is stored, or its
-- status or text updated, answered or closed. Open questions keep the vector they had (none
-- after this migration): nothing reads it.
ALTER TABLE questions ALTER COLUMN search DROP EXPRESSION;

CREATE FUNCTION questions_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search := CASE NEW.language
        WHEN 'fr' THEN to_tsvector('public.fr_unaccent', NEW.title || ' ' || NEW.body)
        ELSE to_tsvector('public.en_unaccent', NEW.title || ' ' || NEW.body) END;
    RETURN NEW;
END $$;

CREATE TRIGGER questions_search BEFORE INSERT OR UPDATE OF status, title, body, language ON questions
    FOR EACH ROW WHEN (NEW.status IN ('answered', 'closed')) EXECUTE FUNCTION questions_search();
