-- Rotates the report routes (BANGFU_PATHS, comma-separated) with the admin's bearer token (BANGFU_TOKEN).
local paths = {}
for p in string.gmatch(os.getenv("BANGFU_PATHS") or "/api/v1/reports/sales", "([^,]+)") do table.insert(paths, p) end
local token = os.getenv("BANGFU_TOKEN")
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1], { ["Authorization"] = "Bearer " .. token })
end
