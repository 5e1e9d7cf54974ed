# Standalone (src/standalone.jl): `bootstrap` without AWS_LAMBDA_RUNTIME_API serves
# the Invoke path; an answer, a function error, a timeout (the worker is killed and
# the next invocation gets a fresh one), and the request parser on canned bytes.

function invoke_raw(port::Integer, body::String; path = J.STANDALONE_INVOKE_PATH)
    sock = Sockets.connect(ip"127.0.0.1", port)
    write(sock, "POST $path HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" *
                "Content-Length: $(sizeof(body))\r\n\r\n$body")
    resp = J.read_response!(sock, J.Response())
    close(sock)
    return resp
end

@testset "standalone" begin
    @test J.two_decimals(3.0) == "3.00"
    @test J.two_decimals(0.5) == "0.50"
    req = J.read_request(IOBuffer("POST /a?x=1 HTTP/1.1\r\nContent-Length: 2\r\nX-A: b\r\n\r\n[]"))
    @test req[1] == "POST" && req[2] == "/a" && req[3]["x-a"] == "b" && req[4] == b"[]"
    chunked = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n[1\r\n1\r\n]\r\n0\r\n\r\n"
    @test J.read_request(IOBuffer(chunked))[4] == b"[1]"
    @test J.read_request(IOBuffer("")) === nothing
    @test_throws J.HTTPProtocolError J.read_request(IOBuffer("nonsense\r\n\r\n"))

    dir = mktempdir()
    write(joinpath(dir, "slow.jl"), """
        function slow(v::Vector{Int})
            isempty(v) && sleep(60)
            any(<(0), v) && throw(DomainError(v, "negative"))
            v .+ 1
        end
        """)
    port, probe = listenany(ip"127.0.0.1", 40000)
    close(probe)
    proc, out, err = runtime_process(Dict(
        "JOT_STANDALONE_PORT" => string(port), "JOT_STANDALONE_BIND" => "127.0.0.1",
        "AWS_LAMBDA_FUNCTION_TIMEOUT" => "2",
        "JOT_RESPONDER_PATH" => joinpath(dir, "slow.jl"),
        "JOT_FUNCTION" => "slow", "JOT_ARG_TYPE" => "Vector{Int}"))
    try
        listening = wait_until(300) do
            try close(Sockets.connect(ip"127.0.0.1", port)); true catch; false end
        end
        @test listening
        r = invoke_raw(port, "[1,2]")
        @test r.status == 200 && String(r.body) == "[2,3]"
        @test J.header(r, "x-amz-function-error") == ""
        r = invoke_raw(port, "[-1]")
        @test r.status == 200 && J.header(r, "x-amz-function-error") == "Unhandled"
        e = J.parse_json(String(r.body))
        @test e["errorType"] == "DomainError" && occursin("negative", e["errorMessage"])
        t0 = time()
        r = invoke_raw(port, "[]")
        e = J.parse_json(String(r.body))
        @test e["errorType"] == "Sandbox.Timedout"
        @test occursin("Task timed out after 2.00 seconds", e["errorMessage"])
        @test 1.9 < time() - t0 < 20
        r = invoke_raw(port, "[5]")                    # a fresh worker after the kill
        @test String(r.body) == "[6]"
        @test invoke_raw(port, "[]"; path = "/elsewhere").status == 404
    finally
        kill(proc)
        wait(proc)
        process_exited(proc) || println(stderr, read(err, String))
    end
end
