#!/usr/bin/env bash
# Relais throughput, latency and memory benchmark, with baselines measured in the same run.
#
#   make && tests/bench/run.sh                 # 5 rounds
#   ROUNDS=3 DURATION=5 tests/bench/run.sh     # quicker
#
# What runs, all on 127.0.0.1, in a temporary directory removed on exit:
#   - a throwaway PostgreSQL 15 cluster (initdb defaults: fsync on; the port, the listen
#     address, the socket directory and the settings of relais's embedded PostgreSQL,
#     RELAIS_PG_SETTINGS, are set; trust authentication, UTF-8), with the demo
#     data (`relais demo`, its open questions routed to experts by relais's routing jobs);
#   - relais serve: RELAIS_BENCH_WORKERS workers (2), access log off, rate limit off, database
#     pool of RELAIS_BENCH_POOL_SIZE connections per worker (4);
#   - nginx: 2 worker processes answering the same 16-byte body with about the same headers;
#   - pgbench: the SQL of /readyz (SELECT 1, prepared) over as many connections as relais's
#     whole pool (workers x pool size), 2 threads;
#   - the expert inbox, GET /api/v1/questions?scope=mine&limit=50 (what the web app's inbox
#     page asks for), with the session cookie of the demo expert who holds the most open
#     questions, as a browser sends it (an API token is not a person: its "mine" list is
#     empty); checked to answer 200 with items before anything is measured;
#   - pgbench running the statements relais runs for one inbox request (below), same
#     connections and threads as for SELECT 1.
# Each round runs wrk against nginx, relais /healthz, /readyz and the inbox, and pgbench with
# each script; the order rotates from round to round so that slow drift on this shared machine
# does not always hit the same target. Medians over the rounds are reported, with the ratios
# that matter: relais /healthz / nginx (target >= 0.8), relais /readyz / pgbench SELECT 1 and
# relais inbox / pgbench inbox (target >= 0.85 each).
# Each relais worker's resident memory (VmRSS) is read idle and sampled every 0.5 s under load.
#
# The inbox baseline, and why it is fair. Its SQL is not typed in here: for one inbox request,
# log_statement = 'all' is turned on (then off again) and PostgreSQL logs every statement
# relais executes with its parameter values; captured-sql.mjs turns them into the pgbench
# script, and psql checks that the script's statements return rows (the last one as many as
# the inbox has items). Today these are the session lookup (auth_session, which also
# refreshes last_seen_at at most once a minute: same session, same rows, for both) and the
# inbox query (questions_mine). relais sends each as its own batch -- Bind, Execute and one
# Sync, so one implicit transaction and one round trip, the second once the first has
# answered -- which is exactly what pgbench -M prepared does with two SQL commands in a row
# (statements relais pipelines in one batch would share a transaction: the script would put
# them in one \startpipeline group). Same values (token hash, user, limit 50), same number
# of connections (workers x pool size), same session settings as relais's pool connections
# (statement_timeout, TimeZone, DateStyle, via PGOPTIONS). The one difference favours
# pgbench: a pgbench variable cannot be NULL, so the optional filters relais sends as NULL
# parameters are typed NULL literals that PostgreSQL's planner folds away. What relais adds is
# the HTTP request, reading the cookie, and turning the rows into JSON: what the ratio is for.
#
# CPU placement (PLACEMENT). "split", the default on 2 CPUs or more: what is measured (nginx,
# relais, PostgreSQL) runs on the first half of the CPUs and the load generators (wrk,
# pgbench) on the other half, as a load generator on its own machine would -- so that wrk's
# CPU is not counted against relais, nor pgbench's client against PostgreSQL. The inbox's
# server half then holds relais and PostgreSQL, the baseline's PostgreSQL alone: relais's own
# CPU per request counts against it, pgbench's client's does not. "shared": nothing is pinned,
# the load generators and the servers share every CPU (the figures before 2026-12-03).
#
# Output: Markdown tables on stdout (medians, ratios, memory, CPU per request), raw numbers in
# tests/bench/results/latest.json. See tests/bench/README.md.
set -euo pipefail

# --- settings -----------------------------------------------------------------------------

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10}            # seconds per measured run
WARMUP=${WARMUP:-3}                 # seconds of unrecorded load per target before round 1
CONNECTIONS=${CONNECTIONS:-64}      # wrk connections
THREADS=${THREADS:-2}               # wrk and pgbench threads
WORKERS=${RELAIS_BENCH_WORKERS:-2}
POOL_SIZE=${RELAIS_BENCH_POOL_SIZE:-4}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
# What relais's embedded PostgreSQL runs with beyond its defaults (docs/operations.md,
# "PostgreSQL settings"; tests/api/server.test.mjs keeps the three in step).
RELAIS_PG_SETTINGS="-c autovacuum_naptime=10s"
NGINX=${NGINX:-/usr/sbin/nginx}
INBOX_PATH='/api/v1/questions?scope=mine&limit=50'  # as the web app's inbox page asks

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$BENCH_DIR/../.." && pwd)
RELAIS=${RELAIS:-$REPO_ROOT/relais}
RESULTS_DIR=$REPO_ROOT/tests/bench/results

