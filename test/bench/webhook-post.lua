-- wrk script for the remediator bench: POSTs an Alertmanager webhook read from a file, with a bearer token.
--   wrk -s webhook-post.lua URL -- BODY_FILE TOKEN distinct|same RUN
-- "distinct" gives every request its own alert fingerprint (run number, thread number and counter, 16 hex digits,
-- in place of the 16 "F" the body file holds), so each one is a new alert to record; "same" sends the one alert
-- again and again.
local threads = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

function init(args)
  local f = assert(io.open(args[1], "r"))
  template = f:read("*a")
  f:close()
  headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. args[2] }
  distinct = args[3] == "distinct"
  run = tonumber(args[4] or "0")
  counter = 0
end

function request()
  local body = template
  if distinct then
    counter = counter + 1
    body = template:gsub("FFFFFFFFFFFFFFFF", string.format("%02x%02x%012x", run, tid, counter))
  end
  return wrk.format("POST", nil, headers, body)
end
