# Invocations through a fake Runtime API in this process: responses, the context,
# error reports (body shape and the Lambda-Runtime-Function-Error-Type header),
# and loading the responder (init errors).

function test_config(; kind = "script", path = "", modname = "", fname = "", argtype = "Any")
    J.Config(kind, path, modname, fname, argtype, "fn", "7", 512, "group", "stream")
end

# Take one event from the fake API and handle it as the loop does.
function invoke_one(c, f, T, takes_ctx; cfg = test_config())
    J.next_event!(c)
    J.handle_invocation(c, f, T, Val(takes_ctx), cfg)
end

@testset "jot's chain: the next event comes as the answer to a response" begin
    # Lambda (no offer): a response gets 202, no chain header, and the loop asks /next.
    ts, events = runtime_api()
    c = J.Conn("127.0.0.1:$(ts.port)")
    put!(events, ("p-1", "1", ""))
    @test invoke_one(c, x -> x + 1, Int, false) === false
    @test !c.chain && !haskey(posts(ts)[1].headers, "jot-chain")
    stop_server(ts)

    # jot's emulator offers it: each response asks for the chain and its answer
    # is the next event, so three events take one /next.
    ts, events = runtime_api("/j"; chain = true)
    c = J.Conn("127.0.0.1:$(ts.port)/j")
    foreach(i -> put!(events, ("c-$i", string(i), "")), 1:3)
    J.next_event!(c)
    @test c.chain
    f = x -> 10x
    @test J.handle_invocation(c, f, Int, Val(false), test_config()) === true
    @test J.header(c.resp, "lambda-runtime-aws-request-id") == "c-2"
    @test J.handle_invocation(c, f, Int, Val(false), test_config()) === true
    @test [p.body for p in posts(ts)] == ["10", "20"]
    @test all(p -> p.headers["jot-chain"] == "next", posts(ts))
    @test count(r -> r.method == "GET", ts.log) == 1
    # An error is posted as always (no chain): the loop asks /next after it.
    @test J.handle_invocation(c, x -> error("no"), Int, Val(false), test_config()) === false
    @test !haskey(posts(ts)[end].headers, "jot-chain")
    @test endswith(posts(ts)[end].path, "/c-3/error")
    stop_server(ts)
end

struct Bad_Error <: Exception end
struct FailingVector <: AbstractVector{Int} end
Base.size(::FailingVector) = (2,)
Base.getindex(::FailingVector, i::Int) = error("element $i is unavailable")
user_raises(v) = sqrt(-1.0 * length(v))
user_inner(x) = throw(ArgumentError("bad $x"))
user_outer(x) = user_inner(x)

@testset "invocations: responses and the context" begin
    ts, events = runtime_api("/pfx")
    c = J.Conn("127.0.0.1:$(ts.port)/pfx")
    put!(events, ("id-1", "[1,2,3]", ""))
    invoke_one(c, v -> v .+ 1, Vector{Int}, false)
    @test length(posts(ts)) == 1
    p = posts(ts)[1]
    @test p.path == "/pfx/2018-06-01/runtime/invocation/id-1/response"
    @test p.body == "[2,3,4]"
    @test !haskey(p.headers, "lambda-runtime-function-error-type")
    @test ts.log[1].method == "GET" && ts.log[1].path == "/pfx/2018-06-01/runtime/invocation/next"

    seen = Ref{Any}(nothing)
    handler = (ev, ctx) -> (seen[] = ctx; (n = ev["n"], id = ctx.request_id))
    put!(events, ("id-2", "{\"n\":5}",
                  "Lambda-Runtime-Trace-Id: Root=1-abc\r\n" *
                  "Lambda-Runtime-Client-Context: {\"client\":{\"app\":\"x\"}}\r\n" *
                  "Lambda-Runtime-Cognito-Identity: not json\r\n"))
    invoke_one(c, handler, Dict{String,Any}, true)
    @test posts(ts)[2].body == "{\"n\":5,\"id\":\"id-2\"}"
    ctx = seen[]
    @test ctx isa LambdaContext
    @test ctx.request_id == "id-2"
    @test ctx.invoked_function_arn == "arn:aws:lambda:eu-west-1:123456789012:function:f"
    @test ctx.trace_id == "Root=1-abc" && ENV["_X_AMZN_TRACE_ID"] == "Root=1-abc"
    @test ctx.client_context == Dict{String,Any}("client" => Dict{String,Any}("app" => "x"))
    @test ctx.identity == "not json"                      # the raw string if not JSON
    @test ctx.function_name == "fn" && ctx.function_version == "7" && ctx.memory_limit_in_mb == 512
    @test ctx.log_group_name == "group" && ctx.log_stream_name == "stream"
    @test 50_000 < ctx.remaining_time_ms <= 60_000
    @test 50_000 < remaining_time_ms(ctx) <= 60_000
    @test :remaining_time_ms in propertynames(ctx)

    put!(events, ("id-3", "", ""))                        # an empty body is nothing
    invoke_one(c, x -> x === nothing ? "empty" : "not", Any, false)
    @test posts(ts)[3].body == "\"empty\""
    @test !haskey(ENV, "_X_AMZN_TRACE_ID")                # no trace header: unset
    @test ts.conns == 1                                    # one kept-alive connection
    stop_server(ts)
