# ════════════════════════════════════════════════════════════════════════════════
# HTTP/1.1 client for the Runtime API: one persistent connection, every request
# sent in a single write (head + body), reconnect when the server closes it.
# ════════════════════════════════════════════════════════════════════════════════

struct HTTPProtocolError <: Exception
    msg::String
end

mutable struct Response
    status::Int
    headers::Dict{String,String}    # names lower-cased
    body::Vector{UInt8}
    keepalive::Bool
end
Response() = Response(0, Dict{String,String}(), UInt8[], true)

header(r::Response, name::String) = get(r.headers, name, "")

const EMPTY = UInt8[]

# ── The Runtime API address ─────────────────────────────────────────────────────
# AWS_LAMBDA_RUNTIME_API is `host:port` on Lambda; other emulators add a path prefix
# or a scheme (cargo-lambda: `http://127.0.0.1:9000/.rt`). Accepted: `host:port`,
# `host:port/prefix` and `http://host:port/prefix`; every request goes under the
# prefix. The host is a name, an IPv4 address or a bracketed IPv6 address.

"""An unusable AWS_LAMBDA_RUNTIME_API value (there is no API to report it to)."""
struct AddressError <: Exception
    msg::String
end
Base.showerror(io::IO, e::AddressError) = print(io, e.msg)

struct RuntimeAddress
    host::String        # without brackets: "127.0.0.1", "::1", "localhost"
    port::Int
    hostport::String    # the Host header: "127.0.0.1:9001", "[::1]:9001"
    prefix::String      # "" or "/.rt" (no trailing slash)
end

# RFC 3986 path characters (pchar) and "/".
const PREFIX_RE = r"\A(/[A-Za-z0-9\-._~!$&'()*+,;=:@%]*)*\z"
const HOSTNAME_RE = r"\A[A-Za-z0-9_]([A-Za-z0-9_\-.]*[A-Za-z0-9_])?\z"
# (\A…\z, not ^…$: $ would also match before a final newline.)

"""
    parse_runtime_api(value) -> RuntimeAddress

Parse AWS_LAMBDA_RUNTIME_API. Throws `AddressError` with a one-line explanation for
anything else than `host:port`, `host:port/prefix` or `http://host:port/prefix`.
"""
function parse_runtime_api(value::AbstractString)
    api = String(value)
    bad(why) = throw(AddressError(string("AWS_LAMBDA_RUNTIME_API=", repr(api), " is not ",
                                         "host:port, host:port/prefix or http://host:port/prefix: ",
                                         why)))
    isempty(strip(api)) && bad("it is empty")
    rest = api
    m = match(r"^([A-Za-z][A-Za-z0-9+.\-]*)://", rest)
    if m !== nothing
        scheme = lowercase(m.captures[1])
        scheme == "https" && bad("https is not supported (the Runtime API is plain HTTP)")
        scheme == "http" || bad("unsupported scheme $(repr(m.captures[1]))")
        rest = rest[ncodeunits(m.match)+1:end]
    end
    slash = findfirst(isequal('/'), rest)
    authority = slash === nothing ? rest : rest[1:prevind(rest, slash)]
    prefix = slash === nothing ? "" : rest[slash:end]
    while endswith(prefix, "/")
        prefix = chop(prefix)
    end
    occursin(PREFIX_RE, prefix) || bad("the path prefix $(repr(prefix)) has characters not allowed in a URL path")
    isempty(authority) && bad("the host is missing")
    if startswith(authority, "[")                               # [IPv6]:port
        close = findfirst(isequal(']'), authority)
        close === nothing && bad("unclosed [ in the host")
        host = authority[2:prevind(authority, close)]
        portstr = authority[close+1:end]
        startswith(portstr, ":") || bad("the port is missing")
        portstr = portstr[2:end]
        tryparse_ip(host, true) === nothing && bad("$(repr(host)) is not an IPv6 address")
    else
        c = findlast(isequal(':'), authority)
        c === nothing && bad("the port is missing")
        host = authority[1:prevind(authority, c)]
        portstr = authority[c+1:end]
        if occursin(':', host)                                  # unbracketed IPv6
            tryparse_ip(host, true) === nothing && bad("$(repr(host)) is not a host name or address")
        else
            isempty(host) && bad("the host is missing")
            occursin(HOSTNAME_RE, host) || bad("$(repr(host)) is not a host name or address")
            occursin(r"\A[0-9.]+\z", host) && tryparse_ip(host, false) === nothing &&
                bad("$(repr(host)) is not an IPv4 address")
        end
    end
    occursin(r"\A[0-9]{1,5}\z", portstr) || bad("the port $(repr(portstr)) is not a number")
    port = parse(Int, portstr)
    1 <= port <= 65535 || bad("the port $port is out of range (1-65535)")
    hostport = occursin(':', host) ? "[$host]:$port" : "$host:$port"
    return RuntimeAddress(host, port, hostport, prefix)
