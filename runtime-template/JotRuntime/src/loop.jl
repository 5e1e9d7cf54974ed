# ════════════════════════════════════════════════════════════════════════════════
# The loop
# ════════════════════════════════════════════════════════════════════════════════

function next_event!(c::Conn)
    failures = 0
    while true
        try
            resp = request!(c, "GET", "$(c.base)/invocation/next", EMPTY, "")
            if resp.status == 200
                isempty(c.extra) || (c.extra = "")    # the init report goes once
                c.chain = header(resp, "jot-chain") == "next"
                return resp
            end
            # jot's emulator is stopping this sandbox (Lambda never answers 410):
            # exiting now spares the engine a kill.
            resp.status == 410 && exit(0)
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
    chained = false
    while true
        chained || next_event!(c)
        # In the latest world: on Julia ≥ 1.12 bindings that an event defines
        # (an eval, an include) are seen by the next one, as on older releases.
        chained = Base.invokelatest(handle_invocation, c, f, T, ctx, cfg) === true
    end
end

function handle_invocation(c::Conn, f::F, ::Type{T}, ::Val{C}, cfg::Config) where {F,T,C}
    resp = c.resp
    id = header(resp, "lambda-runtime-aws-request-id")
    set_trace_id!(header(resp, "lambda-runtime-trace-id"))
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
        bt = catch_backtrace()
        mark_logs(resp)
        Base.invokelatest(report_invocation_error, c, id, stage, e, bt, body, T)
        return false
    end
    mark_logs(resp)
    return post_response(c, id, out)
end

# A caller that asked for the log tail (jot's emulator, never Lambda) sends a
# marker: written on both streams after the function's own output, it tells the
# emulator that the engine's log holds everything this invocation wrote.
mark_logs(resp) = isempty(header(resp, "jot-log-marker")) ? nothing : mark_logs(resp, (stdout, stderr))

function mark_logs(resp, streams)
    marker = header(resp, "jot-log-marker")
    isempty(marker) && return nothing
    for io in streams
        println(io, LOG_MARK_PREFIX, marker)
        flush(io)
    end
    return nothing
end

const LOG_MARK_PREFIX = "[jot-log-mark] "

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

# jot's emulator offers a chain on its `/next` answers (`Jot-Chain: next`; Lambda
# never does): a response posted with that header is answered with the next
# event, as `/next` would answer, so a warm invocation takes one round trip, not two.
const CHAIN_REQUEST = "Jot-Chain: next\r\n"

"""
    post_response(c, id, out) -> Bool

Post the function's answer; true when the API chained the next event into its
reply (it is then in `c.resp`), false when the loop must ask `/next`.
"""
function post_response(c::Conn, id::String, out::Vector{UInt8})
    toolarge() = (Base.invokelatest(response_too_large, c, id, length(out)); false)
    length(out) > MAX_RESPONSE_BYTES && return toolarge()
    try
        resp = request!(c, "POST", "$(c.base)/invocation/$id/response", out, "")
        if resp.status == 200 && c.chain
            # The reply is the next event; the offer stands while it is made.
            c.chain = header(resp, "jot-chain") == "next"
            return true
        elseif resp.status == 410
            exit(0)                               # as on /next: the sandbox is stopping
        elseif resp.status == 413
            return toolarge()
        elseif !(200 <= resp.status < 300)
            println(stderr, "[jot] posting the response of $id got HTTP $(resp.status): ",
                    abbreviate(String(copy(resp.body)), 500))
        end
    catch e
        e isa InterruptException && rethrow()
        println(stderr, "[jot] could not post the response of $id: ", sprint(showerror, e))
    end
    return false
end