end

@testset "_X_AMZN_TRACE_ID: one buffer rewritten in place, not a setenv per invocation" begin
    value_ptr() = ccall(:getenv, Ptr{UInt8}, (Cstring,), "_X_AMZN_TRACE_ID")
    J.set_trace_id!("Root=1-first")
    @test ENV["_X_AMZN_TRACE_ID"] == "Root=1-first"
    first = value_ptr()
    for i in 1:100
        J.set_trace_id!("Root=1-$i;Parent=abc;Sampled=1")
    end
    @test ENV["_X_AMZN_TRACE_ID"] == "Root=1-100;Parent=abc;Sampled=1"
    @test value_ptr() == first                       # the same memory: nothing new kept
    # Code that sets the variable itself does not stop the next invocation's id.
    ENV["_X_AMZN_TRACE_ID"] = "set by the function"
    J.set_trace_id!("Root=1-next")
    @test ENV["_X_AMZN_TRACE_ID"] == "Root=1-next" && value_ptr() == first
    J.set_trace_id!("")
    @test !haskey(ENV, "_X_AMZN_TRACE_ID")
    J.set_trace_id!("Root=1-back")
    @test ENV["_X_AMZN_TRACE_ID"] == "Root=1-back" && value_ptr() == first
    long = "Root=" * "x"^(J.TRACE_CAPACITY + 1)         # beyond the buffer: setenv
    J.set_trace_id!(long)
    @test ENV["_X_AMZN_TRACE_ID"] == long
    J.set_trace_id!("Root=1-short")
    @test ENV["_X_AMZN_TRACE_ID"] == "Root=1-short"
    J.set_trace_id!("")
end

# The error report posted for one event: (path, header, parsed body).
function report(ts)
    p = posts(ts)[end]
    return p.path, get(p.headers, "lambda-runtime-function-error-type", ""), J.parse_json(p.body)
end

function check_shape(b)
    @test b isa Dict{String,Any}
    @test sort(collect(keys(b))) == ["errorMessage", "errorType", "stackTrace"]
    @test b["errorMessage"] isa String && b["errorType"] isa String
    @test b["stackTrace"] isa Vector{Any} && all(s -> s isa String, b["stackTrace"])
end

