# The Runtime API address and the HTTP/1.1 client, against a real local server.

@testset "Runtime API address: accepted forms" begin
    cases = [
        ("127.0.0.1:9001", "127.0.0.1", 9001, "127.0.0.1:9001", ""),
        ("localhost:80", "localhost", 80, "localhost:80", ""),
        ("my-host.internal:65535", "my-host.internal", 65535, "my-host.internal:65535", ""),
        ("127.0.0.1:9000/.rt", "127.0.0.1", 9000, "127.0.0.1:9000", "/.rt"),
        ("127.0.0.1:9000/.rt/", "127.0.0.1", 9000, "127.0.0.1:9000", "/.rt"),
        ("127.0.0.1:9000/", "127.0.0.1", 9000, "127.0.0.1:9000", ""),
        ("127.0.0.1:9000/a/b-c_d~e%20f", "127.0.0.1", 9000, "127.0.0.1:9000", "/a/b-c_d~e%20f"),
        ("http://127.0.0.1:9000/.rt", "127.0.0.1", 9000, "127.0.0.1:9000", "/.rt"),
        ("http://127.0.0.1:9000", "127.0.0.1", 9000, "127.0.0.1:9000", ""),
        ("HTTP://Example.com:8080/x", "Example.com", 8080, "Example.com:8080", "/x"),
        ("[::1]:9001", "::1", 9001, "[::1]:9001", ""),
        ("http://[::1]:9001/p", "::1", 9001, "[::1]:9001", "/p"),
        ("::1:9001", "::1", 9001, "[::1]:9001", ""),                   # as before: last colon
    ]
    for (value, host, port, hostport, prefix) in cases
        a = J.parse_runtime_api(value)
        @test (a.host, a.port, a.hostport, a.prefix) == (host, port, hostport, prefix)
    end
    c = J.Conn("http://127.0.0.1:9000/.rt")
    @test c.base == "/.rt/2018-06-01/runtime" && c.hostheader == "127.0.0.1:9000"
    @test J.Conn("127.0.0.1:9001").base == "/2018-06-01/runtime"
    req = String(J.build_request(c, "GET", "$(c.base)/invocation/next", J.EMPTY, ""))
    @test startswith(req, "GET /.rt/2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: 127.0.0.1:9000\r\n")
end

@testset "Runtime API address: refused forms" begin
    for (value, why) in [("", "it is empty"), ("   ", "it is empty"),
                         ("garbage", "the port is missing"),
                         ("127.0.0.1", "the port is missing"),
                         ("127.0.0.1:", "the port \"\" is not a number"),
                         (":9001", "the host is missing"),
                         ("/.rt", "the host is missing"),
                         ("https://127.0.0.1:9001", "https is not supported"),
                         ("ftp://127.0.0.1:21", "unsupported scheme \"ftp\""),
                         ("http://", "the host is missing"),
                         ("127.0.0.1:0", "out of range"),
                         ("127.0.0.1:65536", "out of range"),
                         ("127.0.0.1:123456", "is not a number"),
                         ("127.0.0.1:-1", "is not a number"),
                         ("127.0.0.1:90a", "is not a number"),
                         ("127.0.0.1: 9001", "is not a number"),
                         ("127.0.0.1:9001?x=1", "is not a number"),
                         ("1.2.3.400:9001", "is not an IPv4 address"),
                         ("bad host:9001", "is not a host name or address"),
                         ("[::1:9001", "unclosed ["),
                         ("[zz]:9001", "is not an IPv6 address"),
                         ("[::1]9001", "the port is missing"),
                         ("127.0.0.1:9001/a b", "not allowed in a URL path"),
                         ("127.0.0.1:9001/a?b", "not allowed in a URL path"),
                         ("127.0.0.1:9001/a#b", "not allowed in a URL path"),
                         ("127.0.0.1:9001/a\nb", "not allowed in a URL path"),
                         ("127.0.0.1:9001/a\n", "not allowed in a URL path"),
                         ("127.0.0.1:9001\n", "is not a number"),
                         ("localhost\n:9001", "is not a host name or address")]
        e = try J.parse_runtime_api(value); nothing catch err; err end
        @test e isa J.AddressError
        e isa J.AddressError || continue
        @test occursin(why, e.msg)
        @test startswith(e.msg, "AWS_LAMBDA_RUNTIME_API=")
        @test !occursin('\n', e.msg)                     # one line, even for "a\nb"
    end
    @test_throws J.AddressError J.Conn("127.0.0.1:9000/.rt x")
end

# A client on a fresh connection to a test server.
client(ts) = J.Conn("127.0.0.1:$(ts.port)")
get!(c, path = "/p") = J.request!(c, "GET", path, J.EMPTY, "")
body(r) = String(copy(r.body))

