-- wrk script for tests/bench/intake.sh: replays pre-signed intake deliveries (one per line of
-- the file given after --: "webhook-id TAB timestamp TAB signature TAB body"). Each thread
-- takes every Nth line, so threads never send the same delivery; a thread that runs out
-- starts over (those answers are 200 duplicates, counted apart).
--   wrk -s intake.lua URL -- <path> <threads> <file>
local threads = {}

function setup(thread)
	thread:set("tid", #threads)
	table.insert(threads, thread)
end

function init(args)
	path, nthreads, file = args[1], tonumber(args[2]), args[3]
	deliveries = {}
	local i = 0
	for line in io.lines(file) do
		if i % nthreads == tid then
			local id, ts, sig, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
			table.insert(deliveries, { id, ts, sig, body })
		end
		i = i + 1
	end
	n, created, duplicate, other = 0, 0, 0, 0
end

function request()
	n = n + 1
	local d = deliveries[((n - 1) % #deliveries) + 1]
	return wrk.format("POST", path, {
		["Content-Type"] = "application/json",
		["webhook-id"] = d[1],
		["webhook-timestamp"] = d[2],
		["webhook-signature"] = d[3],
	}, d[4])
end

function response(status, headers, body)
	if status == 202 then
		created = created + 1
	elseif status == 200 then
		duplicate = duplicate + 1
	else
		other = other + 1
	end
end

function done(summary, latency, requests)
	local c, d, o = 0, 0, 0
	for _, t in ipairs(threads) do
		c, d, o = c + t:get("created"), d + t:get("duplicate"), o + t:get("other")
	end
	io.write(string.format("INTAKE created=%d duplicate=%d other=%d seconds=%.3f p50_ms=%.3f p99_ms=%.3f\n",
		c, d, o, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
