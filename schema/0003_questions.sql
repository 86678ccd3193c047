-- External questions: channels and their signing secrets, customers, questions and their
-- messages, perimeter rules and crisis topics, routing decisions, the internal thread, the
-- timeline, notifications (the rows behind live events) and the shared jobs queue.

-- Who may be notified, and what they see: rows first, then pg_notify at commit.
CREATE TABLE notifications (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind ~ '^[a-z_.]{1,64}$'),
    question_id bigint,
    actor_user_id bigint REFERENCES users,
    data jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    read_at timestamptz
);
CREATE INDEX notifications_user_idx ON notifications (user_id, id);

-- Inserts a notification and announces it on the bus (delivered at commit, so a rolled-back
-- change never reaches a browser). The payload carries the whole event when it fits, so
-- that workers fan it out without reading it back.
CREATE FUNCTION notification_add(target bigint, kind text, question bigint, actor bigint, data jsonb)
    RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n notifications;
    payload text;
BEGIN
    INSERT INTO notifications (user_id, kind, question_id, actor_user_id, data)
    VALUES (target, kind, question, actor, coalesce(data, '{}')) RETURNING * INTO n;
    payload := json_build_object('id', n.id, 'user_id', n.user_id, 'kind', n.kind,
        'question_id', n.question_id, 'actor_user_id', n.actor_user_id, 'data', n.data,
        'created_at', n.created_at)::text;
    IF octet_length(payload) > 7900 THEN
        payload := json_build_object('id', n.id, 'user_id', n.user_id, 'truncated', true)::text;
    END IF;
    PERFORM pg_notify('relais_events', payload);
    RETURN n.id;
END $$;

-- The unread count and "mark read" of GET/POST /api/v1/notifications.
CREATE INDEX notifications_unread_idx ON notifications (user_id, id) WHERE read_at IS NULL;

-- Live event streams belong to a session: announce ended sessions (sign-out, revocation, a
-- disabled user) on the bus, in commit order with the events, so streams close before any
-- later event. One notification per statement; "*" when the list would not fit.
CREATE FUNCTION sessions_ended_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids text;
BEGIN
    SELECT string_agg(id::text, ',') INTO ids FROM ended;
    IF ids IS NOT NULL THEN
        PERFORM pg_notify('relais_sessions', CASE WHEN octet_length(ids) > 7900 THEN '*' ELSE ids END);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER sessions_ended AFTER DELETE ON sessions REFERENCING OLD TABLE AS ended
    FOR EACH STATEMENT EXECUTE FUNCTION sessions_ended_notify();

-- One queue for every deferred task (SLA timers, routing, webhooks, e-mail): any worker on
-- any host claims due jobs with FOR UPDATE SKIP LOCKED. A change and the job it causes are
-- written in the same transaction.
CREATE TABLE jobs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind text NOT NULL CHECK (kind ~ '^[a-z_.]{1,64}$'),
    payload jsonb NOT NULL DEFAULT '{}',
    run_at timestamptz NOT NULL DEFAULT now(),
    attempts integer NOT NULL DEFAULT 0,
    max_attempts integer NOT NULL DEFAULT 10 CHECK (max_attempts BETWEEN 1 AND 100),
    -- A claim is a lease: a job whose worker died is claimed again after locked_until.
    locked_until timestamptz,
    locked_by text CHECK (length(locked_by) <= 100),
    last_error text CHECK (length(last_error) <= 1000),
    -- dead: gave up after max_attempts; kept for the operators, never claimed again.
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'dead')),
    created_at timestamptz NOT NULL DEFAULT now()
);
-- (run_at, id): the claim's order, so that a backlog of due jobs is read from the index in
-- order and cut at the claim's limit instead of read whole and sorted.
CREATE INDEX jobs_due_idx ON jobs (run_at, id) WHERE status = 'pending';

CREATE FUNCTION job_add(kind text, payload jsonb, run_at timestamptz) RETURNS bigint
    LANGUAGE plpgsql AS $$
DECLARE
    job_id bigint;
BEGIN
    INSERT INTO jobs (kind, payload, run_at) VALUES (kind, payload, coalesce(run_at, now()))
    RETURNING id INTO job_id;
    -- Only a job due now needs waking the workers: the runners' one-second timer claims later
    -- ones in time. A transaction that notifies commits under PostgreSQL's database-wide
    -- notify lock (held from before its commit record until after the WAL flush), so every
    -- SLA timer armed with a NOTIFY made routing decisions commit one at a time.
    IF run_at IS NULL OR run_at <= now() THEN
        PERFORM pg_notify('relais_jobs', '');
    END IF;
    RETURN job_id;