NCPU=$(nproc)
PLACEMENT=${PLACEMENT:-$( ((NCPU >= 2)) && echo split || echo shared)}
case $PLACEMENT in
split)
	((NCPU >= 2)) || { echo "PLACEMENT=split needs 2 CPUs or more" >&2; exit 2; }
	cpus() { (($1 == $2)) && echo "$1" || echo "$1-$2"; }
	SERVER_CPUS=$(cpus 0 $((NCPU / 2 - 1)))
	LOAD_CPUS=$(cpus $((NCPU / 2)) $((NCPU - 1)))
	ON_SERVER_CPUS=(taskset -c "$SERVER_CPUS")
	ON_LOAD_CPUS=(taskset -c "$LOAD_CPUS")
	;;
shared) SERVER_CPUS=all LOAD_CPUS=all ON_SERVER_CPUS=() ON_LOAD_CPUS=() ;;
*) echo "PLACEMENT must be split or shared" >&2; exit 2 ;;
esac
PG_CLIENTS=$((WORKERS * POOL_SIZE))  # same number of database connections as relais's pool
# relais's query deadline, set explicitly so that the inbox baseline can use the session
# settings relais's pool connections get (server/db/pool.c: the server's statement_timeout is
# the deadline + 100 ms, UTC, ISO dates).
DB_QUERY_TIMEOUT_MS=2000
RELAIS_PG_OPTIONS="-c statement_timeout=$((DB_QUERY_TIMEOUT_MS + 100)) -c TimeZone=UTC -c DateStyle=ISO"
CLK_TCK=$(getconf CLK_TCK)

WORK=""             # temporary directory
PG_DATA=""
RELAIS_PID=""       # supervisor
NGINX_PID=""        # master
SAMPLER_PID=""
WORKER_PIDS=()

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- cleanup ------------------------------------------------------------------------------

# Runs on every exit, including Ctrl-C (INT/TERM exit through here too). Each step tolerates
# the thing it stops not having started.
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	set +e
	if [[ -n $SAMPLER_PID ]]; then kill "$SAMPLER_PID" 2>/dev/null; wait "$SAMPLER_PID" 2>/dev/null; fi
	if [[ -n $RELAIS_PID ]]; then stop_pid "$RELAIS_PID" TERM relais; fi
	if [[ -n $NGINX_PID ]]; then stop_pid "$NGINX_PID" QUIT nginx; fi
	if [[ -n $PG_DATA && -f $PG_DATA/postmaster.pid ]]; then
		runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1
	fi
	if [[ -n $WORK ]]; then rm -rf "$WORK"; fi
	exit "$rc"
}

# Sends a signal and waits up to 10 s, then SIGKILL.
stop_pid() {
	local pid=$1 sig=$2 name=$3
	kill -0 "$pid" 2>/dev/null || return 0
	kill "-$sig" "$pid" 2>/dev/null
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
		sleep 0.1
	done
	log "$name ($pid) did not stop; killing it"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- helpers ------------------------------------------------------------------------------

need() { command -v "$1" >/dev/null 2>&1 || die "$1 is required"; }

# A TCP port nobody listens on (other engineers' servers share this machine), taken below
# the ephemeral range: a port inside it can be grabbed by any outgoing connection (wrk's, a
# database client's, even a TCP self-connect while a server restarts) and then fail to bind.
free_port() {
	local port low
	read -r low _ </proc/sys/net/ipv4/ip_local_port_range
	((low > 12000)) || die "the ephemeral port range starts at $low; no room for private ports below it"
	while :; do
		port=$((10000 + RANDOM % (low - 10000)))
		if ! ss -Htln "sport = :$port" | grep -q .; then
			echo "$port"
			return
		fi
	done
}

wait_http() {
	local url=$1
	for _ in $(seq 100); do
		curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
		sleep 0.1
	done
	die "$url did not answer"
}

# Resident memory of a process in KiB.
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# wrk prints latencies as 812.00us, 1.23ms or 1.01s; we keep milliseconds.
to_ms() {
	awk -v v="$1" 'BEGIN {
		if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
		else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
		else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.3f", v * 60000 }
		else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
		else { printf "%.3f", v } }'
}

# --- setup --------------------------------------------------------------------------------

start_postgres() {
	PG_PORT=$(free_port)
	PG_DATA=$WORK/pg
	log "initdb + postgres on 127.0.0.1:$PG_PORT (fsync on, defaults otherwise)"
	# PostgreSQL refuses to run as root: the cluster belongs to the postgres user.
	runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
		>"$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log" >&2; die "initdb failed"; }
	"${ON_SERVER_CPUS[@]}" runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$WORK/postgres.log" -w \
		-o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$WORK $RELAIS_PG_SETTINGS" start >/dev/null ||
		{ cat "$WORK/postgres.log" >&2; die "postgres did not start"; }
	PG_URL="postgresql://postgres@127.0.0.1:$PG_PORT/relais"
	"$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres relais
}

