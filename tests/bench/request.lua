-- The request of one `make bench` case, for wrk (tests/bench.py writes the globals below above this file).
--
--   METHOD, PATH, BODY   the request; HEADERS a table of its headers
--   THREADS              wrk's -t count
--   RUN                  a tag unique to this wrk run
--   UNIQUE    (optional) every "{{unique}}" in BODY becomes RUN-<thread>-<n>, new for each request
--   TOKENS    (optional) a file of bearer tokens, one a line: each request takes the next unused one as
--                        `Authorization: Bearer`; a thread that runs out starts again and counts reuses
--   CHECK     (optional) text every 2xx response body must contain (the provider's success)
--   EXTRACT   (optional) with EXTRACT_TO: a Lua pattern with one capture; each capture is appended to
--                        EXTRACT_TO-<thread>.txt (how the bench collects fresh Izipay tokens)
--
-- done() prints one line for the harness: "BENCH ok=N failures=N reused=N" and, after any failure,
-- "BENCH first_failure=<status> <body>".

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

ok, failures, reused, first_failure = 0, 0, 0, ""
local counter = 0
local tokens = {}
local next_token = 1
local wrapped = false
local headers = {}
local out = nil

function init(args)
  wrk.method, wrk.path, wrk.body = METHOD, PATH, BODY
  for name, value in pairs(HEADERS) do
    wrk.headers[name] = value
    headers[name] = value
  end
  if TOKENS then
    local n = 0
    for line in io.lines(TOKENS) do
      if n % THREADS == id then
        table.insert(tokens, line)
      end
      n = n + 1
    end
  end
  if EXTRACT then
    out = io.open(EXTRACT_TO .. "-" .. id .. ".txt", "w")
  end
end

if TOKENS or UNIQUE then
  function request()
    counter = counter + 1
    local body = BODY
    if UNIQUE then
      body = body:gsub("{{unique}}", RUN .. "-" .. id .. "-" .. counter)
    end
    if TOKENS then
      if next_token > #tokens then
        next_token, wrapped = 1, true
      end
      if wrapped then
        reused = reused + 1
      end
      headers["Authorization"] = "Bearer " .. tokens[next_token]
      next_token = next_token + 1
    end
    return wrk.format(nil, nil, headers, body)
  end
end

if CHECK or EXTRACT then
  function response(status, response_headers, body)
    if status >= 300 or (CHECK and not body:find(CHECK, 1, true)) then
      failures = failures + 1
      if first_failure == "" then
        first_failure = status .. " " .. body:sub(1, 300):gsub("%s+", " ")
      end
      return
    end
    ok = ok + 1
    if EXTRACT then
      local value = body:match(EXTRACT)
      if value then
        out:write(value, "\n")
        out:flush()
      end
    end
  end
end

function done(summary, latency, requests)
  local total_ok, total_failures, total_reused, first = 0, 0, 0, ""
  for _, thread in ipairs(threads) do
    total_ok = total_ok + thread:get("ok")
    total_failures = total_failures + thread:get("failures")
    total_reused = total_reused + thread:get("reused")
    if first == "" then
      first = thread:get("first_failure")
    end
  end
  io.write(string.format("BENCH ok=%d failures=%d reused=%d\n", total_ok, total_failures, total_reused))
  if first ~= "" then
    io.write("BENCH first_failure=" .. first .. "\n")
  end
end
