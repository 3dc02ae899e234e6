-- Requests drawn at random from a file of paths (BANGFU_PATHS, one per line), so no two
-- consecutive requests need be alike (Benchmarks/distinct.py writes the files).
local paths = {}
for line in io.lines(os.getenv("BANGFU_PATHS")) do
  if #line > 0 then table.insert(paths, line) end
end
math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1000000))
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
