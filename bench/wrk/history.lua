-- GET /api/v1/chats/{id}/messages?limit=50: the newest page of a chat's history.
package.path = os.getenv("BENCH_WRK_DIR") .. "/?.lua;" .. package.path
local common = require("common")

wrk.method = "GET"
wrk.path = "/api/v1/chats/" .. common.chat_id() .. "/messages?limit=50"
wrk.headers["Authorization"] = common.bearer()
