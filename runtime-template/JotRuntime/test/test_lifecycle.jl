# Init beyond loading: the warm-up call (--warmup-payload), the self-test's cache
# checks, SnapStart hooks and restore/next, and the timed init report.

# The exception `f()` throws, or nothing.
function caught(f)
    try
        f()
        return nothing
    catch err
        return err
    end
end

@testset "warm-up call: the exemplar runs through conversion, function and writer" begin
    calls = Ref(0)
    f = v -> (calls[] += 1; sum(v))
    J.warm_call(f, Vector{Int}, false, test_config(), "[1,2,3]")
    @test calls[] == 1
    seen = Ref{Any}(nothing)
    J.warm_call((v, ctx) -> (seen[] = ctx; v), Any, true, test_config(), "{}")
    @test seen[] isa LambdaContext && seen[].request_id == "warm-up"
    @test 50_000 < seen[].remaining_time_ms <= 60_000
    @test_throws J.ConversionError J.warm_call(f, Vector{Int}, false, test_config(), "[\"a\"]")
    @test_throws ArgumentError J.warm_call(_ -> throw(ArgumentError("no")), Any, false,
                                           test_config(), "1")
end

@testset "warm-up in init: wanted off the request path, a failure is an init error" begin
    ts, _ = runtime_api()
    c = J.Conn("127.0.0.1:$(ts.port)")
    withenv("JOT_WARM_UP" => "1", "JOT_WARMUP_PAYLOAD" => "[1]") do
        e = caught() do
            J.warm_up_init(c, v -> error("boom on $v"), Vector{Int}, false, test_config())
        end
        @test e isa J.InitFailure
        @test e.errortype == "Runtime.WarmupError"
        @test occursin("--warmup-payload [1] failed: boom on [1]", e.msg)
    end
    ran = Ref(false)
    withenv("JOT_WARM_UP" => nothing, "AWS_LAMBDA_INITIALIZATION_TYPE" => "on-demand") do
        @test !J.warm_up_wanted()         # on demand, init is on the request path
    end
    withenv("JOT_WARM_UP" => nothing, "AWS_LAMBDA_INITIALIZATION_TYPE" => "snap-start",
            "JOT_WARMUP_PAYLOAD" => "[1]") do
        @test J.warm_up_wanted()
        J.warm_up_init(c, v -> (ran[] = true), Vector{Int}, false, test_config())
    end
    @test ran[]
    @test isempty(ts.log)                 # warm-up sends nothing to the Runtime API
    stop_server(ts)
end

@testset "self-test: a rejected cache or a file in the writable depot fails it" begin
    log = J.CacheLog(String[])
    Base.CoreLogging.with_logger(log) do
        @debug "Rejecting cache file /x.ji because it is for a different CPU target"
        @debug "unrelated"
    end
    @test log.messages == ["Rejecting cache file /x.ji because it is for a different CPU target"]
    e = caught() do
        J.self_test(identity, Vector{Int}, false, test_config(), "[1]", log)
    end
    @test e isa J.InitFailure && e.errortype == "Runtime.SelfTestFailed"
    @test occursin("precompiled again", e.msg) && occursin("Rejecting cache", e.msg)

    depot = mktempdir()
    pushfirst!(DEPOT_PATH, depot)
    try
        J.self_test(identity, Vector{Int}, false, test_config(), "[1]", J.CacheLog(String[]))
        mkpath(joinpath(depot, "compiled", "v1.5"))
        write(joinpath(depot, "compiled", "v1.5", "Foo.ji"), "x")
        e = caught() do
            J.self_test(identity, Vector{Int}, false, test_config(), "[1]", J.CacheLog(String[]))
        end
        @test e isa J.InitFailure && occursin("wrote $(joinpath(depot, "compiled"))", e.msg)
        e = caught() do
            J.self_test(identity, Vector{Int}, false, test_config(), "[\"a\"]", J.CacheLog(String[]))
        end
        @test e isa J.InitFailure && occursin("the exemplar event [\"a\"] failed", e.msg)
    finally
        popfirst!(DEPOT_PATH)
    end
