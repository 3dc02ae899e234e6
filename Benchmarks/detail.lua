-- Product detail: GET /api/v1/products/{id} over the ids in BANGFU_PRODUCTS (one per line).
local ids = {}
for line in io.lines(os.getenv("BANGFU_PRODUCTS")) do if #line > 0 then table.insert(ids, line) end end
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", "/api/v1/products/" .. ids[(counter % #ids) + 1])
end
