# ════════════════════════════════════════════════════════════════════════════════
# Precompilation. `bootstrap --precompile` (run at image build) loads this package
# (JotRuntime), which caches it in the image's depot; this workload runs
# only then, so the cache also holds the compiled reader, writer, conversions of
# common types and the HTTP client. (On Julia ≥ 1.9 the cache keeps native code.)
# ════════════════════════════════════════════════════════════════════════════════

function precompile_workload()
    io = IOBuffer()
    write_json(io, parse_json("{\"a\":[1,-2,3.5e2,\"x\\n\\u00e9\",true,false,null],\"b\":{}}"))
    for T in (Any, Int64, Float64, String, Bool, Nothing, Vector{Int64}, Vector{Float64},
              Vector{String}, Vector{Any}, Dict{String,Any}, Dict{String,Int64},
              Dict{String,Float64}, Dict{String,String})
        try
            write_json(io, convert_event(T, sample_event(T)))
        catch
        end
    end
    for T in (Int32, Float32, Dict{Symbol,Any}, NamedTuple, Union{Nothing,Int64},
              Union{Nothing,String}, Union{Nothing,Float64})
        precompile(convert_event, (Type{T}, Any))
    end
    for T in (Int32, Float32, Symbol, Vector{Vector{Float64}}, Matrix{Float64})
        precompile(json!, (IOBuffer, T))
    end
    precompile(Conn, (String,))
    precompile(Config, ())
    precompile(request!, (Conn, String, String, Vector{UInt8}, String))
    precompile(next_event!, (Conn,))
    precompile(post_response, (Conn, String, Vector{UInt8}))
    precompile(mark_logs, (Response,))
    precompile(mark_logs, (Response, Tuple{Base.PipeEndpoint,Base.PipeEndpoint}))
    precompile(make_context, (Response, Config))
    precompile(load_responder, (Config,))
    precompile(main, ())
    precompile(main, (Float64,))
    precompile(report_init!, (Conn, InitClock))
    precompile_cold_path()
    return nothing
end

# What an on-demand cold start otherwise compiles before its first response (seen
# with JOT_JULIA_FLAGS=--trace-compile=stderr): the responder lookup, the HTTP
# client run over canned bytes, and the socket methods it reaches.
function precompile_cold_path()
    try
        c = Conn("127.0.0.1:9001")
        warm_http(c, false, Config())
        warm_http(c, true, Config())
    catch
    end
    precompile(resolve_responder, (Config, Symbol))
    precompile(compiled_in_image, (Config,))
    precompile(compiled_package, (Config,))
    precompile(responder_hash, (Config,))
    precompile(http_argument, (Any,))
    precompile(connect!, (Conn,))
    precompile(Sockets.connect!, (TCPSocket, Sockets.IPv4, Int))
    precompile(write, (TCPSocket, Vector{UInt8}))
    precompile(SubString, (String, Int, Int))
    precompile(parentmodule, (DataType,))
    precompile(in, (Module, Tuple{Module,Module}))
    precompile(methods, (Any,))
    precompile(Val, (Bool,))
    return nothing
end

