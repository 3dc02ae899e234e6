-- Rotates search queries; QUERIES is set per run via the environment variable BANGFU_QUERIES
-- (comma-separated, URL-encoded).
local queries = {}
for q in string.gmatch(os.getenv("BANGFU_QUERIES") or "%E5%A4%A7%E7%B1%B3", "([^,]+)") do
  table.insert(queries, q)
end
local counter = 0
request = function()
  counter = counter + 1
  local q = queries[(counter % #queries) + 1]
  return wrk.format("GET", "/api/v1/products?q=" .. q)
end
