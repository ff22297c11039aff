-- A plain GET of BENCH_PATH, without credentials: the framework's floor of work.
wrk.method = "GET"
wrk.path = os.getenv("BENCH_PATH")
