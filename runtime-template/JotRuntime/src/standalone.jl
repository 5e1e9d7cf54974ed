# ════════════════════════════════════════════════════════════════════════════════
# Standalone: an image started outside Lambda (no AWS_LAMBDA_RUNTIME_API), as
# `docker run -p 9000:8080 IMAGE`, answers AWS's local-testing path
#   POST /2015-03-31/functions/function/invocations
# on port 8080 (JOT_STANDALONE_PORT; JOT_STANDALONE_BIND, default 0.0.0.0 so that
# -p can reach it) with the local emulator's semantics.
#
# The function runs in a worker process: the very Lambda path of `main()`, pointed
# at a Runtime API this process serves on 127.0.0.1 under an unguessable prefix. So
# the Lambda path is unchanged (bootstrap picks `standalone()` only without
# AWS_LAMBDA_RUNTIME_API), and a timeout can kill the worker as Lambda kills a
# sandbox; the next invocation starts a fresh one (a new init, as on Lambda).
# ════════════════════════════════════════════════════════════════════════════════

const STANDALONE_INVOKE_PATH = "/2015-03-31/functions/function/invocations"
const STANDALONE_INIT_BUDGET = 10.0          # seconds, before the timeout starts (as Lambda)
const STANDALONE_DEFAULT_TIMEOUT = 300.0     # as AWS's runtime interface emulator

# One invocation's outcome: the body, and the error type when it is an error.
struct Outcome
    body::Vector{UInt8}
    errortype::String                        # "" for a response
end

error_outcome(t::String, msg::String) =
    Outcome(Vector{UInt8}(sprint(write_json, Dict("errorType" => t, "errorMessage" => msg))), t)

mutable struct Pending
    id::String
    event::Vector{UInt8}
    result::Channel{Outcome}
    done::Bool                               # the first outcome wins; the rest are dropped
    taken::Bool                              # the worker has fetched it
    timer::Union{Nothing,Timer}              # its timeout, once running
end

Pending(id, event) = Pending(id, event, Channel{Outcome}(1), false, false, nothing)

function settle!(p::Pending, o::Outcome)
    p.done && return
    p.done = true
    put!(p.result, o)
end

mutable struct Standalone
    timeout::Float64
    env::Dict{String,String}                 # the worker's Lambda environment
    current::Union{Nothing,Pending}
    wake::Condition                          # a new invocation, or a new worker
    worker::Union{Nothing,Base.Process}
    generation::Int                          # each worker has its own Runtime API prefix,
    one_at_a_time::ReentrantLock             # so a killed one's requests take nothing
    rtport::Int
    prefix::String
end

function Standalone(rtport::Int, prefix::String)
    timeout = something(tryparse(Float64, get(ENV, "AWS_LAMBDA_FUNCTION_TIMEOUT", "")),
                        STANDALONE_DEFAULT_TIMEOUT)
    env = copy(ENV)
    get!(env, "AWS_LAMBDA_FUNCTION_NAME", "function")
    get!(env, "AWS_LAMBDA_FUNCTION_VERSION", "\$LATEST")
    get!(env, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "3008")
    get!(env, "AWS_LAMBDA_FUNCTION_TIMEOUT", string(round(Int, timeout)))
    get!(env, "AWS_REGION", "us-east-1")
    Standalone(timeout, env, nothing, Condition(), nothing, 0, ReentrantLock(), rtport, prefix)
end

function_arn(st::Standalone) = string("arn:aws:lambda:", st.env["AWS_REGION"],
                                      ":000000000000:function:", st.env["AWS_LAMBDA_FUNCTION_NAME"])

bootstrap_path() = get(ENV, "JOT_BOOTSTRAP", joinpath(dirname(dirname(SRC_DIR)), "bootstrap"))

worker_prefix(st::Standalone, gen::Int) = string(st.prefix, "/", gen)

function start_worker!(st::Standalone)
    st.generation += 1
    st.env["AWS_LAMBDA_RUNTIME_API"] = string("127.0.0.1:", st.rtport, worker_prefix(st, st.generation))
    cmd = setenv(`$(bootstrap_path())`, st.env)
    proc = run(pipeline(cmd; stdin = devnull, stdout = stdout, stderr = stderr); wait = false)
    st.worker = proc
    @async begin
        wait(proc)
        p = st.current
        if p !== nothing && st.worker === proc
            settle!(p, error_outcome("Runtime.ExitError",
                                     "RequestId: $(p.id) Error: Runtime exited with error: " *
                                     "exit status $(proc.exitcode)"))
        end
    end
    return proc
