-- Rotates the report routes with a bearer token (BANGFU_TOKEN): the comma-separated BANGFU_PATHS,
-- or one path per line of the file BANGFU_PATHS_FILE (thousands of distinct requests), each thread
-- starting at its own place in the list.
local paths = {}
local file = os.getenv("BANGFU_PATHS_FILE")
if file then
  for line in io.lines(file) do if #line > 0 then table.insert(paths, line) end end
else
  for p in string.gmatch(os.getenv("BANGFU_PATHS") or "/api/v1/reports/sales", "([^,]+)") do table.insert(paths, p) end
end
local token = os.getenv("BANGFU_TOKEN")
local counter = 0
setup = function(thread) thread:set("offset", math.random(#paths)) end
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[((counter + (offset or 0)) % #paths) + 1], { ["Authorization"] = "Bearer " .. token })
end
