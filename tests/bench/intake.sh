#!/usr/bin/env bash
# Signed intake throughput and latency: how many Standard Webhooks deliveries per second relais
# verifies, stores exactly once, triages (three perimeter rules, then community topics) and
# hands to routing (a question.route job each), with the demo data loaded.
#
#   make && tests/bench/intake.sh                  # 5 rounds of 10 s
#   ROUNDS=3 DURATION=5 tests/bench/intake.sh      # quicker
#
# What runs, all on 127.0.0.1, in a temporary directory removed on exit:
#   - a throwaway PostgreSQL 15 cluster (initdb defaults, fsync on, and the settings of relais's
#     embedded PostgreSQL: RELAIS_PG_SETTINGS), run as the postgres user;
#   - relais serve with RELAIS_BENCH_WORKERS workers (2), pool RELAIS_BENCH_POOL_SIZE (4), access
#     log and per-address rate limit off; `relais demo`, one api channel on billing-help with a
#     known secret, and three rules on billing-help (refuse, escalate, answer);
#   - for each round, N unique deliveries pre-signed by intake-sign.mjs (node:crypto; distinct
#     webhook ids and external ids, signed just before the round so their timestamps are
#     fresh), replayed by wrk (-t2 -c$CONNECTIONS, 8 by default) with intake.lua.
# Reports requests/s (202 answers over the run's duration), p50 and p99 per round and their
# medians; then waits for the routing jobs to be done and reports how long that took and the
# CPU per intake over the whole run, routing included. Target on the 2-core machine: >= 1,000 intakes/s, p99 <= 50 ms.
set -euo pipefail

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-8}   # = the workers' whole database pool (2 x 4): more only queue
THREADS=${THREADS:-2}
PER_ROUND=${PER_ROUND:-40000}     # signed deliveries per round: more than a round can send
EXPERTS=${EXPERTS:-100}           # benchmark experts added to the community (see below)
WORKERS=${RELAIS_BENCH_WORKERS:-2}
POOL_SIZE=${RELAIS_BENCH_POOL_SIZE:-4}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
# What relais's embedded PostgreSQL runs with beyond its defaults (docs/operations.md,
# "PostgreSQL settings"; tests/api/server.test.mjs keeps the three in step).
RELAIS_PG_SETTINGS="-c autovacuum_naptime=10s"
PG_STATS=${PG_STATS:-0}           # 1: load pg_stat_statements and print the costliest statements
PG_EXTRA=${PG_OPTIONS:-}   # more server options, e.g. "-c auto_explain.log_min_duration=5ms"
[[ $PG_STATS == 1 ]] && PG_EXTRA="$PG_EXTRA -c shared_preload_libraries=pg_stat_statements,auto_explain -c pg_stat_statements.track=all"

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$BENCH_DIR/../.." && pwd)
RELAIS=${RELAIS:-$REPO_ROOT/relais}

WORK=""
PG_DATA=""
RELAIS_PID=""

log() { printf '[intake-bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	set +e
	[[ -n ${CLOSER_PID:-} ]] && kill "$CLOSER_PID" 2>/dev/null
	if [[ -n $RELAIS_PID ]] && kill -0 "$RELAIS_PID" 2>/dev/null; then
		kill -TERM "$RELAIS_PID"
		for _ in $(seq 100); do kill -0 "$RELAIS_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$RELAIS_PID" 2>/dev/null
		wait "$RELAIS_PID" 2>/dev/null
	fi
	if [[ -n $PG_DATA && -f $PG_DATA/postmaster.pid ]]; then
		runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1
	fi
	if [[ -n ${KEEP_LOG:-} && -n $WORK ]]; then cp "$WORK/postgres.log" "$KEEP_LOG"; cp "$WORK/relais.log" "$KEEP_LOG.relais"; fi
	if [[ -n $WORK ]]; then rm -rf "$WORK"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for tool in wrk node curl runuser; do command -v "$tool" >/dev/null || die "$tool is required"; done
[[ -x $RELAIS ]] || die "build relais first ($RELAIS)"

# A port nobody listens on, below the ephemeral range (see run.sh).
free_port() {
	local port low
	read -r low _ </proc/sys/net/ipv4/ip_local_port_range
	while :; do
		port=$((10000 + RANDOM % (low - 10000)))
		ss -Htln "sport = :$port" | grep -q . || { echo "$port"; return; }
	done
}

psql_q() { "$PG_BIN/psql" -X -q -A -t -h 127.0.0.1 -p "$PG_PORT" -U postgres -d relais -v ON_ERROR_STOP=1 -c "$1"; }

WORK=$(mktemp -d /tmp/relais-intake-bench.XXXXXX)
chmod 755 "$WORK"
chown postgres: "$WORK" # initdb, the log and the socket are written as postgres
PG_PORT=$(free_port)
PG_DATA=$WORK/pg
mkdir -p "$PG_DATA" "$WORK/sock"
chown postgres "$PG_DATA" "$WORK/sock"
log "initdb + postgres on 127.0.0.1:$PG_PORT"
runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
	>"$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log" >&2; die "initdb failed"; }
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$WORK/postgres.log" -w \
	-o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$WORK/sock $RELAIS_PG_SETTINGS $PG_EXTRA" start >/dev/null ||
	{ cat "$WORK/postgres.log" >&2; die "postgres did not start"; }