end

function stop_worker!(st::Standalone)
    proc = st.worker
    st.worker = nothing
    proc === nothing || process_running(proc) && kill(proc, Base.SIGKILL)
    st.generation += 1
    notify(st.wake)
    return nothing
end

# The invocation's timeout starts when the worker fetches it, or when init has
# spent its own budget.
function start_timeout!(st::Standalone, p::Pending)
    p.timer === nothing || return
    p.timer = Timer(st.timeout) do _
        p.done && return
        stop_worker!(st)
        settle!(p, error_outcome("Sandbox.Timedout",
                                 string("RequestId: ", p.id, " Error: Task timed out after ",
                                        two_decimals(st.timeout), " seconds")))
    end
end

function two_decimals(x::Float64)
    c = round(Int, x * 100)
    return string(div(c, 100), ".", lpad(string(rem(c, 100)), 2, '0'))
end

"""Invoke the function with `event` (JSON bytes); returns its `Outcome`."""
function standalone_invoke(st::Standalone, event::Vector{UInt8})
    lock(st.one_at_a_time) do
        (st.worker === nothing || !process_running(st.worker)) && start_worker!(st)
        p = Pending(string(Base.UUID(random_u128())), event)
        st.current = p
        notify(st.wake)
        init = Timer(_ -> start_timeout!(st, p), STANDALONE_INIT_BUDGET)
        outcome = take!(p.result)
        close(init)
        p.timer === nothing || close(p.timer)
        st.current = nothing
        return outcome
    end
end

# ── The Runtime API the worker talks to ─────────────────────────────────────────

# Waits for an invocation not yet fetched; `nothing` once worker `gen` is replaced.
function next_for(st::Standalone, gen::Int)
    while true
        gen == st.generation || return nothing
        p = st.current
        if p !== nothing && !p.taken
            p.taken = true
            start_timeout!(st, p)
            return p
        end
        wait(st.wake)
    end
end

function runtime_api_answer(st::Standalone, method::String, path::String, body::Vector{UInt8},
                            headers::Dict{String,String})
    gen = st.generation
    base = worker_prefix(st, gen) * API_PREFIX
    startswith(path, base) || return (404, Pair{String,String}[], b"{}")
    rest = path[ncodeunits(base)+1:end]
    accepted = (202, Pair{String,String}[], Vector{UInt8}("{\"status\":\"OK\"}"))
    if method == "GET" && rest == "/invocation/next"
        p = next_for(st, gen)
        p === nothing && return (410, Pair{String,String}[], b"{}")   # a killed worker's
        deadline = floor(Int64, (time() + st.timeout) * 1000)
        return (200, ["Lambda-Runtime-Aws-Request-Id" => p.id,
                      "Lambda-Runtime-Deadline-Ms" => string(deadline),
                      "Lambda-Runtime-Invoked-Function-Arn" => function_arn(st)], p.event)
    end
    method == "POST" || return (405, Pair{String,String}[], b"{}")
    length(body) > MAX_RESPONSE_BYTES &&
        return (413, Pair{String,String}[], Vector{UInt8}("{\"errorType\":\"RequestEntityTooLarge\"}"))
    p = st.current
    if rest == "/init/error"
        p === nothing || settle!(p, Outcome(body, get(headers, "lambda-runtime-function-error-type", "Runtime.Unknown")))
        return accepted
    end
    m = match(r"\A/invocation/([^/]+)/(response|error)\z", rest)
    m === nothing && return (404, Pair{String,String}[], b"{}")
    if p !== nothing && p.id == m.captures[1]
        t = m.captures[2] == "error" ? get(headers, "lambda-runtime-function-error-type", "Function.Unknown") : ""
        settle!(p, Outcome(body, t))
    end
    return accepted
end

# ── The Invoke side (port 8080) ─────────────────────────────────────────────────

function invoke_answer(st::Standalone, method::String, path::String, body::Vector{UInt8})
    path == STANDALONE_INVOKE_PATH ||
        return (404, Pair{String,String}[], Vector{UInt8}("{\"message\":\"POST $STANDALONE_INVOKE_PATH\"}"))
    method == "POST" || return (405, Pair{String,String}[], b"{}")
    length(body) > 6 * 1024 * 1024 &&
        return (413, Pair{String,String}[], Vector{UInt8}("{\"errorType\":\"RequestEntityTooLargeException\"}"))
    o = standalone_invoke(st, isempty(body) ? Vector{UInt8}("{}") : body)
    headers = isempty(o.errortype) ? Pair{String,String}[] : ["X-Amz-Function-Error" => "Unhandled"]
    return (200, headers, o.body)
