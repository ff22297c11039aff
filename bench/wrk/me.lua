-- GET /api/v1/users/me: authentication (token check and one user lookup) and a small answer.
package.path = os.getenv("BENCH_WRK_DIR") .. "/?.lua;" .. package.path
local common = require("common")

wrk.method = "GET"
wrk.path = "/api/v1/users/me"
wrk.headers["Authorization"] = common.bearer()
