-- wrk script: POST /v1/tokens/verify, cycling through the tokens in the
-- file given after `--` (one per line), the same requests for every server.
local requests = {}
local i = 0

function init(args)
  local headers = { ["Content-Type"] = "application/json" }
  for token in io.lines(args[1]) do
    if #token > 0 then
      requests[#requests + 1] = wrk.format("POST", "/v1/tokens/verify", headers, '{"token":"' .. token .. '"}')
    end
  end
  -- Each thread starts at its own place in the list.
  i = math.random(#requests) - 1
end

function request()
  i = i % #requests + 1
  return requests[i]
end

-- One line wrk's caller parses: any answer but 200 makes the round void.
function done(summary, latency, requests)
  io.write(string.format("STATUS errors=%d non2xx_or_timeouts=%d\n",
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status,
    summary.errors.status + summary.errors.timeout))
end
