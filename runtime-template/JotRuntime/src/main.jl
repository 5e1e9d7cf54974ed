# ════════════════════════════════════════════════════════════════════════════════
# Init and main(): load the responder, warm up, (SnapStart) snapshot and restore,
# then serve. Each stage's end is timed and reported.
# ════════════════════════════════════════════════════════════════════════════════

# Warm-up compiles the hot path before the first event. Julia's `precompile`
# infers whole call graphs (error paths included), so it compiles more than one
# event needs: measured on 1.5, an on-demand cold start reaches its first
# response ~350 ms later with it than without. It pays only when init is off the
# request path: provisioned concurrency and SnapStart
# (AWS_LAMBDA_INITIALIZATION_TYPE). JOT_WARM_UP=1 or 0 forces it on or off
# (jot-build --warmup-always sets 1).
function warm_up_wanted()
    forced = get(ENV, "JOT_WARM_UP", "")
    forced == "1" && return true
    forced == "0" && return false
    return get(ENV, "AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand") != "on-demand"
end

"""Epoch seconds at the end of each init stage, for the cold-start report."""
mutable struct InitClock
    runtime_begin::Float64   # Julia is up; the runtime starts loading
    runtime::Float64         # the runtime is loaded (main() runs)
    responder::Float64       # the responder is loaded
    warmup::Float64          # warm-up (and the self-test) done
end

ms_between(a::Float64, b::Float64) = round(Int, 1000 * (b - a))

# A log line for people and the REPORT reader, and a header on the first
# GET /next (Jot-Init-Phases: epoch milliseconds) that jot's emulator reads;
# Lambda ignores unknown request headers.
function report_init!(c::Conn, t::InitClock)
    println(stderr, "[jot] init: runtime load ", ms_between(t.runtime_begin, t.runtime),
            " ms, responder load ", ms_between(t.runtime, t.responder), " ms, warm-up ",
            ms_between(t.responder, t.warmup), " ms")
    epoch(x) = string(round(Int64, 1000 * x))
    c.extra = string("Jot-Init-Phases: runtime_begin=", epoch(t.runtime_begin), ";runtime=",
                     epoch(t.runtime), ";responder=", epoch(t.responder), ";warmup=",
                     epoch(t.warmup), "\r\n")
    return nothing
end

function init_failed(c::Conn, fail::InitFailure)
    post_error(c, "", fail.errortype, fail.errortype, fail.msg, fail.frames)
    exit(1)
end

"""
    main(runtime_begin = time())

The runtime's entry point (bootstrap). `runtime_begin` is when Julia started
loading the runtime (bootstrap passes it when the runtime is not in the system
image).
"""
function main(runtime_begin::Float64 = time())
    clock = InitClock(runtime_begin, time(), 0.0, 0.0)
    api = get(ENV, "AWS_LAMBDA_RUNTIME_API", "")
    if isempty(api)
        println(stderr, "[jot] AWS_LAMBDA_RUNTIME_API is not set; this runs inside a Lambda ",
                "execution environment (or `jot-invoke --local`)")
        exit(1)
    end
    address = try
        parse_runtime_api(api)
    catch e
        e isa AddressError || rethrow()
        # Nothing to report an init error to: one line on stderr, no stack trace.
        println(stderr, "[jot] ", e.msg)
        exit(1)
    end
    c = Conn(address)
    cfg = Config()
    selftest = self_test_payload()
    load_test = self_test_load()
    cache_log = CacheLog(String[])
    loaded = try
        isempty(selftest) && !load_test ? load_responder(cfg) :
        Base.CoreLogging.with_logger(() -> load_responder(cfg), cache_log)
    catch e
        e isa InterruptException && exit(130)
        init_failed(c, e isa InitFailure ? e :
                       InitFailure("Runtime.InitError", sprint(showerror, e),
                                   user_frames(catch_backtrace(), :main)))
    end
    _, f, T, takes_ctx = loaded
    clock.responder = time()
    try
        # invokelatest: the responder's methods are newer than this function.
        # (Checked here: calling warm_up_init compiles it for the responder's type, ~50 ms.)
        warm_up_wanted() && warm_up_init(c, f, T, takes_ctx, cfg)
        isempty(selftest) || Base.invokelatest(self_test, f, T, takes_ctx, cfg, selftest, cache_log)
        isempty(selftest) && load_test && check_caches(cache_log)
    catch e
        e isa InterruptException && exit(130)
        e isa InitFailure || rethrow()
        init_failed(c, e)
    end
    clock.warmup = time()
    try
        snap_start() && snapshot_and_restore(c)
        report_init!(c, clock)
        Base.invokelatest(serve, c, f, T, Val(takes_ctx), cfg)
    catch e
        e isa InterruptException && exit(130)
        rethrow()
    end
end

# The warm-up of init: with --warmup-payload a real call (its failure is an init
# error), else the generic one (only an optimisation: never fatal).
function warm_up_init(c::Conn, f, T, takes_ctx::Bool, cfg::Config)
    payload = warmup_payload()
    if isempty(payload)
        try
            Base.invokelatest(warm_up, c, f, T, takes_ctx, cfg)
        catch e
            e isa InterruptException && rethrow()
            println(stderr, "[jot] warning: warm-up failed: ", sprint(showerror, e))
        end
        return nothing
    end
    try
        Base.invokelatest(warm_call, f, T, takes_ctx, cfg, payload)
    catch e
        e isa InterruptException && rethrow()
        throw(InitFailure("Runtime.WarmupError",
                          "the warm-up call with --warmup-payload $(abbreviate(payload, 200)) " *
                          "failed: " * sprint(showerror, unwrap_load_error(e)),
                          user_frames(catch_backtrace(), :warm_up_init)))
    end
    Base.invokelatest(warm_loop, c, f, T, takes_ctx, cfg)
    return nothing
end
