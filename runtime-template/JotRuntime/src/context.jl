# ════════════════════════════════════════════════════════════════════════════════
# Invocation context
# ════════════════════════════════════════════════════════════════════════════════

"""
    LambdaContext

The optional second argument of a responder. Fields: `request_id`, `deadline_ms`
(epoch milliseconds), `invoked_function_arn`, `trace_id`, `client_context` and
`identity` (parsed JSON, or `nothing`), `function_name`, `function_version`,
`memory_limit_in_mb`, `log_group_name`, `log_stream_name`. The property
`ctx.remaining_time_ms` (also `remaining_time_ms(ctx)`) is computed when read.
"""
struct LambdaContext
    request_id::String
    deadline_ms::Int64
    invoked_function_arn::String
    trace_id::String
    client_context::Any
    identity::Any
    function_name::String
    function_version::String
    memory_limit_in_mb::Int
    log_group_name::String
    log_stream_name::String
end

"""Milliseconds left before the invocation's deadline (negative once it passed)."""
remaining_time_ms(ctx::LambdaContext) = getfield(ctx, :deadline_ms) - floor(Int64, time() * 1000)

Base.getproperty(ctx::LambdaContext, s::Symbol) =
    s === :remaining_time_ms ? remaining_time_ms(ctx) : getfield(ctx, s)
Base.propertynames(::LambdaContext, private::Bool = false) =
    (fieldnames(LambdaContext)..., :remaining_time_ms)

struct Config
    kind::String
    path::String
    modname::String
    fname::String
    argtype::String
    function_name::String
    function_version::String
    memory_mb::Int
    log_group::String
    log_stream::String
end

nonempty(s::String) = isempty(s) ? nothing : s

function Config()
    env(k, d = "") = get(ENV, k, d)
    Config(env("JOT_RESPONDER_KIND", "script"), env("JOT_RESPONDER_PATH"),
           env("JOT_RESPONDER_MODULE"), something(nonempty(env("JOT_FUNCTION")), env("_HANDLER")),
           something(nonempty(env("JOT_ARG_TYPE")), "Any"),
           env("AWS_LAMBDA_FUNCTION_NAME"), env("AWS_LAMBDA_FUNCTION_VERSION", "\$LATEST"),
           something(tryparse(Int, env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")), 0),
           env("AWS_LAMBDA_LOG_GROUP_NAME"), env("AWS_LAMBDA_LOG_STREAM_NAME"))
end

function parse_json_or_raw(s::String)
    isempty(s) && return nothing
    try
        return parse_json(s)
    catch e
        # Not JSON, or nested too deep to parse: the header's raw text.
        (e isa JSONError || e isa StackOverflowError) || rethrow()
        return s
    end
end

function make_context(resp::Response, cfg::Config)
    LambdaContext(header(resp, "lambda-runtime-aws-request-id"),
                  something(tryparse(Int64, header(resp, "lambda-runtime-deadline-ms")), 0),
                  header(resp, "lambda-runtime-invoked-function-arn"),
                  header(resp, "lambda-runtime-trace-id"),
                  parse_json_or_raw(header(resp, "lambda-runtime-client-context")),
                  parse_json_or_raw(header(resp, "lambda-runtime-cognito-identity")),
                  cfg.function_name, cfg.function_version, cfg.memory_mb,
                  cfg.log_group, cfg.log_stream)
end


# ── _X_AMZN_TRACE_ID ─────────────────────────────────────────────────────────────
# glibc's setenv (behind `ENV[k] = v`) keeps every string it was given for the life
# of the process: a new trace id per invocation leaked ~350 bytes each, without end
# in a warm sandbox. The runtime owns one buffer instead, which the environment
# points to (putenv), and rewrites the value in place.
const TRACE_VAR = "_X_AMZN_TRACE_ID"
const TRACE_CAPACITY = 1024                        # longer ids go through setenv
const TRACE_BUFFER = Ref{Ptr{UInt8}}(C_NULL)       # "_X_AMZN_TRACE_ID=<value>\0"

"""
    set_trace_id!(trace)

Set `_X_AMZN_TRACE_ID` to `trace` (unset when empty) without leaking: the value
is written into the runtime's own buffer, put in the environment once (again if
something else set the variable since).
"""
function set_trace_id!(trace::String)
    if isempty(trace)
        haskey(ENV, TRACE_VAR) && delete!(ENV, TRACE_VAR)
        return
    end
    n = sizeof(trace)
    (n > TRACE_CAPACITY || Base.containsnul(trace)) && (ENV[TRACE_VAR] = trace; return)
    head = sizeof(TRACE_VAR) + 1
    if TRACE_BUFFER[] == C_NULL
        buffer = convert(Ptr{UInt8}, Libc.malloc(head + TRACE_CAPACITY + 1))
        buffer == C_NULL && (ENV[TRACE_VAR] = trace; return)
        GC.@preserve TRACE_VAR unsafe_copyto!(buffer, pointer(TRACE_VAR), head - 1)
        unsafe_store!(buffer + head - 1, UInt8('='))
        TRACE_BUFFER[] = buffer
    end
    value = TRACE_BUFFER[] + head
    GC.@preserve trace unsafe_copyto!(value, pointer(trace), n)
    unsafe_store!(value + n, 0x00)
    if ccall(:getenv, Ptr{UInt8}, (Cstring,), TRACE_VAR) != value
        ccall(:putenv, Cint, (Ptr{UInt8},), TRACE_BUFFER[]) == 0 || (ENV[TRACE_VAR] = trace)
    end
    return
end
