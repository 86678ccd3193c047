#!/usr/bin/env bash
# Relais throughput, latency and memory benchmark, with baselines measured in the same run.
#
#   make && tests/bench/run.sh                 # 5 rounds
#   ROUNDS=3 DURATION=5 tests/bench/run.sh     # quicker
#
# What runs, all on 127.0.0.1, in a temporary directory removed on exit:
#   - a throwaway PostgreSQL 15 cluster (initdb defaults: fsync on; only the port, the listen
#     address and the socket directory are set; trust authentication, UTF-8);
#   - relais serve: RELAIS_BENCH_WORKERS workers (2), access log off, rate limit off, database
#     pool of RELAIS_BENCH_POOL_SIZE connections per worker (4);
#   - nginx: 2 worker processes answering the same 16-byte body with about the same headers;
#   - pgbench: the SQL of /readyz (SELECT 1, prepared) over as many connections as relais's
#     whole pool (workers x pool size), 2 threads.
# Each round runs wrk against nginx, relais /healthz and relais /readyz, then pgbench; the order
# rotates from round to round so that slow drift on this shared machine does not always hit the
# same target. Medians over the rounds are reported, with the ratios that matter:
#   relais /healthz / nginx  (target >= 0.8)   and   relais /readyz / pgbench tps (target >= 0.85).
# Each relais worker's resident memory (VmRSS) is read idle and sampled every 0.5 s under load.
#
# CPU placement: nothing is pinned. wrk (or pgbench) and the servers share the 2 cores, which
# costs every target the same way; pinning the load generator to one core would leave relais
# (2 workers + PostgreSQL) a single core and change what is measured. Ratios are what count.
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
NGINX=${NGINX:-/usr/sbin/nginx}

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RELAIS=${RELAIS:-$REPO_ROOT/relais}
RESULTS_DIR=$REPO_ROOT/tests/bench/results

PG_CLIENTS=$((WORKERS * POOL_SIZE))  # same number of database connections as relais's pool
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
	runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$WORK/postgres.log" -w \
		-o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$WORK" start >/dev/null ||
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
		RELAIS_DB_POOL_SIZE=$POOL_SIZE RELAIS_ACCESS_LOG=false RELAIS_RATE_LIMIT=0 \
		RELAIS_DATA_DIR=$WORK/relais-data "$RELAIS" serve >"$WORK/relais.log" 2>&1 &
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
	"$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" >"$WORK/nginx/stdout.log" 2>&1 &
	NGINX_PID=$!
	wait_http "http://127.0.0.1:$NGINX_PORT/healthz"
	local body
	body=$(curl -fsS "http://127.0.0.1:$NGINX_PORT/healthz")
	[[ $body == '{"status":"ok"}' ]] || die "nginx answers '$body'"
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

# One wrk run; appends one JSON record to $RAW. Non-2xx answers or socket errors are kept in
# the record and reported, since a fast error is not a served request.
run_wrk() {
	local target=$1 url=$2 round=$3
	measure wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$url"
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

# One pgbench run. pgbench has no percentile report, so a 1% sample of transactions is logged
# (negligible cost) and p50/p99 come from it.
run_pgbench() {
	local round=$1 logdir
	logdir=$WORK/pgbench-log-$round
	mkdir -p "$logdir"
	measure "$PG_BIN/pgbench" -h 127.0.0.1 -p "$PG_PORT" -U postgres -n -M prepared \
		-c "$PG_CLIENTS" -j "$THREADS" -T "$DURATION" -f "$WORK/select1.sql" \
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
	jq -nc --argjson round "$round" --argjson rps "$tps" --argjson p50 "$p50" --argjson p99 "$p99" \
		--argjson failed "${failed:-0}" --argjson requests "$requests" \
		'{target: "pgbench", round: $round, rps: $rps, requests: $requests, p50_ms: $p50, p99_ms: $p99,
		  failed: $failed}' | add_cpu "$requests" >>"$RAW"
	log "round $round pgbench: $tps tps, p99 $p99 ms"
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
	pgbench) run_pgbench "$round" ;;
	esac
}

warm_up() {
	log "warm-up: ${WARMUP}s per target, not recorded"
	wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" "http://127.0.0.1:$NGINX_PORT/healthz" >/dev/null
	wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" "http://127.0.0.1:$RELAIS_PORT/healthz" >/dev/null
	wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" "http://127.0.0.1:$RELAIS_PORT/readyz" >/dev/null
	"$PG_BIN/pgbench" -h 127.0.0.1 -p "$PG_PORT" -U postgres -n -M prepared -c "$PG_CLIENTS" -j "$THREADS" \
		-T "$WARMUP" -f "$WORK/select1.sql" relais >/dev/null 2>&1
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
			           relais_workers: $workers, relais_pool_per_worker: $pool, pgbench_clients: $pg_clients},
			runs: $runs,
			medians: $med,
			ratios: {
				healthz_vs_nginx: {value: ($med.relais_healthz.rps / $med.nginx.rps), target: 0.8},
				readyz_vs_pgbench: {value: ($med.relais_readyz.rps / $med.pgbench.rps), target: 0.85}
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
		def server(t; c): if t == "nginx" then c.nginx_workers elif t == "pgbench" then 0 else c.relais_workers end;
		"| target | requests/s (median) | p50 ms | p99 ms | CPU µs/req: server | PostgreSQL | load generator |",
		"|---|---:|---:|---:|---:|---:|---:|",
		(.medians as $m | ["nginx", "relais_healthz", "relais_readyz", "pgbench"][] | select($m[.]) as $t |
			$m[$t] as $v | $v.cpu_us_per_req as $c |
			"| \($t) | \($v.rps | round) | \(r($v.p50_ms)) | \(r($v.p99_ms)) | \(if $t == "pgbench" then "-" else r1(server($t; $c)) end) | \(if $t == "relais_readyz" or $t == "pgbench" then r1($c.postgres) else "-" end) | \(r1($c.load_generator)) |"),
		"",
		"| ratio of medians | value | target | |",
		"|---|---:|---:|---|",
		(.ratios | to_entries[] | "| \(.key) | \(r(.value.value)) | >= \(.value.target) | \(ok(.value.value; .value.target)) |"),
		"",
		"| relais worker (pid) | idle | max under /healthz | max under /readyz | idle after load |",
		"|---|---:|---:|---:|---:|",
		(.memory_kib as $m | $m.idle | keys[] as $pid |
			"| \($pid) | \(mib($m.idle[$pid])) | \(mib($m.max_under_load.healthz[$pid] // 0)) | \(mib($m.max_under_load.readyz[$pid] // 0)) | \(mib($m.after_load[$pid] // 0)) |"),
		"",
		"Memory target: <= 30 MiB per worker. \(.settings.rounds) rounds of \(.settings.duration_s) s; wrk \(.settings.threads) threads x \(.settings.wrk_connections) connections; pgbench \(.settings.pgbench_clients) clients, \(.settings.threads) threads."
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
	for tool in wrk jq curl ss runuser pgrep /usr/bin/time "$NGINX" "$PG_BIN/initdb" "$PG_BIN/pgbench"; do need "$tool"; done
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

	warm_up

	local targets=(nginx healthz readyz pgbench) n=4 round i
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