start_relais() {
	RELAIS_PORT=$(free_port)
	mkdir -p "$WORK/relais-data"
	log "relais on 127.0.0.1:$RELAIS_PORT ($WORKERS workers, pool $POOL_SIZE each)"
	# The per-address rate limit would answer most of the load with 429 (every request comes
	# from 127.0.0.1): turn it off; a binary without that setting only warns about the variable.
	RELAIS_LISTEN=127.0.0.1:$RELAIS_PORT RELAIS_DATABASE_URL=$PG_URL RELAIS_WORKERS=$WORKERS \
		RELAIS_DB_POOL_SIZE=$POOL_SIZE RELAIS_DB_QUERY_TIMEOUT=${DB_QUERY_TIMEOUT_MS}ms \
		RELAIS_ACCESS_LOG=false RELAIS_RATE_LIMIT=0 \
		RELAIS_DATA_DIR=$WORK/relais-data "${ON_SERVER_CPUS[@]}" "$RELAIS" serve >"$WORK/relais.log" 2>&1 &
	RELAIS_PID=$!
	for _ in $(seq 100); do
		grep -q 'serving http://' "$WORK/relais.log" && break
		kill -0 "$RELAIS_PID" 2>/dev/null || { cat "$WORK/relais.log" >&2; die "relais exited"; }
		sleep 0.1
	done
	wait_http "http://127.0.0.1:$RELAIS_PORT/readyz"
	mapfile -t WORKER_PIDS < <(pgrep -P "$RELAIS_PID" | sort -n)
	((${#WORKER_PIDS[@]} == WORKERS)) || die "expected $WORKERS relais workers, found ${#WORKER_PIDS[@]}"
}

# nginx answers the same body with the headers relais sends on every answer (same count,
# similar bytes), so that both write comparable responses. Keep-alive requests are not capped
# (nginx closes after 1000 by default, relais never does) and each worker has its own
# SO_REUSEPORT socket, as relais's workers do.
start_nginx() {
	NGINX_PORT=$(free_port)
	mkdir -p "$WORK/nginx"
	local csp
	# The headers relais sends with a JSON answer (pages get a longer policy and two more).
	csp="default-src 'none'; frame-ancestors 'none'"
	cat >"$WORK/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 2;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_timeout 5s;
    keepalive_requests 1000000;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT reuseport;
        location = /healthz {
            default_type "application/json; charset=utf-8";
            add_header X-Request-Id \$request_id;
            add_header X-Content-Type-Options nosniff;
            add_header Referrer-Policy no-referrer;
            add_header Content-Security-Policy "$csp";
            add_header Cache-Control no-store;
            return 200 '{"status":"ok"}\n';
        }
    }
}
EOF
	log "nginx on 127.0.0.1:$NGINX_PORT (2 workers)"
	"${ON_SERVER_CPUS[@]}" "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" >"$WORK/nginx/stdout.log" 2>&1 &
	NGINX_PID=$!
	wait_http "http://127.0.0.1:$NGINX_PORT/healthz"
	local body
	body=$(curl -fsS "http://127.0.0.1:$NGINX_PORT/healthz")
	[[ $body == '{"status":"ok"}' ]] || die "nginx answers '$body'"
}

# --- the inbox ----------------------------------------------------------------------------

psql_q() { "$PG_BIN/psql" -X -q -A -t -h 127.0.0.1 -p "$PG_PORT" -U postgres -d relais -v ON_ERROR_STOP=1 "$@"; }

# The demo data, with its open questions assigned to experts by relais's own routing jobs.
# Sets DEMO_PASSWORD (the one `relais demo` gives every demo account).
load_demo() {
	log "relais demo, then its routing jobs"
	local out
	out=$(RELAIS_DATABASE_URL=$PG_URL "$RELAIS" demo) || die "relais demo failed"
	DEMO_PASSWORD=$(sed -n 's/.*(password for all: \(.*\)):$/\1/p' <<<"$out")
	[[ -n $DEMO_PASSWORD ]] || die "relais demo did not print the demo password"
	wait_no_job_due
}

# Until no job is due or running: routing is done, and while statements are captured or
# measured nothing runs beside the requests but the job runner's poll. A claimed job is still
# pending, its run_at moved to the end of its lease: it counts while locked_until is ahead.
wait_no_job_due() {
	local due="FROM jobs WHERE status = 'pending' AND (run_at <= now() OR locked_until > now())"
	for _ in $(seq 300); do
		[[ $(psql_q -c "SELECT count(*) $due") == 0 ]] && return 0
		sleep 0.1
	done
	die "jobs still due or running after 30 s: $(psql_q -c "SELECT string_agg(kind, ', ') $due")"
}

# Signs in (POST /api/v1/session, as the web app does) as the active user who holds the most
# open questions. Sets INBOX_EMAIL and INBOX_COOKIE (name=value, as a browser sends it back).
sign_in_expert() {
	INBOX_EMAIL=$(psql_q -c "SELECT u.email FROM users u JOIN questions q ON u.id IN (q.assignee_id, q.claimed_by)
	  WHERE q.status IN ('assigned', 'claimed', 'waiting_customer', 'escalated') AND u.status = 'active'
	  GROUP BY u.id ORDER BY count(*) DESC, u.id LIMIT 1")
	[[ -n $INBOX_EMAIL ]] || die "nobody holds an open question after relais demo and routing"
	local headers
	headers=$(curl -fsS -o /dev/null -D - -H 'Content-Type: application/json' \
		--data "$(jq -nc --arg e "$INBOX_EMAIL" --arg p "$DEMO_PASSWORD" '{email: $e, password: $p}')" \
		"http://127.0.0.1:$RELAIS_PORT/api/v1/session") || die "signing in as $INBOX_EMAIL failed"
	INBOX_COOKIE=$(tr -d '\r' <<<"$headers" | sed -n 's/^set-cookie: \([^;]*\);.*/\1/Ip' | head -1)
	[[ $INBOX_COOKIE == *=?* ]] || die "no session cookie in the sign-in answer"
}

# GETs the inbox once: it must answer 200 with items. Sets INBOX_ITEMS.
check_inbox() {
	local out status body
	out=$(curl -sS -w '\n%{http_code}' -H "Cookie: $INBOX_COOKIE" "$INBOX_URL") || die "GET $INBOX_PATH failed"
	status=${out##*$'\n'}
	body=${out%$'\n'*}
	[[ $status == 200 ]] || die "GET $INBOX_PATH as $INBOX_EMAIL answered $status: $body"
	INBOX_ITEMS=$(jq '.items | length' <<<"$body") || die "GET $INBOX_PATH: not JSON: $body"
	((INBOX_ITEMS > 0)) || die "the inbox of $INBOX_EMAIL is empty: $body"
}

# Captures the statements relais runs for one inbox request (PostgreSQL's statement log, on
# for that request only) and writes the pgbench script that replays them: see the header and
# captured-sql.mjs. Sets INBOX_PGBENCH_ARGS (the -D values) and INBOX_STATEMENTS.
capture_inbox_sql() {
	local pglog=$WORK/postgres.log start end
	psql_q -c "ALTER SYSTEM SET log_statement = 'all'" -c "ALTER SYSTEM SET log_line_prefix = '%p %v '" \
		-c "SELECT pg_reload_conf()" >/dev/null
	sleep 0.5 # the postmaster passes the reload on to every backend
	start=$(stat -c %s "$pglog")
	check_inbox
	sleep 0.2
	end=$(stat -c %s "$pglog")
	psql_q -c "ALTER SYSTEM RESET log_statement" -c "ALTER SYSTEM RESET log_line_prefix" -c "SELECT pg_reload_conf()" >/dev/null
	tail -c +$((start + 1)) "$pglog" | head -c $((end - start)) >"$WORK/inbox-capture.log"
	mkdir -p "$WORK/inbox"
	INBOX_STATEMENTS=$(node "$BENCH_DIR/captured-sql.mjs" "$WORK/inbox-capture.log" "$WORK/inbox" \
		"$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d relais) || die "cannot build the inbox pgbench script"
	log "inbox statements (name, batch, parameters):"
	while read -r line; do log "  $line"; done <<<"$INBOX_STATEMENTS"
	# What pgbench will run returns what relais got: every statement rows (the session was
	# found), the last one as many as the inbox has items.
	local rows n
	mapfile -t rows < <(psql_q -f "$WORK/inbox/check.sql" | sed -n 's/^ROWS //p')
	((${#rows[@]} == $(wc -l <<<"$INBOX_STATEMENTS"))) || die "the check of the captured statements did not run them all"
	for n in "${rows[@]}"; do ((n > 0)) || die "a captured statement returns no row: ${rows[*]}"; done
	((rows[-1] == INBOX_ITEMS)) || die "the captured list returns ${rows[-1]} rows, the inbox $INBOX_ITEMS items"
	INBOX_PGBENCH_ARGS=()
	local v
	while read -r v; do [[ -z $v ]] || INBOX_PGBENCH_ARGS+=(-D "$v"); done <"$WORK/inbox/pgbench.vars"
}

setup_inbox() {
	INBOX_URL="http://127.0.0.1:$RELAIS_PORT$INBOX_PATH"
	load_demo
	sign_in_expert
	check_inbox
	log "inbox: $INBOX_PATH as $INBOX_EMAIL: $INBOX_ITEMS items"
	capture_inbox_sql
}

# --- measuring ----------------------------------------------------------------------------

# CPU time in clock ticks of the given processes (utime + stime from /proc/PID/stat). With
# "+children", the time of their children already reaped (cutime + cstime) is added: that is
# where pgbench's backends end up, since they exit with pgbench.
proc_ticks() {
	local children=$1 pid
	shift
	for pid in "$@"; do
		# Fields after the ") " that closes the command name: utime is the 12th.
		sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null || true
	done | awk -v c="$children" '{t += $12 + $13; if (c == "+children") t += $14 + $15} END {print t + 0}'
}

# "relais nginx postgres" CPU ticks so far: relais workers, nginx workers, and the whole
# PostgreSQL cluster (postmaster, its live children and the ones it has reaped).
cpu_snapshot() {
	local pm
	pm=$(head -1 "$PG_DATA/postmaster.pid")
	local pg_live
	mapfile -t pg_live < <(pgrep -P "$pm")
	echo "$(proc_ticks self "${WORKER_PIDS[@]}") $(proc_ticks self $(pgrep -P "$NGINX_PID")) \
$(($(proc_ticks +children "$pm") + $(proc_ticks self "${pg_live[@]}")))"
}

# Microseconds of CPU per request: ticks_before ticks_after requests.
us_per_req() {
	awk -v b="$1" -v a="$2" -v n="$3" -v hz="$CLK_TCK" 'BEGIN {printf "%.2f", (a - b) / hz * 1e6 / n}'
}

# Runs a load generator between two CPU snapshots, itself under /usr/bin/time: on a shared
# 2-core machine its own CPU is part of the picture. Sets OUT (its output), CPU_BEFORE,
# CPU_AFTER and CLIENT_TICKS.
measure() {
	CPU_BEFORE=$(cpu_snapshot)
	OUT=$(/usr/bin/time -f '%U %S' -o "$WORK/client.time" "$@" 2>&1) || { printf '%s\n' "$OUT" >&2; die "$1 failed"; }
	CPU_AFTER=$(cpu_snapshot)
	CLIENT_TICKS=$(awk -v hz="$CLK_TCK" '{printf "%d", ($1 + $2) * hz}' "$WORK/client.time")
}

# Appends the per-request CPU of each party to a run record (jq filter input on stdin).
add_cpu() {
	local requests=$1
	local b a
	read -r -a b <<<"$CPU_BEFORE"
	read -r -a a <<<"$CPU_AFTER"
	jq -c --argjson relais "$(us_per_req "${b[0]}" "${a[0]}" "$requests")" \
		--argjson nginx "$(us_per_req "${b[1]}" "${a[1]}" "$requests")" \
		--argjson postgres "$(us_per_req "${b[2]}" "${a[2]}" "$requests")" \
		--argjson client "$(us_per_req 0 "$CLIENT_TICKS" "$requests")" \
		'. + {cpu_us_per_req: {relais_workers: $relais, nginx_workers: $nginx, postgres: $postgres, load_generator: $client}}'
}

# relais must still be the one we started: a crash (or someone else's cleanup on this shared
# machine) would otherwise show up as connection errors in the numbers.
check_relais() {
	local pid
	for pid in "$RELAIS_PID" "${WORKER_PIDS[@]}"; do
		kill -0 "$pid" 2>/dev/null || die "relais process $pid is gone; see $WORK/relais.log"
	done
}

# One wrk run (target, URL, round, then more wrk arguments such as a header); appends one
# JSON record to $RAW. Non-2xx answers or socket errors are kept in the record and reported,
# since a fast error is not a served request.
run_wrk() {
	local target=$1 url=$2 round=$3
	shift 3
	measure "${ON_LOAD_CPUS[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@" "$url"
	local rps p99 p50 non2xx errors requests
	rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$OUT")
	requests=$(awk '/ requests in / {print $1}' <<<"$OUT")
	p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$OUT")")
	p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$OUT")")
	non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$OUT")
	errors=$(awk '/Socket errors:/ {n = 0; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) n += $i; print n}' <<<"$OUT")
	[[ -n $rps && -n $p99 && -n $requests ]] || { printf '%s\n' "$OUT" >&2; die "cannot read wrk output"; }
	if [[ -n $non2xx || -n $errors ]]; then
		log "warning: $target: non-2xx=${non2xx:-0} socket errors=${errors:-0} of $requests"
		# A few errors are worth reporting; more than 0.1% means we measured something else.
		((${non2xx:-0} + ${errors:-0} <= requests / 1000)) || die "$target: too many failed requests"
	fi
	jq -nc --arg target "$target" --argjson round "$round" --argjson rps "$rps" --argjson p50 "$p50" \
		--argjson p99 "$p99" --argjson non2xx "${non2xx:-0}" --argjson errors "${errors:-0}" \
		--argjson requests "$requests" \
		'{target: $target, round: $round, rps: $rps, requests: $requests, p50_ms: $p50, p99_ms: $p99,
		  non2xx: $non2xx, socket_errors: $errors}' | add_cpu "$requests" >>"$RAW"
	log "round $round $target: $rps req/s, p99 $p99 ms"
}

# One pgbench run: target, round, script, the session options (PGOPTIONS), then more pgbench
# arguments (-D values). One transaction of the script counts as one request. pgbench has no
# percentile report, so a 1% sample of transactions is logged (negligible cost) and p50/p99
# come from it.
run_pgbench() {
	local target=$1 round=$2 script=$3 logdir
	local -x PGOPTIONS=$4
	shift 4
	logdir=$WORK/pgbench-log-$target-$round
	mkdir -p "$logdir"
	measure "${ON_LOAD_CPUS[@]}" "$PG_BIN/pgbench" -h 127.0.0.1 -p "$PG_PORT" -U postgres -n -M prepared \
		-c "$PG_CLIENTS" -j "$THREADS" -T "$DURATION" -f "$script" "$@" \
		--log --sampling-rate=0.01 --log-prefix="$logdir/pgbench" relais
	local tps failed p50 p99 requests
	tps=$(awk '/^tps = / {print $3}' <<<"$OUT")
	requests=$(awk '/^number of transactions actually processed:/ {print $NF}' <<<"$OUT")
	failed=$(awk '/^number of failed transactions:/ {print $5}' <<<"$OUT")
	[[ -n $tps && -n $requests ]] || { printf '%s\n' "$OUT" >&2; die "cannot read pgbench output"; }
	# Field 3 of the per-transaction log is the latency in microseconds.
	read -r p50 p99 < <(cat "$logdir"/pgbench.* | awk '{print $3}' | sort -n |
		awk '{v[NR] = $1} END { i50 = int(NR * 0.50); i99 = int(NR * 0.99); if (i50 < 1) i50 = 1; if (i99 < 1) i99 = 1;
			printf "%.3f %.3f\n", v[i50] / 1000, v[i99] / 1000 }')
	rm -rf "$logdir"
	((${failed:-0} == 0)) || die "$target: $failed failed transactions"
	jq -nc --arg target "$target" --argjson round "$round" --argjson rps "$tps" --argjson p50 "$p50" \
		--argjson p99 "$p99" --argjson failed "${failed:-0}" --argjson requests "$requests" \
		'{target: $target, round: $round, rps: $rps, requests: $requests, p50_ms: $p50, p99_ms: $p99,
		  failed: $failed}' | add_cpu "$requests" >>"$RAW"
	log "round $round $target: $tps tps, p99 $p99 ms"
}

# Samples every worker's VmRSS every 0.5 s, tagged with the load being run, until killed.
start_sampler() {
	local phase=$1
	(
		while :; do
			for pid in "${WORKER_PIDS[@]}"; do
				kb=$(rss_kib "$pid" 2>/dev/null) || continue
				echo "$phase $pid $kb"
			done
			sleep 0.5
		done
	) >>"$WORK/rss.samples" &
	SAMPLER_PID=$!
}

stop_sampler() {
	kill "$SAMPLER_PID" 2>/dev/null || true
	wait "$SAMPLER_PID" 2>/dev/null || true
	SAMPLER_PID=""
}

run_target() {
	local target=$1 round=$2
	case $target in
	nginx) run_wrk nginx "http://127.0.0.1:$NGINX_PORT/healthz" "$round" ;;
	healthz | readyz)
		start_sampler "$target"
		run_wrk "relais_$target" "http://127.0.0.1:$RELAIS_PORT/$target" "$round"
		stop_sampler
		check_relais
		;;
	inbox)
		start_sampler inbox
		run_wrk relais_inbox "$INBOX_URL" "$round" -H "Cookie: $INBOX_COOKIE"
		stop_sampler
		check_relais
		;;
	pgbench) run_pgbench pgbench "$round" "$WORK/select1.sql" "" ;;
	pgbench_inbox) run_pgbench pgbench_inbox "$round" "$WORK/inbox/pgbench.sql" "$RELAIS_PG_OPTIONS" "${INBOX_PGBENCH_ARGS[@]}" ;;
	esac
}