end

@testset "SnapStart hooks: order, failures, re-seeded RNGs" begin
    order = String[]
    hooks = Any[() -> push!(order, "a"), () -> push!(order, "b")]
    J.run_hooks(hooks, "after-restore", "Runtime.AfterRestoreError")
    @test order == ["a", "b"]
    e = caught() do
        J.run_hooks(Any[() -> error("no network")], "after-restore", "Runtime.AfterRestoreError")
    end
    @test e isa J.HookFailure && e.errortype == "Runtime.AfterRestoreError"
    @test occursin("after-restore hook #1", e.msg) && occursin("no network", e.msg)

    Random = Base.require(Base.PkgId(Base.UUID("9a3f8284-a2c9-5f02-9a11-845980a1fd5c"), "Random"))
    Base.invokelatest(Random.seed!, 42)
    a = rand()
    Base.invokelatest(Random.seed!, 42)
    J.reseed_rngs()
    @test rand() != a                     # restored sandboxes do not share a sequence

    ts, _ = runtime_api()
    c = J.Conn("127.0.0.1:$(ts.port)")
    J.post_restore_error(c, J.HookFailure("Runtime.AfterRestoreError", "bad", String[]))
    p = posts(ts)[end]
    @test p.path == "/2018-06-01/runtime/restore/error"
    @test p.headers["lambda-runtime-function-error-type"] == "Runtime.AfterRestoreError"
    @test J.parse_json(p.body)["errorMessage"] == "bad"
    stop_server(ts)
end

@testset "end to end: the SnapStart lifecycle and the init report" begin
    ts, events = runtime_api()
    dir = mktempdir()
    write(joinpath(dir, "snap.jl"), """
        const STATE = String[]
        register_before_snapshot(() -> (push!(STATE, "before"); println(stderr, "hook: before")))
        register_after_restore(() -> (push!(STATE, "after"); println(stderr, "hook: after")))
        snap(x) = vcat(STATE, string(x))
        """)
    proc, out, err = runtime_process(Dict(
        "AWS_LAMBDA_RUNTIME_API" => "127.0.0.1:$(ts.port)",
        "AWS_LAMBDA_INITIALIZATION_TYPE" => "snap-start",
        "JOT_WARMUP_PAYLOAD" => "1",
        "JOT_RESPONDER_PATH" => joinpath(dir, "snap.jl"), "JOT_FUNCTION" => "snap"))
    put!(events, ("snap-1", "2", ""))
    done = wait_until(() -> length(posts(ts)) >= 1 || process_exited(proc), 300)
    process_exited(proc) || kill(proc)
    wait(proc)
    log = read(err, String)
    @test done
    length(posts(ts)) >= 1 || println(stderr, "runtime stderr:\n", log)
    paths = [q.path for q in ts.log]
    @test paths[1:2] == ["/2018-06-01/runtime/restore/next", "/2018-06-01/runtime/invocation/next"]
    @test !isempty(posts(ts)) && posts(ts)[1].body == "[\"before\",\"after\",\"2\"]"
    @test findfirst("hook: before", log) < findfirst("restored from a snapshot", log) <
          findfirst("hook: after", log)
    @test occursin(r"\[jot\] init: runtime load \d+ ms, responder load \d+ ms, warm-up \d+ ms", log)
    phases = get(ts.log[2].headers, "jot-init-phases", "")
    m = match(r"^runtime_begin=(\d+);runtime=(\d+);responder=(\d+);warmup=(\d+)$", phases)
    @test m !== nothing
    if m !== nothing
        t = parse.(Int64, m.captures)
        @test issorted(t) && abs(t[1] / 1000 - time()) < 600
    end
    @test !haskey(ts.log[1].headers, "jot-init-phases")   # only the first /next carries it
    stop_server(ts)
end
