-- POST /api/v1/login: argon2id verification on every request.
wrk.method = "POST"
wrk.path = "/api/v1/login"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email": "' .. os.getenv("BENCH_EMAIL") .. '", "password": "' .. os.getenv("BENCH_PASSWORD") .. '"}'