@testset "invocations: error reports" begin
    ts, events = runtime_api()
    c = J.Conn("127.0.0.1:$(ts.port)")
    put!(events, ("e1", "[1,", ""))
    invoke_one(c, identity, Any, false)
    path, h, b = report(ts)
    @test path == "/2018-06-01/runtime/invocation/e1/error"
    @test h == "Runtime.InvalidPayload" && b["errorType"] == "Runtime.InvalidPayload"
    @test startswith(b["errorMessage"], "the event is not valid JSON: ")
    check_shape(b)
    @test isempty(b["stackTrace"])

    put!(events, ("e2", "[\"a\"]", ""))
    invoke_one(c, identity, Vector{Int}, false)
    path, h, b = report(ts)
    @test path == "/2018-06-01/runtime/invocation/e2/error"
    @test h == "Runtime.ConversionError" && b["errorType"] == "Runtime.ConversionError"
    @test b["errorMessage"] ==
          "cannot convert the event [\"a\"] to $(Vector{Int}): at [1]: expected Int64, got string \"a\""
    check_shape(b)

    put!(events, ("e3", "{\"x\":1}", ""))
    invoke_one(c, identity, Point, false)
    @test report(ts)[3]["errorMessage"] ==
          "cannot convert the event {\"x\":1} to Point: missing field \"y\" (required by Point)"

    put!(events, ("e4", "[1,2]", ""))
    invoke_one(c, user_raises, Vector{Int}, false)
    path, h, b = report(ts)
    @test h == "Function.DomainError" && b["errorType"] == "DomainError"
    @test occursin("sqrt", b["errorMessage"])
    check_shape(b)
    @test any(s -> occursin("user_raises", s), b["stackTrace"])
    # The runtime's own frames are cut off.
    @test !any(s -> occursin("handle_invocation", s), b["stackTrace"])

    put!(events, ("e5", "1", ""))
    invoke_one(c, user_outer, Int, false)
    path, h, b = report(ts)
    @test h == "Function.ArgumentError" && b["errorType"] == "ArgumentError"
    @test b["errorMessage"] == "ArgumentError: bad 1"        # as showerror prints it
    frames = b["stackTrace"]
    @test length(frames) >= 2 && occursin("user_inner", frames[1]) &&
          any(s -> occursin("user_outer", s), frames)

    put!(events, ("e6", "1", ""))
    invoke_one(c, x -> throw(Bad_Error()), Int, false)
    path, h, b = report(ts)
    @test h == "Function.Unhandled" && b["errorType"] == "Bad_Error"     # not letters only

    put!(events, ("e7", "1", ""))
    invoke_one(c, x -> FailingVector(), Int, false)
    path, h, b = report(ts)
    @test h == "Runtime.SerializationError" && b["errorType"] == "Runtime.SerializationError"
    @test startswith(b["errorMessage"], "the return value could not be written as JSON: ")
    @test occursin("element 1 is unavailable", b["errorMessage"])

    put!(events, ("e8", "1", ""))
    invoke_one(c, x -> "x"^(J.MAX_RESPONSE_BYTES + 1), Int, false)
    path, h, b = report(ts)
    @test path == "/2018-06-01/runtime/invocation/e8/error"
    @test h == "Function.ResponseSizeTooLarge" && b["errorType"] == "Function.ResponseSizeTooLarge"
    @test occursin("exceeded maximum allowed payload size ($(J.MAX_RESPONSE_BYTES) bytes)", b["errorMessage"])

    # After every kind of error the next event is served as usual.
    put!(events, ("e9", "41", ""))
    invoke_one(c, x -> x + 1, Int, false)
    @test posts(ts)[end].path == "/2018-06-01/runtime/invocation/e9/response"
    @test posts(ts)[end].body == "42"
    for p in posts(ts)
        h = get(p.headers, "lambda-runtime-function-error-type", "")
        @test isempty(h) || occursin(r"^(Runtime|Function)\.[A-Z][a-zA-Z]+$", h)
    end
    stop_server(ts)
end

@testset "invocations: a 413 from the API becomes ResponseSizeTooLarge" begin
    events = Channel{Tuple{String,String,String}}(4)
    ts = start_server(function (req)
        if req.method == "GET"
            id, b, _ = take!(events)
            return (http_response(200, b; extra = "Lambda-Runtime-Aws-Request-Id: $id\r\n"), false)
        elseif endswith(req.path, "/response")
            return (http_response(413, "{\"errorType\":\"RequestEntityTooLarge\"}"; reason = "Too Large"), false)
        end
        return (http_response(202, "{}"), false)
    end)
    c = client(ts)
    put!(events, ("big", "1", ""))
    invoke_one(c, x -> "small enough here", Int, false)
    @test [p.path for p in posts(ts)] == ["/2018-06-01/runtime/invocation/big/response",
                                          "/2018-06-01/runtime/invocation/big/error"]
    @test posts(ts)[2].headers["lambda-runtime-function-error-type"] == "Function.ResponseSizeTooLarge"
    stop_server(ts)
end

@testset "error reports: body and header helpers" begin
    b = J.parse_json(String(J.error_body("Runtime.X", "quote \" and\nnewline", ["a at b.jl:1"])))
    @test b == Dict{String,Any}("errorMessage" => "quote \" and\nnewline", "errorType" => "Runtime.X",
                                "stackTrace" => Any["a at b.jl:1"])
    @test J.function_error_header("DomainError") == "Function.DomainError"
    @test J.function_error_header("Bad_Error") == "Function.Unhandled"
    @test J.function_error_header("lowercase") == "Function.Unhandled"
    @test J.function_error_header("X") == "Function.Unhandled"       # needs 2+ letters
    @test J.error_type_name(DomainError(1)) == "DomainError"
    ts, _ = runtime_api("/x")
    c = J.Conn("127.0.0.1:$(ts.port)/x")
    J.post_error(c, "", "Runtime.HandlerNotFound", "Runtime.HandlerNotFound", "no f", String[])
    p = posts(ts)[1]
    @test p.path == "/x/2018-06-01/runtime/init/error"
    @test p.headers["lambda-runtime-function-error-type"] == "Runtime.HandlerNotFound"
    @test J.parse_json(p.body)["errorMessage"] == "no f"
    stop_server(ts)
end

function script(code::String; name = "resp$(rand(UInt32)).jl")
    dir = mktempdir()
    path = joinpath(dir, name)
    write(path, code)
    return path
