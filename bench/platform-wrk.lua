-- wrk script: the read endpoints of the Vigil API in turn, with the token
-- in VIGIL_TOKEN. Used by bench/platform.sh.
local token = os.getenv("VIGIL_TOKEN")
-- WRK_ENDPOINTS=lists leaves out the summary (an aggregate over every finding).
local paths = {
  "/api/v1/findings?limit=50",
  "/api/v1/findings?limit=50&q=severity:critical",
  "/api/v1/findings?limit=50&q=severity%3E%3Dhigh%20and%20kev:true",
  "/api/v1/findings?limit=50&q=tag:prod%20and%20severity%3E%3Dhigh",
  "/api/v1/assets?limit=50",
  "/api/v1/assets?limit=50&q=tag:prod",
  "/api/v1/tags",
}
if os.getenv("WRK_ENDPOINTS") ~= "lists" then
  table.insert(paths, "/api/v1/findings/summary?by=severity")
end
local i = 0
request = function()
  i = i + 1
  local path = paths[(i % #paths) + 1]
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end

local errors = 0
response = function(status, headers, body)
  if status ~= 200 then
    errors = errors + 1
  end
end

done = function(summary, latency, requests)
  io.write(string.format("requests %d, non-2xx %d, socket errors %d/%d/%d/%d\n", summary.requests,
    summary.errors.status, summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
  io.write(string.format("latency p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