END $$;

CREATE TABLE channels (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('api', 'web_form', 'email')),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    community_id bigint NOT NULL REFERENCES communities,
    language text NOT NULL CHECK (language IN ('en', 'fr')),
    sla_seconds integer NOT NULL CHECK (sla_seconds BETWEEN 1 AND 2592000),
    -- Last step of SLA escalation (backup, then the community's manager, then this person).
    owner_user_id bigint NOT NULL REFERENCES users,
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_by bigint NOT NULL REFERENCES users,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX channels_community_idx ON channels (community_id);

-- HMAC keys of `api` channels (the raw bytes behind "whsec_<base64>"). A rotation gives the
-- previous secret an expiry 24 hours ahead, so senders can switch without losing deliveries.
CREATE TABLE channel_secrets (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel_id bigint NOT NULL REFERENCES channels ON DELETE CASCADE,
    secret bytea NOT NULL CHECK (length(secret) BETWEEN 24 AND 64),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz
);
CREATE INDEX channel_secrets_channel_idx ON channel_secrets (channel_id, id DESC);

-- What each inbound delivery did, for the admins' delivery log (bad signatures included).
CREATE TABLE channel_deliveries (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel_id bigint NOT NULL REFERENCES channels ON DELETE CASCADE,
    webhook_id text NOT NULL DEFAULT '' CHECK (length(webhook_id) <= 256),
    received_at timestamptz NOT NULL DEFAULT now(),
    status integer NOT NULL,
    error_code text NOT NULL DEFAULT '' CHECK (length(error_code) <= 64),
    question_id bigint,
    ip text NOT NULL DEFAULT '' CHECK (length(ip) <= 64)
);
CREATE INDEX channel_deliveries_channel_idx ON channel_deliveries (channel_id, id DESC);

-- The customer's identity lives here only; experts see `pseudonym`.
CREATE TABLE customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    email text NOT NULL DEFAULT '' CHECK (length(email) <= 254),
    external_ref text NOT NULL DEFAULT '' CHECK (length(external_ref) <= 200),
    pseudonym text NOT NULL DEFAULT '' CHECK (length(pseudonym) <= 40),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX customers_email_key ON customers (lower(email)) WHERE email <> '';

-- "Customer 4F2A": stable, derived from the id, reveals nothing.
CREATE FUNCTION customers_pseudonym() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.pseudonym := 'Customer ' || upper(substr(md5('relais-customer-' || NEW.id), 1, 4));
    RETURN NEW;
END $$;
CREATE TRIGGER customers_pseudonym BEFORE INSERT ON customers
    FOR EACH ROW EXECUTE FUNCTION customers_pseudonym();

-- Perimeter rules of a community, tried in position order: the first that matches decides.
-- Empty tags / keywords / languages match anything.
CREATE TABLE perimeter_rules (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    community_id bigint NOT NULL REFERENCES communities ON DELETE CASCADE,
    position integer NOT NULL CHECK (position BETWEEN 0 AND 999),
    name text NOT NULL DEFAULT '' CHECK (length(name) <= 100),
    tags text[] NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 20),
    keywords text[] NOT NULL DEFAULT '{}' CHECK (cardinality(keywords) <= 50),
    languages text[] NOT NULL DEFAULT '{}' CHECK (languages <@ ARRAY['en', 'fr']),
    action text NOT NULL CHECK (action IN ('answer', 'escalate', 'refuse')),
    owner_user_id bigint REFERENCES users,
    canned_reply text NOT NULL DEFAULT '' CHECK (length(canned_reply) <= 4000),
    topic text NOT NULL DEFAULT '' CHECK (length(topic) <= 48),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (community_id, position),
    CHECK (action <> 'escalate' OR owner_user_id IS NOT NULL),
    CHECK (action <> 'refuse' OR canned_reply <> '')
);

-- Topics under crisis: recorded now, enforced at review (comms must approve).
CREATE TABLE crisis_topics (
    community_id bigint NOT NULL REFERENCES communities ON DELETE CASCADE,
    topic text NOT NULL CHECK (topic ~ '^[a-z0-9][a-z0-9-]{0,47}$'),
    reason text NOT NULL DEFAULT '' CHECK (length(reason) <= 500),
    set_by bigint NOT NULL REFERENCES users,
    since timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (community_id, topic)
);