warm_up() {
	log "warm-up: ${WARMUP}s per target, not recorded"
	"${ON_LOAD_CPUS[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" "http://127.0.0.1:$NGINX_PORT/healthz" >/dev/null
	"${ON_LOAD_CPUS[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" "http://127.0.0.1:$RELAIS_PORT/healthz" >/dev/null
	"${ON_LOAD_CPUS[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" "http://127.0.0.1:$RELAIS_PORT/readyz" >/dev/null
	"${ON_LOAD_CPUS[@]}" "$PG_BIN/pgbench" -h 127.0.0.1 -p "$PG_PORT" -U postgres -n -M prepared -c "$PG_CLIENTS" -j "$THREADS" \
		-T "$WARMUP" -f "$WORK/select1.sql" relais >/dev/null 2>&1
	"${ON_LOAD_CPUS[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -H "Cookie: $INBOX_COOKIE" "$INBOX_URL" >/dev/null
	PGOPTIONS=$RELAIS_PG_OPTIONS "${ON_LOAD_CPUS[@]}" "$PG_BIN/pgbench" -h 127.0.0.1 -p "$PG_PORT" -U postgres -n -M prepared \
		-c "$PG_CLIENTS" -j "$THREADS" -T "$WARMUP" -f "$WORK/inbox/pgbench.sql" "${INBOX_PGBENCH_ARGS[@]}" \
		relais >/dev/null 2>&1
}