end

# An IPv4/IPv6 address, or nothing. (Sockets' parsers throw on bad input.)
function tryparse_ip(s::String, v6::Bool)
    try
        return v6 ? IPv6(s) : IPv4(s)
    catch e
        e isa ArgumentError || rethrow()
        return nothing
    end
end

mutable struct Conn
    host::String
    port::Int
    hostheader::String
    base::String                    # prefix * "/2018-06-01/runtime"
    sock::Union{Nothing,TCPSocket}
    reqbuf::IOBuffer
    resp::Response                  # reused for every response
    extra::String                   # header lines added to GET requests ("" for none)
    chain::Bool                     # the API offered jot's chain (see post_response)
end

Conn(a::RuntimeAddress) =
    Conn(a.host, a.port, a.hostport, a.prefix * API_PREFIX, nothing, IOBuffer(), Response(), "",
         false)
Conn(api::AbstractString) = Conn(parse_runtime_api(api))

function connect!(c::Conn)
    ip = occursin(r"^[0-9.]+$", c.host) ? IPv4(c.host) :
         occursin(':', c.host) ? IPv6(c.host) : nothing
    sock = ip === nothing ? Sockets.connect(c.host, c.port) : Sockets.connect(ip, c.port)
    # Head and body already go out in one write; TCP_NODELAY/QUICKACK are belts
    # and braces (Sockets.nagle/quickack exist since Julia 1.3).
    isdefined(Sockets, :nagle) && try Sockets.nagle(sock, false) catch end
    isdefined(Sockets, :quickack) && try Sockets.quickack(sock, true) catch end
    c.sock = sock
    return sock
end

function disconnect!(c::Conn)
    sock = c.sock
    c.sock = nothing
    sock === nothing || try close(sock) catch end
    return nothing
end

# The whole request, head and body, as one buffer. `body` is ignored for GET;
# `errortype` ("" for none) becomes the Lambda-Runtime-Function-Error-Type header.
function build_request(c::Conn, method::String, path::String, body::Vector{UInt8},
                       errortype::String)
    buf = c.reqbuf
    write(buf, method, " ", path, " HTTP/1.1\r\nHost: ", c.hostheader,
          "\r\nUser-Agent: jot-julia-runtime/1\r\n")
    if method != "GET"
        write(buf, "Content-Type: application/json\r\nContent-Length: ",
              string(length(body)), "\r\n")
        isempty(errortype) || write(buf, "Lambda-Runtime-Function-Error-Type: ", errortype, "\r\n")
        c.chain && isempty(errortype) && write(buf, CHAIN_REQUEST)
        write(buf, "\r\n", body)
    else
        write(buf, c.extra, "\r\n")
    end
    return take!(buf)
end

const MSG_NOSIGNAL = Cint(0x4000)   # Linux: a closed peer is an error, not SIGPIPE