@testset "HTTP: requests are one write, head and body" begin
    c = J.Conn("h:1/pre")
    b = Vector{UInt8}("{\"a\":1}")
    @test String(J.build_request(c, "POST", "/pre/x", b, "Function.Oops")) ==
          "POST /pre/x HTTP/1.1\r\nHost: h:1\r\nUser-Agent: jot-julia-runtime/1\r\n" *
          "Content-Type: application/json\r\nContent-Length: 7\r\n" *
          "Lambda-Runtime-Function-Error-Type: Function.Oops\r\n\r\n{\"a\":1}"
    @test String(J.build_request(c, "POST", "/pre/x", UInt8[], "")) ==
          "POST /pre/x HTTP/1.1\r\nHost: h:1\r\nUser-Agent: jot-julia-runtime/1\r\n" *
          "Content-Type: application/json\r\nContent-Length: 0\r\n\r\n"
    @test String(J.build_request(c, "GET", "/pre/y", b, "")) ==
          "GET /pre/y HTTP/1.1\r\nHost: h:1\r\nUser-Agent: jot-julia-runtime/1\r\n\r\n"
    # On the wire: the server's first read holds the whole request. (Two writes
    # would let the server wake up between the head and the body.)
    port, server = listenany(ip"127.0.0.1", 20000 + rand(0:20000))
    firsts = String[]
    @async begin
        sock = accept(server)
        for _ in 1:3
            push!(firsts, String(readavailable(sock)))
            write(sock, http_response(202, "{}"))
        end
        close(sock)
    end
    c = J.Conn("127.0.0.1:$port")
    for n in (10, 1000, 20_000)
        data = Vector{UInt8}("[" * "1,"^n * "1]")
        r = J.request!(c, "POST", "/x", data, "")
        @test r.status == 202
    end
    @test length(firsts) == 3
    for (f, n) in zip(firsts, (10, 1000, 20_000))
        @test startswith(f, "POST /x HTTP/1.1\r\n")
        @test endswith(f, "\r\n\r\n[" * "1,"^n * "1]")
    end
    close(server)
    # Timing: with Nagle's algorithm back on, a request in two writes waits for the
    # server's delayed ACK of the first (~40 ms on Linux) before the second goes out;
    # in one write it does not wait (DESIGN.md, "Measured here").
    if isdefined(Sockets, :nagle)
        ts = start_server(req -> (http_response(202, "{}"), false))
        c = client(ts)
        data = Vector{UInt8}("[" * "1,"^1000 * "1]")
        J.request!(c, "POST", "/warm", data, "")              # compile, connect
        Sockets.nagle(c.sock, true)
        t0 = time()
        for _ in 1:20
            J.request!(c, "POST", "/x", data, "Function.X")
        end
        elapsed = time() - t0
        @test elapsed < 0.5                                    # two writes: ≥ 0.8 s
        @test ts.conns == 1 && length(ts.log) == 21
        stop_server(ts)
    end
end

@testset "HTTP: send_all takes the kernel's send, and libuv's write for what is left" begin
    # 8 MB to a reader that waits first: the kernel takes part of it at once, the
    # rest goes through Base's write; the server gets every byte, in order.
    port, server = listenany(ip"127.0.0.1", 20000 + rand(0:20000))
    got = Channel{Vector{UInt8}}(1)
    @async begin
        peer = accept(server)
        sleep(0.3)
        put!(got, read(peer, 8 * 2^20))
        close(peer)
    end
    sock = Sockets.connect(ip"127.0.0.1", port)
    data = rand(UInt8, 8 * 2^20)
    J.send_all(sock, data)
    @test take!(got) == data
    # A peer that is gone: an error from Base's write, not a SIGPIPE.
    @test_throws Base.IOError begin
        for _ in 1:50
            J.send_all(sock, data[1:1000])
            sleep(0.01)
        end
    end
    close(sock)
    close(server)
end

@testset "HTTP: Content-Length, keep-alive, headers" begin
    ts = start_server(req -> (http_response(200, "hello " * req.path;
                                            extra = "X-Foo:  bar \r\nLambda-Runtime-Aws-Request-Id: r1\r\n"), false))
    c = client(ts)
    r = get!(c, "/a")
    @test r.status == 200 && body(r) == "hello /a" && r.keepalive
    @test J.header(r, "x-foo") == "bar"                    # lower-cased, trimmed
    @test J.header(r, "lambda-runtime-aws-request-id") == "r1"
    @test J.header(r, "absent") == ""
    r = get!(c, "/b")
    @test body(r) == "hello /b"
    @test ts.conns == 1                                    # the connection was kept
    @test [q.path for q in ts.log] == ["/a", "/b"]
    @test ts.log[1].headers["host"] == "127.0.0.1:$(ts.port)"
    r = J.request!(c, "POST", "/c", Vector{UInt8}("[1]"), "Runtime.X")
    q = ts.log[end]
    @test q.method == "POST" && q.body == "[1]" && q.headers["content-length"] == "3"
    @test q.headers["content-type"] == "application/json"
    @test q.headers["lambda-runtime-function-error-type"] == "Runtime.X"
    @test !haskey(ts.log[1].headers, "lambda-runtime-function-error-type")
    stop_server(ts)
