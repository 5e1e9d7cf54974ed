# ════════════════════════════════════════════════════════════════════════════════
# Precompilation. `bootstrap --precompile` (run at image build) loads this package
# (JotRuntime), which caches it in the image's depot; this workload runs
# only then, so the cache also holds the compiled reader, writer, conversions of
# common types and the HTTP client. (On Julia ≥ 1.9 the cache keeps native code.)
# ════════════════════════════════════════════════════════════════════════════════

function precompile_workload()
    lookup_type(JotRuntime, :(Vector{Int}))  # a package responder's argument type, found by name
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
    precompile_round_trip()
    return nothing
end

# What only a real socket compiles: libuv's read callbacks (closures with no name
# to precompile), the buffer hook and the wake-ups of the waiting task. One GET
# and one POST through `request!` to a loopback server in this process that
# answers as the Runtime API does; anything failing only leaves them uncompiled.
function precompile_round_trip()
    server = Sockets.listen(Sockets.localhost, 0)
    answers = ("HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: x\r\n" *
               "Lambda-Runtime-Deadline-Ms: 1\r\nContent-Length: 2\r\n\r\n{}",
               "HTTP/1.1 202 Accepted\r\nContent-Length: 15\r\n\r\n{\"status\":\"OK\"}")
    serving = @async try
        sock = accept(server)
        try
            for answer in answers
                head = readuntil(sock, "\r\n\r\n")
                occursin("Content-Length: 2", head) && read(sock, 2)
                write(sock, answer)
            end
        finally
            close(sock)
        end
    catch
    end
    try
        c = Conn(string("127.0.0.1:", Int(Sockets.getsockname(server)[2])))
        request!(c, "GET", "$(c.base)/invocation/next", EMPTY, "")
        request!(c, "POST", "$(c.base)/invocation/x/response", UInt8[0x7b, 0x7d], "")
        disconnect!(c)
    catch
    finally
        close(server)
        wait(serving)
    end
    return nothing
end