"$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres relais
[[ $PG_STATS == 1 ]] && "$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d relais -c 'CREATE EXTENSION pg_stat_statements'
PG_URL="postgresql://postgres@127.0.0.1:$PG_PORT/relais"

RELAIS_PORT=$(free_port)
mkdir -p "$WORK/relais-data"
log "relais on 127.0.0.1:$RELAIS_PORT ($WORKERS workers, pool $POOL_SIZE each)"
RELAIS_LISTEN=127.0.0.1:$RELAIS_PORT RELAIS_DATABASE_URL=$PG_URL RELAIS_WORKERS=$WORKERS \
	RELAIS_DB_POOL_SIZE=$POOL_SIZE RELAIS_ACCESS_LOG=false RELAIS_RATE_LIMIT=0 \
	RELAIS_DATA_DIR=$WORK/relais-data "$RELAIS" serve >"$WORK/relais.log" 2>&1 &
RELAIS_PID=$!
for _ in $(seq 150); do
	curl -fsS -o /dev/null "http://127.0.0.1:$RELAIS_PORT/readyz" 2>/dev/null && break
	kill -0 "$RELAIS_PID" 2>/dev/null || { cat "$WORK/relais.log" >&2; die "relais exited"; }
	sleep 0.1
done
RELAIS_DATABASE_URL=$PG_URL "$RELAIS" demo >/dev/null || die "relais demo failed"

# The channel and its secret, and the rules, written directly: the benchmark measures intake.
SECRET_HEX=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
SECRET="whsec_$(printf '%s' "$SECRET_HEX" | xxd -r -p | base64 -w0)"
CHANNEL=$(psql_q "WITH c AS (INSERT INTO channels (kind, name, slug, community_id, language, sla_seconds, owner_user_id, created_by)
  SELECT 'api', 'Benchmark', 'bench', co.id, 'en', 3600, u.id, u.id FROM communities co, users u
  WHERE co.slug = 'billing-help' AND u.email = 'admin@relais.example' RETURNING id, community_id),
 s AS (INSERT INTO channel_secrets (channel_id, secret) SELECT id, decode('$SECRET_HEX', 'hex') FROM c)
 SELECT id FROM c")
# The demo's own rules on billing-help are replaced, so that every run measures the same three.
psql_q "DELETE FROM perimeter_rules WHERE community_id = (SELECT id FROM communities WHERE slug = 'billing-help');
 INSERT INTO perimeter_rules (community_id, position, name, keywords, action, canned_reply)
  SELECT id, 0, 'Gambling', '{casino,poker}', 'refuse', 'We do not answer this.' FROM communities WHERE slug = 'billing-help';
 INSERT INTO perimeter_rules (community_id, position, name, keywords, action, owner_user_id)
  SELECT c.id, 1, 'Legal', '{lawsuit,avocat}', 'escalate', u.id FROM communities c, users u
  WHERE c.slug = 'billing-help' AND u.email = 'admin@relais.example';
 INSERT INTO perimeter_rules (community_id, position, name, tags, action, topic)
  SELECT id, 2, 'Refunds', '{refunds}', 'answer', 'refunds' FROM communities WHERE slug = 'billing-help'" >/dev/null
