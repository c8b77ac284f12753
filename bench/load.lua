-- wrk script of the bench (bench/lib/wrk.ts). Environment:
--   BENCH_METHOD  GET (default) or POST
--   BENCH_BODY    request body; "{n}" in it becomes a number unique to this wrk run (new contacts)
--   BENCH_TOKENS  file of bearer tokens, one a line, used in turn (Pub/Sub pushes)
-- At the end it prints one JSON line: requests, duration, errors, latency percentiles.

wrk.method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY")
local tokens_file = os.getenv("BENCH_TOKENS")
local thread_index = 0

function setup(thread)
  thread:set("thread_index", thread_index)
  thread_index = thread_index + 1
end

local tokens = {}
local counter = 0

function init(args)
  if tokens_file then
    for line in io.lines(tokens_file) do
      if #line > 0 then tokens[#tokens + 1] = line end
    end
  end
end

-- Defined only when each request differs: a static request is cheaper for wrk to send.
local function dynamic_request()
  counter = counter + 1
  -- wrk.format takes these instead of wrk.headers (the -H ones): copy those in.
  local headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  if #tokens > 0 then
    headers["Authorization"] = "Bearer " .. tokens[(counter % #tokens) + 1]
  end
  local b = nil
  if body then
    b = body:gsub("{n}", thread_index .. "-" .. counter)
  end
  return wrk.format(nil, nil, headers, b)
end
if body or tokens_file then request = dynamic_request end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,"non_2xx":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
