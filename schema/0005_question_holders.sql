-- Who holds each open question, for the open load that every routing decision reads.
--
-- Counting it in questions read one heap page per open question of every candidate (each
-- question on its own page, among the dead versions of questions updated since): measured
-- under a sustained intake, about 9,000 pages and half the cost of loading a group's experts.
-- This table holds open questions only, a few narrow rows to a page.
--
-- An open question (assigned, claimed, waiting for the customer, escalated) is held by its
-- assignee, and by whoever claimed it when that is someone else: one row each.

CREATE TABLE question_holders (
    -- No foreign keys: the trigger below is the only writer and follows the question's row,
    -- and a key check per row would cost more than the row.
    question_id bigint NOT NULL,
    user_id bigint NOT NULL,
    PRIMARY KEY (question_id, user_id)
);
CREATE INDEX question_holders_user_idx ON question_holders (user_id);
ALTER TABLE question_holders SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 500);

CREATE FUNCTION question_holder_ids(status text, assignee_id bigint, claimed_by bigint) RETURNS bigint[]
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN status NOT IN ('assigned', 'claimed', 'waiting_customer', 'escalated') THEN '{}'::bigint[]
                WHEN claimed_by IS NULL OR claimed_by = assignee_id THEN array_remove(ARRAY[assignee_id], NULL)
                ELSE array_remove(ARRAY[assignee_id, claimed_by], NULL) END
$$;

-- In the transaction that changes the question, under its row lock: two changes of one
-- question follow each other, each seeing the holders the one before left.
CREATE FUNCTION question_holders_sync() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    before bigint[] := CASE WHEN TG_OP = 'INSERT' THEN '{}'
                            ELSE question_holder_ids(OLD.status, OLD.assignee_id, OLD.claimed_by) END;
    after bigint[] := CASE WHEN TG_OP = 'DELETE' THEN '{}'
                           ELSE question_holder_ids(NEW.status, NEW.assignee_id, NEW.claimed_by) END;
BEGIN
    IF before <> '{}' THEN
        DELETE FROM question_holders WHERE question_id = OLD.id AND user_id = ANY (before) AND user_id <> ALL (after);
    END IF;
    IF after <> '{}' THEN
        INSERT INTO question_holders (question_id, user_id)
            SELECT NEW.id, u FROM unnest(after) AS u WHERE u <> ALL (before);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER questions_holders_insert AFTER INSERT ON questions
    FOR EACH ROW WHEN (NEW.status IN ('assigned', 'claimed', 'waiting_customer', 'escalated'))
    EXECUTE FUNCTION question_holders_sync();
CREATE TRIGGER questions_holders_update AFTER UPDATE OF status, assignee_id, claimed_by ON questions
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.assignee_id IS DISTINCT FROM NEW.assignee_id
                       OR OLD.claimed_by IS DISTINCT FROM NEW.claimed_by)
    EXECUTE FUNCTION question_holders_sync();
CREATE TRIGGER questions_holders_delete AFTER DELETE ON questions
    FOR EACH ROW EXECUTE FUNCTION question_holders_sync();

INSERT INTO question_holders (question_id, user_id)
    SELECT q.id, u FROM questions q, unnest(question_holder_ids(q.status, q.assignee_id, q.claimed_by)) AS u;