# Experts who can take the load: the demo's few billing experts reach their weekly caps after
# a hundred questions, after which routing would only send questions to the triage queue.
# $EXPERTS more experts join billing-help, available at all hours, with the largest weekly cap
# and expertise on the benchmark's tags. While the rounds run, questions assigned more than two
# seconds ago are closed every second, as a team that keeps up would, so that each expert's
# open load stays near what people carry (about 20 each at 1,000 questions/s); that work is
# PostgreSQL's too and is counted in its CPU.
psql_q "WITH u AS (INSERT INTO users (email, display_name, languages, weekly_cap, working_hours)
   SELECT 'expert' || i || '@bench.example', 'Bench expert ' || i, '{en,fr}', 1000, '{}'
   FROM generate_series(1, $EXPERTS) i RETURNING id),
 m AS (INSERT INTO community_members (community_id, user_id, role)
   SELECT c.id, u.id, 'expert' FROM u, communities c WHERE c.slug = 'billing-help')
 INSERT INTO user_expertise (user_id, tag, level)
   SELECT u.id, t.tag, 1 + (u.id + t.n) % 5 FROM u,
   (VALUES ('billing', 1), ('invoices', 2), ('refunds', 3), ('payments', 4)) AS t (tag, n)" >/dev/null
CLOSER_PID=""
start_closer() {
	while sleep 1; do
		psql_q "UPDATE questions SET status = 'closed', updated_at = now()
		 WHERE status IN ('assigned', 'claimed', 'waiting_customer', 'escalated')
		  AND updated_at < now() - interval '2 seconds'" >/dev/null || break
	done &
	CLOSER_PID=$!
}
stop_closer() {
	[[ -n $CLOSER_PID ]] || return 0
	kill "$CLOSER_PID" 2>/dev/null || true
	wait "$CLOSER_PID" 2>/dev/null || true
	CLOSER_PID=""
}
URL="http://127.0.0.1:$RELAIS_PORT"
PATH_Q="/api/v1/channels/$CHANNEL/questions"

log "warm-up"
node "$BENCH_DIR/intake-sign.mjs" "$SECRET" 3000 warm >"$WORK/warm.tsv"
wrk -t"$THREADS" -c"$CONNECTIONS" -d3s -s "$BENCH_DIR/intake.lua" "$URL" -- "$PATH_Q" "$THREADS" "$WORK/warm.tsv" >/dev/null

# CPU time (user + system, clock ticks) of the relais workers and of this cluster's processes.
CLK_TCK=$(getconf CLK_TCK)
PG_PID=$(head -1 "$PG_DATA/postmaster.pid")
ticks_of() { local t=0 pid; for pid in "$@"; do [[ -r /proc/$pid/stat ]] && t=$((t + $(awk '{ print $14 + $15 }' "/proc/$pid/stat"))); done; echo "$t"; }
relais_ticks() { ticks_of $(pgrep -P "$RELAIS_PID"); }
pg_ticks() { ticks_of "$PG_PID" $(pgrep -P "$PG_PID"); }

start_closer
rates=(); p50s=(); p99s=(); relais_cpu=(); pg_cpu=(); all_intakes=0 all_created=0
all_r0=$(relais_ticks) all_g0=$(pg_ticks)
run_start=$(date +%s.%N)
printf '| round | intakes/s (202) | p50 ms | p99 ms | duplicates | other | CPU µs/intake: relais | PostgreSQL |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n'
for round in $(seq "$ROUNDS"); do
	node "$BENCH_DIR/intake-sign.mjs" "$SECRET" "$PER_ROUND" "r$round-$$" >"$WORK/round.tsv"
	r0=$(relais_ticks); g0=$(pg_ticks)
	line=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$BENCH_DIR/intake.lua" "$URL" -- \
		"$PATH_Q" "$THREADS" "$WORK/round.tsv" | grep '^INTAKE')
	r1=$(relais_ticks); g1=$(pg_ticks)
	kill -0 "$RELAIS_PID" 2>/dev/null || die "relais died during round $round"
	eval "$(sed -E 's/^INTAKE //' <<<"$line")" # created= duplicate= other= seconds= p50_ms= p99_ms=
	rate=$(awk -v c="$created" -v s="$seconds" 'BEGIN { printf "%.0f", c / s }')
	total=$((created + duplicate + other))
	rc=$(awk -v t=$((r1 - r0)) -v n="$total" -v hz="$CLK_TCK" 'BEGIN { printf "%.0f", t * 1e6 / hz / n }')
	gc=$(awk -v t=$((g1 - g0)) -v n="$total" -v hz="$CLK_TCK" 'BEGIN { printf "%.0f", t * 1e6 / hz / n }')
	all_intakes=$((all_intakes + total))
	all_created=$((all_created + created))
	rates+=("$rate"); p50s+=("$p50_ms"); p99s+=("$p99_ms"); relais_cpu+=("$rc"); pg_cpu+=("$gc")
	printf '| %d | %s | %s | %s | %s | %s | %s | %s |\n' "$round" "$rate" "$p50_ms" "$p99_ms" "$duplicate" "$other" "$rc" "$gc"
