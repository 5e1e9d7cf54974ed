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

