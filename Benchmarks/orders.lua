-- Order placement: POST /api/v1/orders with a unique Idempotency-Key per request, spread over the
-- signed-in buyers (BANGFU_TOKENS, a file with one bearer token per line) and the products
-- (BANGFU_PRODUCTS, one product id per line). One line of 1-3 units per checkout.
local function lines(path)
  local out = {}
  for line in io.lines(path) do if #line > 0 then table.insert(out, line) end end
  return out
end
local tokens = lines(os.getenv("BANGFU_TOKENS"))
local products = lines(os.getenv("BANGFU_PRODUCTS"))
local counter = 0
local prefix = ""

function setup(thread)
  thread:set("prefix", tostring(math.random(1, 1000000000)) .. "-" .. tostring(os.time()))
end

function init(args)
  prefix = wrk.thread:get("prefix") or tostring(math.random(1, 1000000000))
  math.randomseed(os.time() + #prefix)
end

request = function()
  counter = counter + 1
  local token = tokens[math.random(#tokens)]
  local product = products[math.random(#products)]
  local body = '{"items":[{"productId":"' .. product .. '","quantity":' .. math.random(1, 3) .. '}],"deliveryAddress":"食堂"}'
  return wrk.format("POST", "/api/v1/orders", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = prefix .. "-" .. counter,
  }, body)
end

local statuses = {}
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
