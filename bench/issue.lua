-- wrk script: POST /v1/tokens, the same body every time (the file given
-- after `--`), with the admin token given after it. Each request is a new
-- token: its jti is the module's, so every answer is a fresh signature and
-- a fresh row in the store.
local request_text

function init(args)
  local file = assert(io.open(args[1]))
  local body = file:read("*a")
  file:close()
  request_text = wrk.format("POST", "/v1/tokens", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. args[2],
  }, body)
end

function request()
  return request_text
end

-- One line wrk's caller parses: any answer but 2xx makes the round void.
function done(summary, latency, requests)
  io.write(string.format("STATUS errors=%d non2xx_or_timeouts=%d\n",
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status,
    summary.errors.status + summary.errors.timeout))
end