end

@testset "HTTP: chunked bodies" begin
    raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" *
          "5\r\nhello\r\n6;ext=1\r\n world\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n"
    ts = start_server(req -> (raw, false))
    c = client(ts)
    r = get!(c)
    @test r.status == 200 && body(r) == "hello world0123456789"
    r = get!(c)                                            # trailers were consumed
    @test body(r) == "hello world0123456789" && ts.conns == 1
    stop_server(ts)
    big = "x"^70_000
    raw2 = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" *
           string(ncodeunits(big), base = 16) * "\r\n" * big * "\r\n0\r\n\r\n"
    ts = start_server(req -> (raw2, false))
    @test body(get!(client(ts))) == big
    stop_server(ts)
end

@testset "HTTP: 100 Continue before the response" begin
    raw = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 15\r\n\r\n{\"status\":\"OK\"}"
    ts = start_server(req -> (raw, false))
    c = client(ts)
    r = J.request!(c, "POST", "/e", Vector{UInt8}("{}"), "")
    @test r.status == 202 && body(r) == "{\"status\":\"OK\"}"
    @test get!(c).status == 202 && ts.conns == 1
    stop_server(ts)
end

@testset "HTTP: Connection: close, HTTP/1.0 and close-delimited bodies" begin
    ts = start_server(req -> (http_response(200, "bye"; extra = "Connection: close\r\n"), true))
    c = client(ts)
    r = get!(c)
    @test body(r) == "bye" && !r.keepalive && c.sock === nothing
    @test body(get!(c)) == "bye"
    @test ts.conns == 2                                    # reconnected
    stop_server(ts)

    ts = start_server(req -> ("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", true))
    c = client(ts)
    r = get!(c)
    @test body(r) == "ok" && !r.keepalive
    stop_server(ts)
    ts = start_server(req -> ("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", false))
    @test get!(client(ts)).keepalive
    stop_server(ts)

    ts = start_server(req -> ("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", true))
    c = client(ts)
    r = get!(c)
    @test body(r) == "until the end" && !r.keepalive
    @test body(get!(c)) == "until the end" && ts.conns == 2
    stop_server(ts)

    ts = start_server(req -> ("HTTP/1.1 204 No Content\r\n\r\n", false))
    r = get!(client(ts))
    @test r.status == 204 && isempty(r.body) && r.keepalive
    stop_server(ts)
end

@testset "HTTP: a kept-alive connection the server dropped is retried once" begin
    n = Ref(0)
    # The first answer says keep-alive but the server closes the connection.
    ts = start_server(req -> (n[] += 1; (http_response(200, "answer $(n[])"), n[] == 1)))
    c = client(ts)
    @test body(get!(c)) == "answer 1"
    @test eof(c.sock)                                      # wait for the close to reach the client
    @test body(get!(c)) == "answer 2"
    @test ts.conns == 2 && length(ts.log) == 2             # sent once more, once
    stop_server(ts)
end

@testset "HTTP: broken responses are errors" begin
    ts = start_server(req -> ("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", true))
    @test_throws EOFError get!(client(ts))
    stop_server(ts)
    ts = start_server(req -> ("SMTP ready\r\n\r\n", true))
    @test_throws J.HTTPProtocolError get!(client(ts))
    stop_server(ts)
    ts = start_server(req -> ("", true))                   # closed without an answer
    @test_throws EOFError get!(client(ts))
    stop_server(ts)
    port, server = listenany(ip"127.0.0.1", 20000 + rand(0:20000))
    close(server)                                          # nothing listens there
    @test_throws Base.IOError get!(J.Conn("127.0.0.1:$port"))
end

@testset "HTTP: the parser over canned bytes (as init's warm-up runs it)" begin
    io = IOBuffer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}" *
                  "HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n" *
                  "HTTP/1.1 200 OK\nContent-Length: 1\n\nz")      # bare LF tolerated
    r = J.Response()
    @test J.read_response!(io, r).status == 200 && body(r) == "{}"
    @test J.read_response!(io, r).status == 202 && body(r) == "ok"
    @test J.read_response!(io, r).status == 200 && body(r) == "z"
    @test J.warm_http(J.Conn("127.0.0.1:1/p"), true, J.Config()) === nothing
end
