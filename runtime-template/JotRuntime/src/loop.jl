# ════════════════════════════════════════════════════════════════════════════════
# The loop
# ════════════════════════════════════════════════════════════════════════════════

function next_event!(c::Conn)
    failures = 0
    while true
        try
            resp = request!(c, "GET", "$(c.base)/invocation/next", EMPTY, "")
            resp.status == 200 && return resp
            println(stderr, "[jot] /invocation/next returned HTTP $(resp.status): ",
                    abbreviate(String(copy(resp.body)), 500))
        catch e
            e isa InterruptException && rethrow()
            println(stderr, "[jot] /invocation/next failed: ", sprint(showerror, e))
        end
        failures += 1
        if failures >= 10
            println(stderr, "[jot] the Runtime API at $(c.hostheader) is unusable; exiting")
            exit(1)
        end
        sleep(0.05 * failures)
    end
end

function serve(c::Conn, f::F, ::Type{T}, ctx::Val{C}, cfg::Config) where {F,T,C}
    while true
        next_event!(c)
        handle_invocation(c, f, T, ctx, cfg)
    end
end

function handle_invocation(c::Conn, f::F, ::Type{T}, ::Val{C}, cfg::Config) where {F,T,C}
    resp = c.resp
    id = header(resp, "lambda-runtime-aws-request-id")
    trace = header(resp, "lambda-runtime-trace-id")
    if isempty(trace)
        haskey(ENV, "_X_AMZN_TRACE_ID") && delete!(ENV, "_X_AMZN_TRACE_ID")
    else
        ENV["_X_AMZN_TRACE_ID"] = trace
    end
    ctx = C ? make_context(resp, cfg) : nothing
    body = String(resp.body)          # takes the bytes; resp.body is replaced on next read
    stage = 1
    local out::Vector{UInt8}
    try
        event = parse_json(body)
        stage = 2
        arg = convert_event(T, event)
        stage = 3
        result = C ? f(arg, ctx) : f(arg)
        stage = 4
        io = IOBuffer()
        write_json(io, result)
        out = take!(io)
    catch e
        e isa InterruptException && rethrow()
        # invokelatest: an inference barrier, so error reporting compiles only when
        # an error happens instead of with the hot path.
        Base.invokelatest(report_invocation_error, c, id, stage, e, catch_backtrace(), body, T)
        return nothing
    end
    post_response(c, id, out)
    return nothing
end

function report_invocation_error(c::Conn, id::String, stage::Int, e, bt, body::String, T)
    if stage == 1
        post_error(c, id, "Runtime.InvalidPayload", "Runtime.InvalidPayload",
                   "the event is not valid JSON: " * sprint(showerror, e), String[])
    elseif stage == 2
        msg = string("cannot convert the event ", abbreviate(body, 200), " to ", T, ": ",
                     sprint(showerror, e))
        post_error(c, id, "Runtime.ConversionError", "Runtime.ConversionError", msg, String[])
    elseif stage == 3
        t = error_type_name(e)
        post_error(c, id, function_error_header(t), t, sprint(showerror, e),
                   user_frames(bt, :handle_invocation))
    else
        post_error(c, id, "Runtime.SerializationError", "Runtime.SerializationError",
                   "the return value could not be written as JSON: " * sprint(showerror, e),
                   user_frames(bt, :handle_invocation))
    end
end

response_too_large(c::Conn, id::String, n::Int) =
    post_error(c, id, "Function.ResponseSizeTooLarge", "Function.ResponseSizeTooLarge",
               "Response payload size ($n bytes) exceeded maximum allowed payload " *
               "size ($MAX_RESPONSE_BYTES bytes).", String[])

function post_response(c::Conn, id::String, out::Vector{UInt8})
    toolarge() = Base.invokelatest(response_too_large, c, id, length(out))
    length(out) > MAX_RESPONSE_BYTES && return toolarge()
    try
        resp = request!(c, "POST", "$(c.base)/invocation/$id/response", out, "")
        if resp.status == 413
            toolarge()
        elseif !(200 <= resp.status < 300)
            println(stderr, "[jot] posting the response of $id got HTTP $(resp.status): ",
                    abbreviate(String(copy(resp.body)), 500))
        end
    catch e
        e isa InterruptException && rethrow()
        println(stderr, "[jot] could not post the response of $id: ", sprint(showerror, e))
    end
    return nothing
end

# Warm-up compiles the hot path before the first event. Julia's `precompile`
# infers whole call graphs (error paths included), so it compiles more than one
# event needs: measured on 1.5, an on-demand cold start reaches its first
# response ~350 ms later with it than without. It pays only when init is off the
# request path: provisioned concurrency and SnapStart
# (AWS_LAMBDA_INITIALIZATION_TYPE). JOT_WARM_UP=1 or 0 forces it on or off.
function warm_up_wanted()
    forced = get(ENV, "JOT_WARM_UP", "")
    forced == "1" && return true
    forced == "0" && return false
    return get(ENV, "AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand") != "on-demand"
end

function main()
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
    loaded = try
        load_responder(cfg)
    catch e
        e isa InterruptException && exit(130)
        fail = e isa InitFailure ? e :
               InitFailure("Runtime.InitError", sprint(showerror, e),
                           user_frames(catch_backtrace(), :main))
        post_error(c, "", fail.errortype, fail.errortype, fail.msg, fail.frames)
        exit(1)
    end
    _, f, T, takes_ctx = loaded
    try
        # invokelatest: the responder's methods are newer than this function.
        if warm_up_wanted()
            try
                Base.invokelatest(warm_up, c, f, T, takes_ctx, cfg)
            catch e                               # only an optimisation: never fatal
                e isa InterruptException && rethrow()
                println(stderr, "[jot] warning: warm-up failed: ", sprint(showerror, e))
            end
        end
        Base.invokelatest(serve, c, f, T, Val(takes_ctx), cfg)
    catch e
        e isa InterruptException && exit(130)
        rethrow()
    end
end

