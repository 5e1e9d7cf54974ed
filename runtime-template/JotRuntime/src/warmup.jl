# ════════════════════════════════════════════════════════════════════════════════
# Warm-up: compiling the hot path in init (when init is off the request path)
# ════════════════════════════════════════════════════════════════════════════════

# A parsed-JSON value shaped like T (an object with every field of a struct, a
# one-element array for a vector…), converted in init to compile the conversion.
# `nulls`: optional values (Union{Nothing,X}) are null rather than an X.
function sample_event(@nospecialize(T), nulls::Bool = false, depth::Int = 0)
    depth > 4 && return nothing
    d = depth + 1
    T === Any && return Dict{String,Any}("k" => Any[1, 1.5, "s", true, nothing])
    if T isa Union
        nulls && Nothing <: T && return nothing
        for S in Base.uniontypes(T)
            (S === Nothing || S === Missing) || return sample_event(S, nulls, d)
        end
    end
    T <: Bool && return true
    T <: Number && return 1         # for a float, also exercises int → float
    (T <: AbstractString || T === Symbol) && return "s"
    T <: AbstractChar && return "c"
    T <: Enum && return String(Symbol(first(instances(T))))
    T <: AbstractMatrix && return Any[Any[sample_event(eltype(T), nulls, d)]]
    (T <: AbstractArray || T <: AbstractSet) && return Any[sample_event(eltype(T), nulls, d)]
    if T <: Tuple
        a = Any[]
        isconcretetype(T) && for S in fieldtypes(T)
            push!(a, sample_event(S, nulls, d))
        end
        return a
    end
    T <: AbstractDict && return Dict{String,Any}("1" => sample_event(valtype(T), nulls, d))
    if T <: NamedTuple || is_struct_type(T)
        U = isconcretetype(T) ? T : Base.unwrap_unionall(T)
        o = Dict{String,Any}()
        for i in 1:fieldcount(U)
            FT = fieldtype(U, i)
            o[String(fieldname(U, i))] = sample_event(FT isa Type ? FT : Any, nulls, d)
        end
        return o
    end
    return nothing
end

# Compile the writer for a return type: json! for R and, since a struct's fields are
# written through dynamic calls, for its fields' (elements', values') types too.
function precompile_writer(@nospecialize(R), depth::Int = 0)
    (depth > 4 || !(R isa Type)) && return
    if R isa Union
        foreach(S -> precompile_writer(S, depth), Base.uniontypes(R))
    elseif isconcretetype(R)
        precompile(json!, (IOBuffer, R))
        R <: Union{AbstractVector,Tuple,AbstractSet} && precompile(json_array!, (IOBuffer, R))
        if R <: Union{AbstractArray,AbstractSet}
            precompile_writer(eltype(R), depth + 1)
        elseif R <: AbstractDict
            precompile_writer(valtype(R), depth + 1)
        elseif isstructtype(R) && !(R <: Union{Number,AbstractString,Symbol,Tuple,NamedTuple})
            foreach(FT -> precompile_writer(FT, depth + 1), fieldtypes(R))
        end
    end
end

# Compile the hot path before the first event: the JSON reader, the conversion to T
# (by converting a sample event, which also reaches the per-field dynamic calls),
# the function, the writer for its inferred return type, and the loop around them.
# Error reporting is left to compile when an error first happens.
function warm_up(c::Conn, f, ::Type{T}, takes_ctx::Bool, cfg::Config) where {T}
    ev = parse_json("{\"a\":[1,-2,3.5e2,\"x\\n\\u00e9\\ud83d\\ude00\",true,false,null,{}]," *
                    "\"b\":{\"c\":\"\",\"d\":1,\"e\":2.5,\"f\":true,\"g\":null}}")
    write_json(IOBuffer(), ev["a"])
    for nulls in (false, true)
        try
            convert_event(T, sample_event(T, nulls))
        catch
        end
    end
    args = takes_ctx ? (T, LambdaContext) : (T,)
    precompile(f, args)
    try
        foreach(precompile_writer, Base.return_types(f, args))
    catch
    end
    warm_loop(c, f, T, takes_ctx, cfg)
    return nothing
end

# The loop around the function: the HTTP client over canned bytes and the methods
# that take an event and post its answer.
function warm_loop(c::Conn, f, ::Type{T}, takes_ctx::Bool, cfg::Config) where {T}
    warm_http(c, takes_ctx, cfg)
    precompile(serve, (Conn, typeof(f), Type{T}, Val{takes_ctx}, Config))
    precompile(next_event!, (Conn,))
    precompile(handle_invocation, (Conn, typeof(f), Type{T}, Val{takes_ctx}, Config))
    precompile(post_response, (Conn, String, Vector{UInt8}))
    return nothing
end

# Run the HTTP client's request building and response parsing over canned bytes
# (nothing is sent): the first event's response is parsed with compiled code.
function warm_http(c::Conn, takes_ctx::Bool, cfg::Config)
    build_request(c, "GET", "$(c.base)/invocation/next", EMPTY, "")
    build_request(c, "POST", "$(c.base)/invocation/x/response", UInt8[0x7b, 0x7d], "Function.X")
    canned = IOBuffer("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" *
                      "Lambda-Runtime-Aws-Request-Id: x\r\nLambda-Runtime-Deadline-Ms: 1\r\n" *
                      "Lambda-Runtime-Trace-Id: t\r\nContent-Length: 2\r\n\r\n{}" *
                      "HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n" *
                      "2\r\nok\r\n0\r\n\r\n")
    resp = Response()
    read_response!(canned, resp)
    takes_ctx && make_context(resp, cfg)
    read_response!(canned, resp)
    # …and the socket reads it makes (not in Julia's system image).
    precompile(readline, (TCPSocket,))
    precompile(read, (TCPSocket, Int))
    precompile(eof, (TCPSocket,))
    return nothing
end


"""The event of `--warmup-payload` (JOT_WARMUP_PAYLOAD), or "" for none."""
warmup_payload() = get(ENV, "JOT_WARMUP_PAYLOAD", "")

# A context for calls made in init: no request, a deadline a minute away.
warm_context(cfg::Config) =
    LambdaContext("warm-up", floor(Int64, time() * 1000) + 60_000, "", "", nothing, nothing,
                  cfg.function_name, cfg.function_version, cfg.memory_mb, cfg.log_group,
                  cfg.log_stream)

"""
    warm_call(f, T, takes_ctx, cfg, payload)

Run `payload` (JSON) through what an invocation runs (the reader, the conversion
to T, the function, the writer) and discard the answer: everything the first
event needs is compiled in init. Errors propagate (a failing warm-up is an init
error).
"""
function warm_call(f, ::Type{T}, takes_ctx::Bool, cfg::Config, payload::String) where {T}
    arg = convert_event(T, parse_json(payload))
    result = takes_ctx ? f(arg, warm_context(cfg)) : f(arg)
    write_json(IOBuffer(), result)
    return nothing
end