"""
    send_all(sock, data)

Write `data` with one send(2) on the socket's descriptor. libuv's write (Base's
`write`) waits for its completion callback, an extra turn of the event loop per
request (epoll calls and a task switch); a request the kernel takes whole, as it
takes these small ones, needs none of that. What it does not take (a full send
buffer, an error) goes through `write`, which sends the rest or throws as always.
Only for a socket with no libuv write pending (`request!` waits for each answer),
or the kernel would get bytes ahead of queued ones.
"""
function send_all(sock::TCPSocket, data::Vector{UInt8})
    sent = isdefined(Base, :_fd) ? GC.@preserve(data, ccall(:send, Cssize_t,
        (RawFD, Ptr{UInt8}, Csize_t, Cint), Base._fd(sock), data, length(data), MSG_NOSIGNAL)) : -1
    sent == length(data) && return
    write(sock, sent > 0 ? view(data, sent+1:length(data)) : data)
    return
end

"""
    request!(c, method, path, body, errortype) -> Response

Send one request (a single socket write) and read the response into `c.resp`.
A kept-alive connection the server has closed meanwhile fails in one of several
ways (EOF, reset, "stream is closed"); the request is then sent once more on a
fresh connection.
"""
function request!(c::Conn, method::String, path::String, body::Vector{UInt8},
                  errortype::String)
    data = build_request(c, method, path, body, errortype)
    c.sock === nothing || isopen(c.sock::TCPSocket) || disconnect!(c)
    for attempt in 1:2
        reused = c.sock !== nothing
        sock = reused ? c.sock::TCPSocket : connect!(c)
        try
            send_all(sock, data)                     # the one write
            resp = read_response!(sock, c.resp)
            resp.keepalive || disconnect!(c)
            return resp
        catch e
            disconnect!(c)
            (reused && attempt == 1 && !(e isa InterruptException)) || rethrow()
        end
    end
    error("unreachable")
end

# The reading side takes any IO, unspecialised, so that the code init runs over
# canned bytes (warm_http) is the very code that later reads the socket.
function readline_crlf(@nospecialize(sock::IO))
    line = readline(sock)
    return endswith(line, '\r') ? chop(line) : line
end

function read_response!(@nospecialize(sock::IO), resp::Response)
    while true
        line = readline_crlf(sock)
        isempty(line) && eof(sock) && throw(EOFError())
        (startswith(line, "HTTP/1.") && length(line) >= 12) ||
            throw(HTTPProtocolError("bad status line $(repr(line))"))
        resp.status = parse(Int, SubString(line, 10, 12))
        http10 = codeunit(line, 8) == UInt8('0')
        empty!(resp.headers)
        while true
            h = readline_crlf(sock)
            isempty(h) && break
            colon = findfirst(isequal(':'), h)
            colon === nothing && continue
            resp.headers[lowercase(strip(SubString(h, 1, colon - 1)))] =
                String(strip(SubString(h, colon + 1)))
        end
        100 <= resp.status < 200 && continue               # 100 Continue: read on
        conn = lowercase(header(resp, "connection"))
        resp.keepalive = http10 ? conn == "keep-alive" : conn != "close"
        if occursin("chunked", lowercase(header(resp, "transfer-encoding")))
            resp.body = read_chunked(sock)
        elseif haskey(resp.headers, "content-length")
            n = parse(Int, resp.headers["content-length"])
            resp.body = read(sock, n)
            length(resp.body) == n || throw(EOFError())
        elseif resp.status == 204 || resp.status == 304
            resp.body = UInt8[]
        else                                               # delimited by close
            resp.body = read(sock)
            resp.keepalive = false
        end
        return resp
    end
end

function read_chunked(@nospecialize(sock::IO))
    io = IOBuffer()
    while true
        line = readline_crlf(sock)
        semi = findfirst(isequal(';'), line)
        n = parse(Int, semi === nothing ? line : SubString(line, 1, semi - 1); base = 16)
        n == 0 && break
        chunk = read(sock, n)
        length(chunk) == n || throw(EOFError())
        write(io, chunk)
        readline(sock)                                     # CRLF after the chunk
    end
    while !isempty(readline_crlf(sock)) end                # trailers
    return take!(io)
end