CREATE TABLE questions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel_id bigint NOT NULL REFERENCES channels,
    external_id text NOT NULL CHECK (length(external_id) BETWEEN 1 AND 200),
    community_id bigint NOT NULL REFERENCES communities,
    customer_id bigint NOT NULL REFERENCES customers,
    title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    body text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
    language text NOT NULL CHECK (language IN ('en', 'fr')),
    tags text[] NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 20),
    url text NOT NULL DEFAULT '' CHECK (length(url) <= 2000),
    -- triage: waits for a manager; routing: a routing job is due; assigned / claimed: an
    -- expert has it; waiting_customer: the SLA clock is paused; escalated: a rule sent it to
    -- an owner; refused: a rule answered with a canned reply; answered, closed: done.
    status text NOT NULL CHECK (status IN ('triage', 'routing', 'assigned', 'claimed', 'waiting_customer',
                                           'escalated', 'refused', 'answered', 'closed')),
    triage_reason text NOT NULL DEFAULT '' CHECK (length(triage_reason) <= 64),
    rule_id bigint REFERENCES perimeter_rules ON DELETE SET NULL,
    topic text NOT NULL DEFAULT '',
    assignee_id bigint REFERENCES users,
    primary_expert_id bigint REFERENCES users,
    backup_expert_id bigint REFERENCES users,
    claimed_by bigint REFERENCES users,
    -- SLA: the deadline of the current step, or the time left while paused.
    sla_due_at timestamptz,
    sla_remaining interval,
    -- 0 primary expert, 1 backup, 2 community manager, 3 channel owner.
    escalation_level smallint NOT NULL DEFAULT 0 CHECK (escalation_level BETWEEN 0 AND 3),
    -- Bumped whenever the deadline changes, so that a stale SLA job does nothing.
    sla_version integer NOT NULL DEFAULT 0,
    first_response_at timestamptz,
    follow_token_hash bytea UNIQUE CHECK (length(follow_token_hash) = 32),
    search tsvector GENERATED ALWAYS AS (
        CASE language WHEN 'fr' THEN to_tsvector('public.fr_unaccent', title || ' ' || body)
                      ELSE to_tsvector('public.en_unaccent', title || ' ' || body) END) STORED,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (channel_id, external_id)
);
CREATE INDEX questions_assignee_idx ON questions (assignee_id, sla_due_at) WHERE status IN ('assigned', 'claimed', 'waiting_customer', 'escalated');
CREATE INDEX questions_community_idx ON questions (community_id, status, id DESC);
-- The inbox: what someone claimed (beside what is assigned to them), the triage queue of
-- all communities (admins), and a community's questions newest first without a status.
CREATE INDEX questions_claimed_idx ON questions (claimed_by, sla_due_at) WHERE status IN ('assigned', 'claimed', 'waiting_customer', 'escalated');
CREATE INDEX questions_triage_idx ON questions (id) WHERE status = 'triage';
CREATE INDEX questions_community_recent_idx ON questions (community_id, id DESC);
-- Similar questions are looked for among answered and closed ones only (view.c): the GIN
-- indexes hold only those, so that intake and routing, which write new questions and move
-- them through the other statuses, do not maintain them.
CREATE INDEX questions_search_idx ON questions USING gin (search) WHERE status IN ('answered', 'closed');
CREATE INDEX questions_title_trgm_idx ON questions USING gin (immutable_unaccent(lower(title)) gin_trgm_ops)
    WHERE status IN ('answered', 'closed');

-- Idempotency of signed deliveries: a webhook-id seen again answers the same question.
CREATE TABLE intake_receipts (
    -- No foreign key to channels: the question's (same channel) already holds, and each one
    -- is a row lock on the channel that every concurrent delivery shares.
    channel_id bigint NOT NULL,
    webhook_id text NOT NULL CHECK (length(webhook_id) BETWEEN 1 AND 256),
    question_id bigint NOT NULL REFERENCES questions ON DELETE CASCADE,
    message_id bigint,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel_id, webhook_id)
);

