# An HTTP function: API Gateway (HTTP API, payload 2.0) and function URL events
# arrive as a JotRuntime.HTTPRequest (picked by this method's signature, or by
# `--arg-type HTTPRequest`), and an HTTPResponse becomes the Lambda proxy
# response {statusCode, headers, body}.
#
#   jot-build examples/http_hello.jl | jot-invoke --local --payload-file event.json

function http_hello(req::HTTPRequest)
    req.method == "GET" || req.method == "POST" ||
        return HTTPResponse(405, Dict("allow" => "GET, POST"), "method not allowed\n")
    name = get(req.query, "name", isempty(req.body) ? "world" : req.body)
    return HTTPResponse(200, Dict("content-type" => "text/plain; charset=utf-8"),
                        "hello, $name, from $(req.path)\n")
end
