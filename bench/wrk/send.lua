-- POST /api/v1/chats/{id}/messages: one new message per request, numbered per thread.
package.path = os.getenv("BENCH_WRK_DIR") .. "/?.lua;" .. package.path
local common = require("common")

local path = "/api/v1/chats/" .. common.chat_id() .. "/messages"
local headers = {["Authorization"] = common.bearer(), ["Content-Type"] = "application/json"}
local counter = 0

request = function()
  counter = counter + 1
  local body = '{"text": "wrk says ' .. counter .. '"}'
  return wrk.format("POST", path, headers, body)
end
