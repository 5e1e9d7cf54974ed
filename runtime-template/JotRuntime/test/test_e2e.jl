# End to end: the runtime as the image runs it (`bootstrap`, a separate Julia
# process) against a Runtime API served under a path prefix, as cargo-lambda and
# jot's emulators do; and the package loading as `bootstrap --precompile` does it.

const TEMPLATE = normpath(joinpath(@__DIR__, "..", ".."))     # runtime-template/
const BOOTSTRAP = joinpath(TEMPLATE, "bootstrap")

function runtime_process(env::Dict{String,String})
    out, err = tempname(), tempname()
    full = merge(Dict(k => v for (k, v) in ENV if !startswith(k, "JOT_") && !startswith(k, "AWS_")), env)
    proc = run(pipeline(setenv(`sh $BOOTSTRAP`, full); stdout = out, stderr = err); wait = false)
    return proc, out, err
end

@testset "end to end: bootstrap against a prefixed Runtime API" begin
    prefix = "/.rt/s3cr3t"
    ts, events = runtime_api(prefix)
    dir = mktempdir()
    write(joinpath(dir, "increment.jl"), "increment(v::Vector{Int}) = v .+ 1\n")
    proc, out, err = runtime_process(Dict(
        "AWS_LAMBDA_RUNTIME_API" => "http://127.0.0.1:$(ts.port)$prefix",
        "JOT_RESPONDER_PATH" => joinpath(dir, "increment.jl"),
        "JOT_FUNCTION" => "increment", "JOT_ARG_TYPE" => "Vector{Int}"))
    put!(events, ("e2e-1", "[1,2,3]", ""))
    put!(events, ("e2e-2", "[\"a\"]", ""))
    # Done when the runtime asks for a third event: both answers are posted
    # (each before the next GET), and nothing more is coming.
    nexts() = count(r -> r.method == "GET" && endswith(r.path, "/invocation/next"), ts.log)
    done = wait_until(() -> nexts() >= 3 || process_exited(proc), 300)
    process_exited(proc) || kill(proc)
    wait(proc)
    @test done
    if length(posts(ts)) < 2
        println(stderr, "runtime stderr:\n", read(err, String))
    end
    @test length(posts(ts)) == 2
    if length(posts(ts)) >= 2
        r, e = posts(ts)[1], posts(ts)[2]
        @test r.path == "$prefix/2018-06-01/runtime/invocation/e2e-1/response"
        @test r.body == "[2,3,4]"
        @test e.path == "$prefix/2018-06-01/runtime/invocation/e2e-2/error"
        @test e.headers["lambda-runtime-function-error-type"] == "Runtime.ConversionError"
        b = J.parse_json(e.body)
        @test b["errorType"] == "Runtime.ConversionError"
        @test occursin("at [1]: expected Int64, got string \"a\"", b["errorMessage"])
    end
    # Every request was under the prefix (nothing got the 404 for other paths).
    @test all(q -> startswith(q.path, "$prefix/2018-06-01/runtime/"), ts.log)
    @test count(q -> q.method == "GET", ts.log) >= 2
    @test occursin("Runtime.ConversionError", read(err, String))      # logged too
    stop_server(ts)
end

@testset "end to end: an init error under a host:port/prefix address" begin
    prefix = "/jot-abc123"
    ts, events = runtime_api(prefix)
    dir = mktempdir()
    write(joinpath(dir, "f.jl"), "g(x) = x\n")
    proc, out, err = runtime_process(Dict(
        "AWS_LAMBDA_RUNTIME_API" => "127.0.0.1:$(ts.port)$prefix/",
        "JOT_RESPONDER_PATH" => joinpath(dir, "f.jl")))
    @test wait_until(() -> process_exited(proc), 300)
    process_exited(proc) || kill(proc)
    wait(proc)
    @test proc.exitcode == 1
    @test length(ts.log) == 1
    if length(ts.log) == 1
        q = ts.log[1]
        @test q.method == "POST" && q.path == "$prefix/2018-06-01/runtime/init/error"
        @test q.headers["lambda-runtime-function-error-type"] == "Runtime.HandlerNotFound"
        @test J.parse_json(q.body)["errorMessage"] ==
              "function f is not defined in $(joinpath(dir, "f.jl")); pass --function NAME"
    end
    stop_server(ts)
end

@testset "end to end: an unusable address is one line on stderr and exit 1" begin
    for value in ("", "garbage", "https://127.0.0.1:9001", "127.0.0.1:99999", "127.0.0.1:9000/.rt x")
        proc, out, err = runtime_process(Dict("AWS_LAMBDA_RUNTIME_API" => value,
                                              "JOT_RESPONDER_PATH" => "/nonexistent.jl"))
        @test wait_until(() -> process_exited(proc), 120)
        process_exited(proc) || kill(proc)
        wait(proc)
        msg = read(err, String)
        @test proc.exitcode == 1
        @test count(isequal('\n'), msg) == 1 && startswith(msg, "[jot] AWS_LAMBDA_RUNTIME_API")
        @test !occursin("Stacktrace", msg) && !occursin("ERROR", msg)
    end
end

@testset "end to end: the package loads and precompiles as bootstrap --precompile does" begin
    depot = mktempdir()
    code = "push!(LOAD_PATH, $(repr(TEMPLATE))); using JotRuntime; " *
           "print(JotRuntime.json_string(JotRuntime.convert_event(Vector{Int}, JotRuntime.parse_json(\"[1]\"))), \" \", " *
           "isdefined(Main, :JotRuntime), \" \", pathof(JotRuntime))"
    env = merge(Dict(k => v for (k, v) in ENV), Dict("JULIA_DEPOT_PATH" => depot))
    julia = joinpath(Sys.BINDIR, Base.julia_exename())
    result = read(setenv(`$julia --startup-file=no -O1 -e $code`, env), String)
    @test result == "[1] true $(joinpath(TEMPLATE, "JotRuntime", "src", "JotRuntime.jl"))"
    caches = joinpath(depot, "compiled", "v$(VERSION.major).$(VERSION.minor)", "JotRuntime")
    @test isdir(caches) && !isempty(readdir(caches))
end
