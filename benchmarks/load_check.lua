-- wrk script for benchmarks/load_test.py: GET /v1/check over a mix of names, checking each answer.
--
-- Run with as many threads as connections (-tN -cN): each thread then drives exactly one
-- connection, so "per thread" below is "per connection" and its answers arrive in order.
--
-- Environment:
--   LOAD_PATHS    file of request paths, one per line (/v1/check?name=...), cycled through
--   LOAD_TRACKED  file of names (as the JSON body spells them) whose verdict is recorded per
--                 registry version, to be checked against the truth afterwards
--   LOAD_OUT      where done() writes the results as JSON
--
-- Per connection it records: answers per HTTP status, per registry version and per verdict;
-- answers per wall-clock second; first and last second each version was seen; how often the
-- version went down (it must never); bodies it could not read; and for tracked names, how many
-- answers had each (name, version, verdict).

local paths = {}
local tracked = {}
local position = 0

statuses = {}
versions = {}
verdicts = {}
seconds = {}
first_seen = {}
last_seen = {}
observed = {}
regressions = 0
unreadable = 0
last_version = -1

local function lines(path)
   local found = {}
   local file = assert(io.open(path, "r"))
   for line in file:lines() do
      if line ~= "" then
         found[#found + 1] = line
      end
   end
   file:close()
   return found
end

local function bump(tbl, key)
   tbl[key] = (tbl[key] or 0) + 1
end

function init(args)
   paths = lines(os.getenv("LOAD_PATHS"))
   for _, name in ipairs(lines(os.getenv("LOAD_TRACKED"))) do
      tracked[name] = true
   end
   -- Each connection starts at its own place in the mix.
   position = ((id or 0) * 7919) % #paths
end

function request()
   position = position % #paths + 1
   return wrk.format("GET", paths[position])
end

function response(status, headers, body)
   local now = os.time()
   bump(statuses, status)
   bump(seconds, now)
   if status ~= 200 then
      return
   end
   -- CheckResult starts with query, as_of, verdict and ends with the register stamp.
   local query, verdict = body:match('^{"query":"(.-)","as_of":[^,]*,"verdict":"([%a_]+)"')
   local version = body:match('"register":{"version":(%d+),')
   if query == nil or version == nil then
      unreadable = unreadable + 1
      return
   end
   version = tonumber(version)
   bump(versions, version)
   bump(verdicts, verdict)
   if version < last_version then
      regressions = regressions + 1
   end
   if version > last_version then
      last_version = version
   end
   if first_seen[version] == nil then
      first_seen[version] = now
   end
   last_seen[version] = now
   if tracked[query] then
      bump(observed, query .. "|" .. version .. "|" .. verdict)
   end
end

-- The main thread: keep the threads to read their counters in done().
local threads = {}

function setup(thread)
   thread:set("id", #threads)
   threads[#threads + 1] = thread
end

local function quote(text)
   text = tostring(text):gsub('[%c"\\]', function(c)
      return string.format("\\u%04x", c:byte())
   end)
   return '"' .. text .. '"'
end

local function object(tbl)
   local parts = {}
   for key, value in pairs(tbl) do
      parts[#parts + 1] = quote(key) .. ":" .. tostring(value)
   end
   return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
   local out = assert(io.open(os.getenv("LOAD_OUT"), "w"))
   local errors = summary.errors
   out:write("{")
   out:write('"requests":', summary.requests, ',"duration_us":', summary.duration)
   out:write(',"errors":', object({
      connect = errors.connect, read = errors.read, write = errors.write,
      status = errors.status, timeout = errors.timeout,
   }))
   out:write(',"latency_us":', object({
      p50 = latency:percentile(50), p90 = latency:percentile(90),
      p99 = latency:percentile(99), p999 = latency:percentile(99.9),
      max = latency.max, mean = latency.mean,
   }))
   out:write(',"connections":[')
   for index, thread in ipairs(threads) do
      if index > 1 then
         out:write(",")
      end
      out:write("{")
      out:write('"statuses":', object(thread:get("statuses")))
      out:write(',"versions":', object(thread:get("versions")))
      out:write(',"verdicts":', object(thread:get("verdicts")))
      out:write(',"seconds":', object(thread:get("seconds")))
      out:write(',"first_seen":', object(thread:get("first_seen")))
      out:write(',"last_seen":', object(thread:get("last_seen")))
      out:write(',"observed":', object(thread:get("observed")))
      out:write(',"regressions":', thread:get("regressions"))
      out:write(',"unreadable":', thread:get("unreadable"))
      out:write("}")
   end
   out:write("]}\n")
   out:close()
end
