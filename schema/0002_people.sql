-- People and access: accounts, sessions, API tokens, password resets, the audit log,
-- expertise and availability, communities of practice, and login rate limits.

-- unaccent() is STABLE; this wrapper pins the dictionary so that it can be IMMUTABLE and
-- indexed (the usual approach, safe as long as the unaccent rules file does not change).
CREATE FUNCTION immutable_unaccent(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$;

CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL CHECK (length(email) BETWEEN 3 AND 254 AND email ~ '^[^@\s]+@[^@\s]+$'),
    display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    department text NOT NULL DEFAULT '' CHECK (length(department) <= 100),
    job_title text NOT NULL DEFAULT '' CHECK (length(job_title) <= 100),
    locale text NOT NULL DEFAULT 'en' CHECK (locale IN ('en', 'fr')),
    time_zone text NOT NULL DEFAULT 'UTC' CHECK (length(time_zone) BETWEEN 1 AND 64),
    role text NOT NULL DEFAULT 'employee' CHECK (role IN ('admin', 'comms', 'employee')),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    -- NULL: no password sign-in (a reset link is pending, or single sign-on later).
    password_hash text CHECK (length(password_hash) < 256),
    languages text[] NOT NULL DEFAULT '{}' CHECK (cardinality(languages) <= 20),
    -- Up to this many routed external questions a week.
    weekly_cap integer NOT NULL DEFAULT 10 CHECK (weekly_cap BETWEEN 0 AND 1000),
    -- Working hours in the user's time zone: {"mon": [["09:00","17:30"]], ...}; {} = always.
    working_hours jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(working_hours) = 'object'),
    -- Kept on the row for lists: [{"tag": ..., "level": ...}], strongest first.
    expertise jsonb NOT NULL DEFAULT '[]',
    -- Lower-cased, unaccented name, department, title and expertise, for the directory.
    search_text text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_search_idx ON users USING gin (search_text gin_trgm_ops);
CREATE INDEX users_department_idx ON users (department);

CREATE TABLE user_expertise (
    user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    tag text NOT NULL CHECK (tag ~ '^[a-z0-9][a-z0-9-]{0,47}$'),
    level smallint NOT NULL CHECK (level BETWEEN 1 AND 5),
    PRIMARY KEY (user_id, tag)
);
CREATE INDEX user_expertise_tag_idx ON user_expertise (tag, level DESC);

CREATE TABLE out_of_office (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    note text NOT NULL DEFAULT '' CHECK (length(note) <= 500),
    CHECK (ends_at > starts_at)
);
CREATE INDEX out_of_office_user_idx ON out_of_office (user_id, ends_at);

-- The directory's search text follows the profile and the expertise.
CREATE FUNCTION users_search_text(u users) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT immutable_unaccent(lower(concat_ws(' ', u.display_name, u.department, u.job_title,
        (SELECT string_agg(tag, ' ') FROM user_expertise e WHERE e.user_id = u.id))))
$$;
CREATE FUNCTION users_before_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_text := users_search_text(NEW);
    RETURN NEW;
END $$;
CREATE TRIGGER users_search BEFORE INSERT OR UPDATE OF display_name, department, job_title ON users
    FOR EACH ROW EXECUTE FUNCTION users_before_write();
CREATE FUNCTION user_expertise_after_write() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    target bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.user_id ELSE NEW.user_id END;
BEGIN
    UPDATE users SET search_text = users_search_text(users),
           expertise = (SELECT coalesce(jsonb_agg(jsonb_build_object('tag', tag, 'level', level)
                                                  ORDER BY level DESC, tag), '[]')
                          FROM user_expertise WHERE user_id = target)
     WHERE id = target;
    RETURN NULL;
END $$;
CREATE TRIGGER user_expertise_search AFTER INSERT OR UPDATE OR DELETE ON user_expertise
    FOR EACH ROW EXECUTE FUNCTION user_expertise_after_write();

CREATE TABLE sessions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    csrf_token text NOT NULL CHECK (length(csrf_token) BETWEEN 32 AND 64),
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    ip text NOT NULL DEFAULT '' CHECK (length(ip) <= 64),
    user_agent text NOT NULL DEFAULT '' CHECK (length(user_agent) <= 300)
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE api_tokens (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    scopes text[] NOT NULL CHECK (cardinality(scopes) >= 1 AND scopes <@ ARRAY['read', 'questions:write', 'admin']),
    created_by bigint NOT NULL REFERENCES users,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at timestamptz
);

CREATE TABLE password_resets (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_by bigint NOT NULL REFERENCES users,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);

-- Append-only: every security event, with who, what, from where and when.
CREATE TABLE audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    actor_user_id bigint REFERENCES users,
    actor_token_id bigint REFERENCES api_tokens,
    action text NOT NULL CHECK (action ~ '^[a-z_.]{1,64}$'),
    object_type text NOT NULL DEFAULT '' CHECK (length(object_type) <= 32),
    object_id text NOT NULL DEFAULT '' CHECK (length(object_id) <= 64),
    ip text NOT NULL DEFAULT '' CHECK (length(ip) <= 64),
    request_id text NOT NULL DEFAULT '' CHECK (length(request_id) <= 72),
    details jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_user_id, id DESC);
CREATE INDEX audit_log_action_idx ON audit_log (action, id DESC);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- For statements that audit only what they actually changed:
--   WITH r AS (UPDATE ... RETURNING id) SELECT r.id, audit_record(...) FROM r
CREATE FUNCTION audit_record(actor_user_id bigint, actor_token_id bigint, action text, object_type text,
                             object_id text, ip text, request_id text, details jsonb) RETURNS void
    LANGUAGE sql AS $$
    INSERT INTO audit_log (actor_user_id, actor_token_id, action, object_type, object_id, ip, request_id, details)
    VALUES (actor_user_id, actor_token_id, action, object_type, object_id, ip, request_id, details)
$$;

CREATE TABLE communities (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    visibility text NOT NULL DEFAULT 'open' CHECK (visibility IN ('open', 'request', 'secret')),
    topics text[] NOT NULL DEFAULT '{}' CHECK (cardinality(topics) <= 50),
    member_count integer NOT NULL DEFAULT 0 CHECK (member_count >= 0),
    created_by bigint NOT NULL REFERENCES users,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE community_members (
    community_id bigint NOT NULL REFERENCES communities ON DELETE CASCADE,
    user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    role text NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'expert', 'manager')),
    -- requested: asked to join a "request" community; invited: a manager invited them.
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'requested', 'invited')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (community_id, user_id)
);
CREATE INDEX community_members_user_idx ON community_members (user_id, community_id);
CREATE INDEX community_members_status_idx ON community_members (community_id, status);

-- member_count follows active memberships in the same transaction.
CREATE FUNCTION community_members_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'active' THEN
        UPDATE communities SET member_count = member_count - 1 WHERE id = OLD.community_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'active' THEN
        UPDATE communities SET member_count = member_count + 1 WHERE id = NEW.community_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER community_members_count AFTER INSERT OR UPDATE OF status OR DELETE ON community_members
    FOR EACH ROW EXECUTE FUNCTION community_members_count();

-- Fixed one-minute windows for login attempts, shared by every worker and host.
CREATE UNLOGGED TABLE rate_limits (
    key text PRIMARY KEY,
    window_start timestamptz NOT NULL,
    hits integer NOT NULL
);