-- What the customer and the company said to each other (customer follow-ups, requests for
-- details, canned replies); the internal thread is question_comments.
CREATE TABLE question_messages (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    question_id bigint NOT NULL REFERENCES questions ON DELETE CASCADE,
    author text NOT NULL CHECK (author IN ('customer', 'expert', 'system')),
    author_user_id bigint REFERENCES users,
    external_id text CHECK (length(external_id) <= 200),
    body text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX question_messages_question_idx ON question_messages (question_id, id);

-- Why each expert was chosen: the score and its parts, for every routing decision.
CREATE TABLE question_routes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    question_id bigint NOT NULL REFERENCES questions ON DELETE CASCADE,
    user_id bigint NOT NULL REFERENCES users,
    rank smallint NOT NULL CHECK (rank IN (1, 2)),
    score integer NOT NULL,
    parts jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX question_routes_question_idx ON question_routes (question_id, id);
-- Round-robin and weekly caps read the routing history per expert.
CREATE INDEX question_routes_user_idx ON question_routes (user_id, created_at DESC);

CREATE TABLE question_declines (
    question_id bigint NOT NULL REFERENCES questions ON DELETE CASCADE,
    user_id bigint NOT NULL REFERENCES users,
    reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (question_id, user_id)
);

-- The internal thread: never sent outside the company.
CREATE TABLE question_comments (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    question_id bigint NOT NULL REFERENCES questions ON DELETE CASCADE,
    author_id bigint NOT NULL REFERENCES users,
    body text NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
    mentions bigint[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX question_comments_question_idx ON question_comments (question_id, id);

-- The timeline: intake, triage, routing decisions, claims, SLA events.
CREATE TABLE question_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    question_id bigint NOT NULL REFERENCES questions ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind ~ '^[a-z_.]{1,64}$'),
    actor_user_id bigint REFERENCES users,
    details jsonb NOT NULL DEFAULT '{}',
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX question_events_question_idx ON question_events (question_id, id);

CREATE FUNCTION question_event(question bigint, kind text, actor bigint, details jsonb) RETURNS bigint
    LANGUAGE sql AS $$
    INSERT INTO question_events (question_id, kind, actor_user_id, details)
    VALUES (question, kind, actor, coalesce(details, '{}')) RETURNING id
$$;

-- SLA clock of a question's current step. Each change bumps sla_version; an SLA job whose
-- version is not the question's any more does nothing.
CREATE FUNCTION question_sla_arm(question bigint, seconds integer) RETURNS timestamptz
    LANGUAGE plpgsql AS $$
DECLARE
    due timestamptz := now() + make_interval(secs => seconds);
    version integer;
BEGIN
    UPDATE questions SET sla_due_at = due, sla_remaining = NULL, sla_version = sla_version + 1,
                         updated_at = now()
     WHERE id = question RETURNING sla_version INTO version;
    PERFORM job_add('question.sla', jsonb_build_object('question_id', question, 'version', version), due);
    RETURN due;
END $$;

-- Waiting for the customer: the time left is kept, the deadline cleared.
CREATE FUNCTION question_sla_pause(question bigint, actor bigint) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    UPDATE questions SET sla_remaining = greatest(sla_due_at - now(), interval '0'), sla_due_at = NULL,
                         sla_version = sla_version + 1, status = 'waiting_customer', updated_at = now()
     WHERE id = question AND status IN ('assigned', 'claimed');
    IF FOUND THEN
        PERFORM question_event(question, 'sla.paused', actor, '{}');
    END IF;
END $$;

-- The customer answered: the clock runs again with the time that was left.
CREATE FUNCTION question_sla_resume(question bigint) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    q questions;
BEGIN
    UPDATE questions SET status = CASE WHEN claimed_by IS NULL THEN 'assigned' ELSE 'claimed' END,
                         sla_due_at = now() + coalesce(sla_remaining, interval '0'), sla_remaining = NULL,
                         sla_version = sla_version + 1, updated_at = now()
     WHERE id = question AND status = 'waiting_customer' RETURNING * INTO q;
    IF FOUND THEN
        PERFORM job_add('question.sla', jsonb_build_object('question_id', question, 'version', q.sla_version),
                        q.sla_due_at);
        PERFORM question_event(question, 'sla.resumed', NULL, '{}');
    END IF;
END $$;

-- Hands a question back to routing (a decline, an absent or disabled assignee); the routing
-- job writes the new decision.
CREATE FUNCTION question_route_later(question bigint, reason text, actor bigint) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    UPDATE questions SET status = 'routing', assignee_id = NULL, claimed_by = NULL, updated_at = now()
     WHERE id = question AND status IN ('routing', 'assigned', 'claimed', 'waiting_customer', 'triage');
    IF FOUND THEN
        PERFORM question_event(question, 'question.rerouted', actor, jsonb_build_object('reason', reason));
        PERFORM job_add('question.route', jsonb_build_object('question_id', question), now());
    END IF;
END $$;

-- Wall-clock time now in a user's time zone, for working hours; a zone name PostgreSQL does
-- not know (users.time_zone is free text) counts as UTC instead of failing the routing.
CREATE FUNCTION local_now(zone text) RETURNS timestamp
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN now() AT TIME ZONE zone;
EXCEPTION WHEN invalid_parameter_value THEN
    RETURN now() AT TIME ZONE 'UTC';
END $$;
