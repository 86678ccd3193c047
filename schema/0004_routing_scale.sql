-- Routing and jobs at volume.
--
-- Routing reads, for every candidate expert, how many questions they were routed as primary
-- in the last 7 days (the weekly cap) and when they were last routed one (round robin).
-- Counting question_routes for that made each routing decision cost more as the week went on:
-- with a hundred experts routed a hundred questions each, one decision read some 20,000 rows.
-- These tallies, one row per expert and UTC day, keep the same facts in at most a row a day.

CREATE TABLE expert_route_days (
    user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    day date NOT NULL,
    routed integer NOT NULL CHECK (routed > 0),
    last_routed_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, day)
);

-- Kept by the insertion of each primary route, in the same transaction: nothing else writes
-- routes, and routes are never updated. (PL/pgSQL: its plan is cached, unlike a SQL function
-- that writes.)
CREATE FUNCTION expert_route_days_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO expert_route_days AS d (user_id, day, routed, last_routed_at)
    VALUES (NEW.user_id, (NEW.created_at AT TIME ZONE 'UTC')::date, 1, NEW.created_at)
    ON CONFLICT (user_id, day) DO UPDATE
        SET routed = d.routed + 1, last_routed_at = greatest(d.last_routed_at, excluded.last_routed_at);
    RETURN NULL;
END
$$;
CREATE TRIGGER question_routes_tally AFTER INSERT ON question_routes
    FOR EACH ROW WHEN (NEW.rank = 1) EXECUTE FUNCTION expert_route_days_count();

INSERT INTO expert_route_days (user_id, day, routed, last_routed_at)
    SELECT user_id, (created_at AT TIME ZONE 'UTC')::date, count(*), max(created_at)
    FROM question_routes WHERE rank = 1 GROUP BY 1, 2;

-- Nothing reads routes by expert any more.
DROP INDEX question_routes_user_idx;

-- Job claims read the due jobs of the kinds a worker handles, kind by kind: a worker that
-- does not route must not read through the routing backlog to find SLA timers.
DROP INDEX jobs_due_idx;
CREATE INDEX jobs_due_idx ON jobs (kind, run_at, id) WHERE status = 'pending';

-- Both tables churn: every question is updated a few times while it is open (each version an
-- entry in every index, including the partial ones that routing counts open load with), and
-- every job row is inserted, claimed and deleted. Autovacuum's default (a fifth of the table
-- dead) let routing read through tens of thousands of dead index entries per decision under
-- a sustained intake; a small fixed share keeps the indexes lean.
ALTER TABLE questions SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 500);
ALTER TABLE jobs SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 500);