# --- report -------------------------------------------------------------------------------

# Builds latest.json from the raw records, the memory samples and the environment.
write_json() {
	local mem
	mem=$(awk '{print "{\"phase\":\"" $1 "\",\"pid\":" $2 ",\"kib\":" $3 "}"}' "$WORK/rss.samples" | jq -sc '.')
	jq -s \
		--arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
		--arg cpu "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)" \
		--argjson nproc "$(nproc)" \
		--arg kernel "$(uname -r)" \
		--arg mem "$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)" \
		--arg debian "$(cat /etc/debian_version 2>/dev/null || echo unknown)" \
		--arg relais "$("$RELAIS" version 2>&1 | head -1)" \
		--arg postgres "$("$PG_BIN/postgres" --version)" \
		--arg nginx "$("$NGINX" -v 2>&1)" \
		--arg wrk "$(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)" \
		--arg loadavg "$(cut -d' ' -f1-3 /proc/loadavg)" --arg loadavg_start "$LOADAVG_START" \
		--argjson rounds "$ROUNDS" --argjson duration "$DURATION" --argjson connections "$CONNECTIONS" \
		--argjson threads "$THREADS" --argjson workers "$WORKERS" --argjson pool "$POOL_SIZE" \
		--argjson pg_clients "$PG_CLIENTS" \
		--arg placement "$PLACEMENT" --arg server_cpus "$SERVER_CPUS" --arg load_cpus "$LOAD_CPUS" \
		--arg inbox_path "$INBOX_PATH" --arg inbox_user "$INBOX_EMAIL" --argjson inbox_items "$INBOX_ITEMS" \
		--arg inbox_statements "$INBOX_STATEMENTS" --arg pg_options "$RELAIS_PG_OPTIONS" \
		--argjson idle "$IDLE_JSON" --argjson after "$AFTER_JSON" --argjson samples "$mem" '
		def median: sort | if length == 0 then null
			elif length % 2 == 1 then .[length / 2 | floor]
			else (.[length / 2 - 1] + .[length / 2]) / 2 end;
		. as $runs
		| ([$runs[].target] | unique) as $targets
		| (reduce $targets[] as $t ({}; [$runs[] | select(.target == $t)] as $r | .[$t] = {
			rps: [$r[].rps] | median,
			p50_ms: [$r[].p50_ms] | median,
			p99_ms: [$r[].p99_ms] | median,
			cpu_us_per_req: (reduce ($r[0].cpu_us_per_req | keys[]) as $k ({};
				.[$k] = ([$r[].cpu_us_per_req[$k]] | median))) })) as $med
		| {
			date: $date,
			machine: {nproc: $nproc, cpu: $cpu, memory: $mem, kernel: $kernel, debian: $debian, loadavg_at_start: $loadavg_start, loadavg_at_end: $loadavg},
			versions: {relais: $relais, postgres: $postgres, nginx: $nginx, wrk: $wrk},
			settings: {rounds: $rounds, duration_s: $duration, wrk_connections: $connections, threads: $threads,
			           relais_workers: $workers, relais_pool_per_worker: $pool, pgbench_clients: $pg_clients,
			           placement: {mode: $placement, server_cpus: $server_cpus, load_generator_cpus: $load_cpus},
			           inbox: {path: $inbox_path, user: $inbox_user, items: $inbox_items,
			                   pgbench_statements: ($inbox_statements | split("\n")), pgbench_pgoptions: $pg_options}},
			runs: $runs,
			medians: $med,
			ratios: {
				healthz_vs_nginx: {value: ($med.relais_healthz.rps / $med.nginx.rps), target: 0.8},
				readyz_vs_pgbench: {value: ($med.relais_readyz.rps / $med.pgbench.rps), target: 0.85},
				inbox_vs_pgbench: {value: ($med.relais_inbox.rps / $med.pgbench_inbox.rps), target: 0.85}
			},
			memory_kib: {
				idle: $idle,
				after_load: $after,
				max_under_load: (reduce ($samples | group_by(.phase))[] as $g ({};
					.[$g[0].phase] = (reduce ($g | group_by(.pid))[] as $p ({};
						.[$p[0].pid | tostring] = ([$p[].kib] | max))))),
				target_max_kib: (30 * 1024)
			}
		  }' "$RAW" >"$RESULTS_DIR/latest.json"
}

