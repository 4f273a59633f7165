-- One command per case: each request takes the next unused case id from BENCH_IDS
-- (threads interleave: thread t takes ids t, t+n, t+2n, ...). BENCH_PATH holds the
-- path with {id}; BENCH_BODY the JSON body; BENCH_HEADERS "Name: value" lines.
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

function init(args)
  ids = {}
  for line in io.lines(os.getenv("BENCH_IDS")) do ids[#ids + 1] = line end
  step = tonumber(os.getenv("BENCH_THREADS"))
  i = tonumber(os.getenv("BENCH_SKIP") or "0") + tid
  path = os.getenv("BENCH_PATH")
  body = os.getenv("BENCH_BODY")
  headers = {["Content-Type"] = "application/json"}
  for line in string.gmatch(os.getenv("BENCH_HEADERS") or "", "[^\n]+") do
    local name, value = string.match(line, "^([^:]+):%s*(.*)$")
    headers[name] = value
  end
end

function request()
  local id = ids[(i % #ids) + 1]
  i = i + step
  return wrk.format("POST", string.gsub(path, "{id}", id), headers, body)
end
