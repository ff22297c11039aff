-- Shared by the bench's wrk scripts: a bearer token and the chat from the environment.
local M = {}

function M.bearer()
  local token = os.getenv("BENCH_TOKEN")
  if token == nil or token == "" then
    error("BENCH_TOKEN is not set")
  end
  return "Bearer " .. token
end

function M.chat_id()
  local chat = os.getenv("BENCH_CHAT_ID")
  if chat == nil or chat == "" then
    error("BENCH_CHAT_ID is not set")
  end
  return chat
end

return M