print_table() {
	jq -r '
		def r(n): (n * 100 | round) / 100;
		def r1(n): (n * 10 | round) / 10;
		def mib(k): ((k / 1024 * 10 | round) / 10 | tostring) + " MiB";
		def ok(v; t): if v >= t then "meets" else "MISSES" end;
		def server(t; c): if t == "nginx" then c.nginx_workers else c.relais_workers end;
		def db(t): t == "relais_readyz" or t == "pgbench" or t == "relais_inbox" or t == "pgbench_inbox";
		"| target | requests/s (median) | p50 ms | p99 ms | CPU µs/req: server | PostgreSQL | load generator |",
		"|---|---:|---:|---:|---:|---:|---:|",
		(.medians as $m | ["nginx", "relais_healthz", "relais_readyz", "pgbench", "relais_inbox", "pgbench_inbox"][] |
			select($m[.]) as $t | $m[$t] as $v | $v.cpu_us_per_req as $c |
			"| \($t) | \($v.rps | round) | \(r($v.p50_ms)) | \(r($v.p99_ms)) | \(if ($t | startswith("pgbench")) then "-" else r1(server($t; $c)) end) | \(if db($t) then r1($c.postgres) else "-" end) | \(r1($c.load_generator)) |"),
		"",
		"| ratio of medians | value | target | |",
		"|---|---:|---:|---|",
		(.ratios | to_entries[] | "| \(.key) | \(r(.value.value)) | >= \(.value.target) | \(ok(.value.value; .value.target)) |"),
		"",
		"| relais worker (pid) | idle | max under /healthz | max under /readyz | max under inbox | idle after load |",
		"|---|---:|---:|---:|---:|---:|",
		(.memory_kib as $m | $m.idle | keys[] as $pid |
			"| \($pid) | \(mib($m.idle[$pid])) | \(mib($m.max_under_load.healthz[$pid] // 0)) | \(mib($m.max_under_load.readyz[$pid] // 0)) | \(mib($m.max_under_load.inbox[$pid] // 0)) | \(mib($m.after_load[$pid] // 0)) |"),
		"",
		"Memory target: <= 30 MiB per worker. \(.settings.rounds) rounds of \(.settings.duration_s) s; wrk \(.settings.threads) threads x \(.settings.wrk_connections) connections; pgbench \(.settings.pgbench_clients) clients, \(.settings.threads) threads.",
		"CPUs: \(.settings.placement.mode) placement: servers (nginx, relais, PostgreSQL) on \(.settings.placement.server_cpus), load generators (wrk, pgbench) on \(.settings.placement.load_generator_cpus).",
		"Inbox: GET \(.settings.inbox.path) as \(.settings.inbox.user), \(.settings.inbox.items) items; pgbench_inbox runs \(.settings.inbox.pgbench_statements | map(split(" ")[0:2] | "\(.[0]) (batch \(.[1]))") | join(", "))."
	' "$RESULTS_DIR/latest.json"
}