done
# Routing runs after the answer (a job): the rounds alone do not show whether it keeps up.
# Wait until every routing job is done, then count the CPU of the whole run, routing included.
drain_start=$(date +%s.%N)
backlog=$(psql_q "SELECT count(*) FROM jobs WHERE kind = 'question.route'")
for _ in $(seq 1200); do
	[[ $(psql_q "SELECT count(*) FROM jobs WHERE kind = 'question.route'") == 0 ]] && break
	sleep 0.1
done
run_end=$(date +%s.%N)
drain_s=$(awk -v a="$drain_start" -v b="$run_end" 'BEGIN { printf "%.1f", b - a }')
wall_s=$(awk -v a="$run_start" -v b="$run_end" 'BEGIN { printf "%.1f", b - a }')
left=$(psql_q "SELECT count(*) FROM jobs WHERE kind = 'question.route'")
stop_closer
all_r1=$(relais_ticks) all_g1=$(pg_ticks)
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
printf '\n**median of %d rounds**: %s intakes/s, p50 %s ms, p99 %s ms; CPU per intake: relais %s µs, PostgreSQL %s µs\n' \
	"$ROUNDS" "$(median "${rates[@]}")" "$(median "${p50s[@]}")" "$(median "${p99s[@]}")" "$(median "${relais_cpu[@]}")" \
	"$(median "${pg_cpu[@]}")"
printf 'routing: %s jobs pending after the last round, done %s s later (%s left)\n' "$backlog" "$drain_s" "$left"
# The rate that holds when routing has to keep up: every question of the rounds stored,
# triaged and routed, over the wall-clock time from the start of the first round to the end
# of routing (the short pauses between rounds, while the next round is signed, included).
printf '**sustained, routing included**: %s questions/s (%s created; %s s from the first round to the end of routing, %s s of it after the last round)\n' \
	"$(awk -v n="$all_created" -v w="$wall_s" 'BEGIN { printf "%.0f", n / w }')" \
	"$all_created" "$wall_s" "$drain_s"
printf 'CPU per intake over the whole run, routing included: relais %s µs, PostgreSQL %s µs\n' \
	"$(awk -v t=$((all_r1 - all_r0)) -v n="$all_intakes" -v hz="$CLK_TCK" 'BEGIN { printf "%.0f", t * 1e6 / hz / n }')" \
	"$(awk -v t=$((all_g1 - all_g0)) -v n="$all_intakes" -v hz="$CLK_TCK" 'BEGIN { printf "%.0f", t * 1e6 / hz / n }')"
printf 'load average: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'questions stored: %s; routed to an expert: %s; question.route jobs: %s; statuses: %s\n' \
	"$(psql_q 'SELECT count(*) FROM questions')" \
	"$(psql_q 'SELECT count(*) FROM question_routes WHERE rank = 1')" \
	"$(psql_q "SELECT count(*) FROM jobs WHERE kind = 'question.route'")" \
	"$(psql_q "SELECT string_agg(status || '=' || n, ', ') FROM (SELECT status, count(*) n FROM questions GROUP BY 1 ORDER BY 1) s")"
if [[ $PG_STATS == 1 ]]; then
	printf '\nCostliest statements (pg_stat_statements, whole run):\n'
	psql_q "SELECT round(total_exec_time)::text || ' ms | ' || calls || ' calls | ' || round((total_exec_time / calls)::numeric, 3) || ' ms/call | ' || left(regexp_replace(query, '\s+', ' ', 'g'), 110)
	 FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 15"
fi
if [[ ${HOLD:-0} == 1 ]]; then
	log "holding the cluster for inspection: psql -h 127.0.0.1 -p $PG_PORT -U postgres relais (Ctrl-C ends)"
	sleep infinity
fi
