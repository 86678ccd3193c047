-- One hit on each key of a rate limit: fixed windows of `period`, shared by every worker and
-- host. Returns each key's hits in its window and the seconds until the window ends (for
-- Retry-After).
--
-- now() is when the caller's transaction began. A hit that waited for the row lock of a
-- window opened by a transaction that began after it sees a window_start later than its
-- now(); its Retry-After is capped at the period rather than said to be a second longer.
CREATE FUNCTION rate_limit_hit(keys text[], period interval)
    RETURNS TABLE (hits integer, retry integer) LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    INSERT INTO rate_limits AS r (key, window_start, hits)
    SELECT k, now(), 1 FROM unnest(keys) AS k
    ON CONFLICT (key) DO UPDATE SET
        hits = CASE WHEN r.window_start <= now() - period THEN 1 ELSE r.hits + 1 END,
        window_start = CASE WHEN r.window_start <= now() - period THEN now() ELSE r.window_start END
    RETURNING r.hits, least(ceil(extract(epoch FROM period)),
                            greatest(1, ceil(extract(epoch FROM r.window_start + period - now()))))::integer;
END $$;