end
function init_failure(cfg)
    try
        J.load_responder(cfg)
    catch e
        e isa J.InitFailure && return e
        rethrow()
    end
    return nothing
end

@testset "loading the responder" begin
    p = script("jt_inc(v::Vector{Int}) = v .+ 1\n")
    _, f, T, takes_ctx = J.load_responder(test_config(path = p, fname = "jt_inc", argtype = "Vector{Int}"))
    @test f([1]) == [2] && T === Vector{Int} && takes_ctx === false

    p = script("struct JtPoint; x::Int; end\njt_ctx(p::JtPoint, ctx::LambdaContext) = p.x\n")
    _, f, T, takes_ctx = J.load_responder(test_config(path = p, fname = "jt_ctx", argtype = "JtPoint"))
    @test takes_ctx === true && T === Base.invokelatest(getfield, Main, :JtPoint)

    p = script("jt_default(x) = x\n"; name = "jt_default.jl")       # the script's base name
    _, f, T, _ = J.load_responder(test_config(path = p))
    @test T === Any && f(3) == 3

    p = script("jt_one(x) = x\n")
    e = init_failure(test_config(path = p, fname = "nope"))
    @test e.errortype == "Runtime.HandlerNotFound"
    @test e.msg == "function nope is not defined in $p; pass --function NAME"
    e = init_failure(test_config(path = p, fname = "jt_one", argtype = "NoSuchType"))
    @test e.errortype == "Runtime.InvalidArgumentType" && occursin("NoSuchType", e.msg)
    e = init_failure(test_config(path = p, fname = "jt_one", argtype = "1 + 1"))
    @test e.errortype == "Runtime.InvalidArgumentType" && occursin("not a type", e.msg)
    p0 = script("jt_zero() = 1\n")
    e = init_failure(test_config(path = p0, fname = "jt_zero"))
    @test e.errortype == "Runtime.HandlerNotFound" && occursin("no method taking one argument", e.msg)

    p = script("jt_syn(x) = (x +\n")
    e = init_failure(test_config(path = p, fname = "jt_syn"))
    @test e.errortype == "Runtime.UserCodeSyntaxError" && occursin("syntax error in", e.msg)
    p = script("error(\"boom at load\")\n")
    e = init_failure(test_config(path = p, fname = "f"))
    @test e.errortype == "Runtime.ImportModuleError" && occursin("boom at load", e.msg)
    e = init_failure(test_config(path = "/no/such/file.jl", fname = "f"))
    @test e.errortype == "Runtime.ResponderNotFound"
    e = init_failure(test_config(path = ""))
    @test e.errortype == "Runtime.InitError"
    e = init_failure(test_config(kind = "zip", path = p))
    @test e.errortype == "Runtime.InitError" && occursin("script or package", e.msg)
    e = init_failure(test_config(kind = "package", path = "/no/such/dir", modname = "NoPkg"))
    @test e.errortype == "Runtime.ResponderNotFound"
    e = init_failure(test_config(kind = "package", path = mktempdir(), modname = "JotNoSuchPkg"))
    @test e.errortype == "Runtime.ImportModuleError"

    # A package: its directory goes on LOAD_PATH; a leading `Pkg.` in the name is allowed.
    dir = mktempdir()
    mkpath(joinpath(dir, "src"))
    write(joinpath(dir, "Project.toml"),
          "name = \"JotTestPkg\"\nuuid = \"6b6a6e39-2b1d-4a53-9d7c-5b1e33a0b1f1\"\n")
    write(joinpath(dir, "src", "JotTestPkg.jl"),
          "module JotTestPkg\nmodule Sub\nh(x::Int) = 2x\nend\nhandler(x::Int, ctx) = x\nend\n")
    _, f, T, takes_ctx = J.load_responder(test_config(kind = "package", path = dir,
                                                      fname = "JotTestPkg.Sub.h", argtype = "Int"))
    @test f(4) == 8 && takes_ctx === false
    _, f, T, takes_ctx = J.load_responder(test_config(kind = "package", path = dir, fname = "handler"))
    @test takes_ctx === true
end

@testset "a log marker on both streams, only when the caller sends one" begin
    out, err = IOBuffer(), IOBuffer()
    plain = J.Response()
    J.mark_logs(plain, (out, err))
    @test isempty(take!(out)) && isempty(take!(err))
    asked = J.Response(200, Dict("jot-log-marker" => "req-7"), UInt8[], true)
    J.mark_logs(asked, (out, err))
    @test String(take!(out)) == "[jot-log-mark] req-7\n"
    @test String(take!(err)) == "[jot-log-mark] req-7\n"
end
