# Test helpers: a small HTTP/1.1 server on 127.0.0.1 (Sockets only) that records
# every request and answers through a handler, and a fake Lambda Runtime API.

struct Req
    method::String
    path::String
    headers::Dict{String,String}     # names lower-cased
    body::String
    conn::Int                        # which connection (1, 2, …) it came on
end

mutable struct TestServer
    server::Sockets.TCPServer
    port::Int
    log::Vector{Req}
    conns::Int
end

# `handler(req)` returns (raw response, close the connection after it) or
# `nothing` to never answer (the connection is held open).
function start_server(handler)
    port, server = listenany(ip"127.0.0.1", 20000 + rand(0:20000))
    ts = TestServer(server, Int(port), Req[], 0)
    @async begin
        while isopen(server)
            sock = try accept(server) catch; break end
            ts.conns += 1
            id = ts.conns
            @async serve_conn(ts, sock, id, handler)
        end
    end
    return ts
end

function serve_conn(ts::TestServer, sock, id::Int, handler)
    try
        while isopen(sock)
            line = readline(sock)
            isempty(line) && eof(sock) && break
            parts = split(chomp(line), ' ')
            headers = Dict{String,String}()
            while true
                h = chomp(readline(sock))
                h = endswith(h, "\r") ? chop(h) : h
                isempty(h) && break
                c = findfirst(isequal(':'), h)
                headers[lowercase(strip(h[1:c-1]))] = String(strip(h[c+1:end]))
            end
            n = parse(Int, get(headers, "content-length", "0"))
            body = String(read(sock, n))
            req = Req(String(parts[1]), String(parts[2]), headers, body, id)
            push!(ts.log, req)
            answer = handler(req)
            answer === nothing && (wait(Condition()); break)     # hold for ever
            raw, close_after = answer
            write(sock, raw)
            close_after && break
        end
    catch e
        e isa Base.IOError || e isa EOFError || rethrow()
    finally
        close(sock)
    end
end

stop_server(ts::TestServer) = close(ts.server)

http_response(status::Int, body::String = ""; reason = "OK", extra = "") =
    string("HTTP/1.1 ", status, " ", reason, "\r\nContent-Length: ", ncodeunits(body), "\r\n",
           extra, "\r\n", body)

# Wait (yielding to the server's tasks) until cond() holds; false on timeout.
function wait_until(cond, seconds::Real)
    t0 = time()
    while !cond()
        time() - t0 > seconds && return false
        sleep(0.02)
    end
    return true
end

# A fake Runtime API under `prefix`: /invocation/next hands out the events put in
# `events` ((id, body, extra headers) tuples), blocking while there are none;
# GET /restore/next answers at once (a restore);
# responses and errors get 202; anything else (e.g. outside the prefix) 404.
# With `chain = true` it is jot's emulator: its events offer `Jot-Chain: next`, and
# a response posted with that header is answered with the next event.
function runtime_api(prefix::String = ""; chain::Bool = false)
    events = Channel{Tuple{String,String,String}}(32)
    base = prefix * "/2018-06-01/runtime"
    function next_answer()
        id, body, extra = take!(events)
        return (http_response(200, body; extra = string(
            "Lambda-Runtime-Aws-Request-Id: ", id, "\r\n",
            "Lambda-Runtime-Deadline-Ms: ", floor(Int64, time() * 1000) + 60_000, "\r\n",
            "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:eu-west-1:123456789012:function:f\r\n",
            chain ? "Jot-Chain: next\r\n" : "", extra)), false)
    end
    handler = function (req::Req)
        if req.method == "GET" && req.path == base * "/invocation/next"
            return next_answer()
        elseif chain && req.method == "POST" && endswith(req.path, "/response") &&
               get(req.headers, "jot-chain", "") == "next"
            return next_answer()
        elseif req.method == "GET" && req.path == base * "/restore/next"
            return (http_response(200, ""), false)
        elseif req.method == "POST" && startswith(req.path, base * "/") &&
               (endswith(req.path, "/response") || endswith(req.path, "/error"))
            return (http_response(202, "{\"status\":\"OK\"}"; reason = "Accepted"), false)
        end
        return (http_response(404, "not found"; reason = "Not Found"), false)
    end
    return start_server(handler), events
end

posts(ts::TestServer) = filter(r -> r.method == "POST", ts.log)
