# ════════════════════════════════════════════════════════════════════════════════
# HTTP functions: a typed request and response for API Gateway HTTP API (payload
# 2.0) and function URL events (the same shape), and API Gateway REST (1.0), so a
# responder takes a request and returns a status, headers and a body. Picked with
# `--arg-type HTTPRequest`, or by a method `f(::HTTPRequest)` when the argument
# type is left at Any.
# ════════════════════════════════════════════════════════════════════════════════

import Base64

"""
    HTTPRequest

An HTTP request from API Gateway (HTTP API v2, REST v1) or a function URL:
`method` ("GET"), `path` ("/items/7"), `headers` (names lower-cased; repeated
headers joined by ","), `query` (the query string's parameters), `body` (a
String, base64-decoded when the event says so), `cookies`, `source_ip`, and
`event`, the whole parsed event.
"""
struct HTTPRequest
    method::String
    path::String
    headers::Dict{String,String}
    query::Dict{String,String}
    body::String
    cookies::Vector{String}
    source_ip::String
    event::Dict{String,Any}
end

"""
    HTTPResponse(status, headers, body)
    HTTPResponse(body; status = 200, headers = ...)

What an HTTP function returns; written as the Lambda proxy response
`{"statusCode", "headers", "body", "isBase64Encoded"}`. A `Vector{UInt8}` body
is sent base64-encoded (binary); a String as it is. Headers default to
`content-type: text/plain; charset=utf-8`.
"""
struct HTTPResponse
    status::Int
    headers::Dict{String,String}
    body::Union{String,Vector{UInt8}}
end

const TEXT_PLAIN = "text/plain; charset=utf-8"

HTTPResponse(status::Integer, headers, body::AbstractString) =
    HTTPResponse(Int(status), Dict{String,String}(string(k) => string(v) for (k, v) in headers), String(body))
HTTPResponse(status::Integer, headers, body::AbstractVector{UInt8}) =
    HTTPResponse(Int(status), Dict{String,String}(string(k) => string(v) for (k, v) in headers), Vector{UInt8}(body))
HTTPResponse(body::Union{AbstractString,AbstractVector{UInt8}}; status::Integer = 200,
             headers = Dict("content-type" => TEXT_PLAIN)) = HTTPResponse(status, headers, body)

str_dict(@nospecialize(x)) = x isa AbstractDict ?
    Dict{String,String}(lowercase(string(k)) => string(v) for (k, v) in x if v !== nothing) :
    Dict{String,String}()

function convert_event(::Type{HTTPRequest}, @nospecialize(x))
    x isa AbstractDict || conv_fail(HTTPRequest, x, "an HTTP event is a JSON object")
    ev = Dict{String,Any}(x)
    ctx = get(ev, "requestContext", nothing)
    http = ctx isa AbstractDict ? get(ctx, "http", nothing) : nothing
    method = http isa AbstractDict ? get(http, "method", nothing) : get(ev, "httpMethod", nothing)
    method isa AbstractString ||
        conv_fail(HTTPRequest, x, "no requestContext.http.method (payload 2.0) or httpMethod (1.0)")
    path = something(get(ev, "rawPath", nothing), get(ev, "path", nothing),
                     http isa AbstractDict ? get(http, "path", "/") : "/")
    headers = str_dict(get(ev, "headers", nothing))
    query = Dict{String,String}(string(k) => string(v)
                                for (k, v) in something(get(ev, "queryStringParameters", nothing),
                                                        Dict{String,Any}()))
    raw = get(ev, "body", nothing)
    body = raw === nothing ? "" : string(raw)
    get(ev, "isBase64Encoded", false) === true && (body = String(Base64.base64decode(body)))
    cookies = String[string(c) for c in something(get(ev, "cookies", nothing), Any[])]
    ip = http isa AbstractDict ? string(get(http, "sourceIp", "")) :
         ctx isa AbstractDict && get(ctx, "identity", nothing) isa AbstractDict ?
         string(get(ctx["identity"], "sourceIp", "")) : ""
    return HTTPRequest(String(method), string(path), headers, query, body, cookies, ip, ev)
end

function json!(io::IO, r::HTTPResponse)
    binary = r.body isa Vector{UInt8}
    body = binary ? Base64.base64encode(r.body) : r.body
    json!(io, Dict{String,Any}("statusCode" => r.status, "headers" => r.headers,
                               "body" => body, "isBase64Encoded" => binary))
end

"""
An argument type left at Any becomes HTTPRequest when `f` has a method for one.
(Not specialised on `f`: compiled once, into the system image, never at a cold start.)
"""
function http_argument(@nospecialize(f))
    f isa Function || return Any
    for m in methods(f)
        sig = m.sig
        sig isa DataType && length(sig.parameters) >= 2 && sig.parameters[2] === HTTPRequest &&
            return HTTPRequest
    end
    return Any
end