rss_json() {
	local pid out="{}"
	for pid in "${WORKER_PIDS[@]}"; do
		out=$(jq -c --arg pid "$pid" --argjson kib "$(rss_kib "$pid")" '.[$pid] = $kib' <<<"$out")
	done
	echo "$out"
}

# --- main ---------------------------------------------------------------------------------

main() {
	[[ $(id -u) -eq 0 ]] || die "run as root (the PostgreSQL cluster is run as the postgres user)"
	for tool in wrk jq curl ss runuser pgrep node /usr/bin/time "$NGINX" "$PG_BIN/initdb" "$PG_BIN/psql" "$PG_BIN/pgbench"; do
		need "$tool"
	done
	[[ -x $RELAIS ]] || die "$RELAIS not found; run make first"

	# Other work on the machine skews every number; the load average says how much there was.
	LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)
	log "load average before the run: $LOADAVG_START"
	WORK=$(mktemp -d /tmp/relais-bench.XXXXXX)
	chmod 755 "$WORK"
	chown postgres: "$WORK"
	RAW=$WORK/runs.jsonl
	: >"$RAW"
	: >"$WORK/rss.samples"
	echo 'SELECT 1;' >"$WORK/select1.sql"
	mkdir -p "$RESULTS_DIR"

	start_postgres
	start_relais
	start_nginx

	# Idle memory: after start (pool connected, /readyz answered once), before any load.
	sleep 2
	IDLE_JSON=$(rss_json)
	log "idle worker RSS (KiB): $IDLE_JSON"

	setup_inbox
	warm_up

	local targets=(nginx healthz readyz pgbench inbox pgbench_inbox) round i
	local n=${#targets[@]}
	for ((round = 1; round <= ROUNDS; round++)); do
		# Rotate the starting target each round.
		for ((i = 0; i < n; i++)); do
			run_target "${targets[$(((i + round - 1) % n))]}" "$round"
		done
	done

	sleep 2
	AFTER_JSON=$(rss_json)
	mapfile -t now_pids < <(pgrep -P "$RELAIS_PID" | sort -n)
	[[ "${now_pids[*]}" == "${WORKER_PIDS[*]}" ]] || log "warning: relais workers changed during the run (a crash?)"

	write_json
	print_table
	log "raw numbers: $RESULTS_DIR/latest.json"
}

main "$@"
