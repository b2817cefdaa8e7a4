-- wrk script: after a run, print one parsable line with the figures wrk's own report
-- lacks (the 95th percentile) or prints in mixed units. Latencies are in milliseconds.
done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  io.write(string.format(
    "BENCH requests=%d seconds=%.3f rps=%.2f p50=%.2f p95=%.2f p99=%.2f max=%.2f"
      .. " non2xx=%d socket_errors=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    errors.status, errors.connect + errors.read + errors.write + errors.timeout
  ))
end