end

# ── A small HTTP/1.1 server (Content-Length or chunked bodies, keep-alive) ──────

function read_request(@nospecialize(sock::IO))
    line = readline_crlf(sock)
    isempty(line) && eof(sock) && return nothing
    parts = split(line, ' ')
    length(parts) == 3 || throw(HTTPProtocolError("bad request line $(repr(line))"))
    headers = Dict{String,String}()
    while true
        h = readline_crlf(sock)
        isempty(h) && break
        colon = findfirst(isequal(':'), h)
        colon === nothing && continue
        headers[lowercase(strip(SubString(h, 1, colon - 1)))] = String(strip(SubString(h, colon + 1)))
    end
    body = if occursin("chunked", lowercase(get(headers, "transfer-encoding", "")))
        read_chunked(sock)
    else
        n = tryparse(Int, get(headers, "content-length", "0"))
        (n === nothing || n < 0) && throw(HTTPProtocolError("bad Content-Length"))
        read(sock, n)
    end
    target = String(parts[2])
    q = findfirst(isequal('?'), target)
    path = q === nothing ? target : target[1:prevind(target, q)]
    return (String(parts[1]), path, headers, body)
end

const REASONS = Dict(200 => "OK", 202 => "Accepted", 404 => "Not Found",
                     405 => "Method Not Allowed", 413 => "Payload Too Large",
                     400 => "Bad Request", 500 => "Internal Server Error")

function write_answer(sock::IO, status::Int, headers, body::Vector{UInt8})
    io = IOBuffer()
    write(io, "HTTP/1.1 ", string(status), " ", get(REASONS, status, "Status"),
          "\r\nContent-Type: application/json\r\nContent-Length: ", string(length(body)), "\r\n")
    for (k, v) in headers
        write(io, k, ": ", v, "\r\n")
    end
    write(io, "\r\n", body)
    write(sock, take!(io))                   # one write (see DESIGN: Nagle)
end

function serve_connection(answer, sock::TCPSocket)
    try
        while isopen(sock)
            req = read_request(sock)
            req === nothing && break
            method, path, headers, body = req
            status, extra, out = answer(method, path, body, headers)
            write_answer(sock, status, extra, out)
            lowercase(get(headers, "connection", "")) == "close" && break
        end
    catch e
        e isa InterruptException && rethrow()
        if e isa HTTPProtocolError
            try write_answer(sock, 400, Pair{String,String}[], Vector{UInt8}("{}")) catch end
        elseif !(e isa Base.IOError || e isa EOFError)
            println(stderr, "[jot] standalone: ", sprint(showerror, e))
        end
    finally
        close(sock)
    end
end

function serve_forever(answer, server)
    while true
        sock = accept(server)
        @async serve_connection(answer, sock)
    end
end

# 128 random bits from the kernel: the lean system image has no Random stdlib
# (`rand` has no methods there), and an unguessable prefix needs no PRNG.
random_u128() = open(io -> read(io, UInt128), "/dev/urandom")

"""
    standalone()

What the image does without AWS_LAMBDA_RUNTIME_API: serve the local-testing
Invoke path (see the top of this file). Blocks until interrupted.
"""
function standalone()
    port = something(tryparse(Int, get(ENV, "JOT_STANDALONE_PORT", "8080")), 8080)
    bind = get(ENV, "JOT_STANDALONE_BIND", "0.0.0.0")
    rtport, rtserver = listenany(ip"127.0.0.1", 49152)
    prefix = "/" * string(random_u128(); base = 16)
    st = Standalone(Int(rtport), prefix)
    front = try
        listen(parse(IPAddr, bind), port)
    catch e
        println(stderr, "[jot] cannot listen on $bind:$port: ", sprint(showerror, e))
        exit(1)
    end
    println(stderr, "[jot] no AWS_LAMBDA_RUNTIME_API: serving POST $STANDALONE_INVOKE_PATH ",
            "on $bind:$port (timeout $(st.timeout) s)")
    @async serve_forever((m, p, b, h) -> runtime_api_answer(st, m, p, b, h), rtserver)
    try
        serve_forever((m, p, b, h) -> invoke_answer(st, m, p, b), front)
    catch e
        e isa InterruptException || rethrow()
    finally
        stop_worker!(st)
    end
end
