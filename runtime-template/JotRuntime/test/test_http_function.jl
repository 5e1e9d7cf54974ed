# HTTP functions (src/http_function.jl): API Gateway v2 / function URL and v1
# events to HTTPRequest, HTTPResponse to the proxy response, and the argument
# type picked from the function's signature.

const V2_EVENT = """
{"version":"2.0","routeKey":"\$default","rawPath":"/items/7","rawQueryString":"name=ada&x=1",
 "cookies":["a=1"],"headers":{"Content-Type":"text/plain","x-many":"a,b"},
 "queryStringParameters":{"name":"ada","x":"1"},
 "requestContext":{"http":{"method":"POST","path":"/items/7","sourceIp":"10.0.0.1"}},
 "body":"aGVsbG8=","isBase64Encoded":true}
"""

@testset "HTTP functions" begin
    r = J.convert_event(HTTPRequest, J.parse_json(V2_EVENT))
    @test r.method == "POST" && r.path == "/items/7"
    @test r.headers["content-type"] == "text/plain" && r.headers["x-many"] == "a,b"
    @test r.query == Dict("name" => "ada", "x" => "1")
    @test r.body == "hello" && r.cookies == ["a=1"] && r.source_ip == "10.0.0.1"
    v1 = J.convert_event(HTTPRequest, J.parse_json(
        """{"httpMethod":"GET","path":"/p","headers":null,"queryStringParameters":null,"body":null}"""))
    @test v1.method == "GET" && v1.path == "/p" && v1.body == "" && isempty(v1.query)
    @test_throws J.ConversionError J.convert_event(HTTPRequest, J.parse_json("[1]"))
    @test_throws J.ConversionError J.convert_event(HTTPRequest, J.parse_json("{\"a\":1}"))

    out = J.parse_json(J.json_string(HTTPResponse(201, Dict("x-a" => "b"), "made")))
    @test out == Dict("statusCode" => 201, "headers" => Dict("x-a" => "b"),
                      "body" => "made", "isBase64Encoded" => false)
    bin = J.parse_json(J.json_string(HTTPResponse(UInt8[0xff, 0x00])))
    @test bin["isBase64Encoded"] == true && bin["body"] == "/wA=" && bin["statusCode"] == 200
    @test bin["headers"]["content-type"] == J.TEXT_PLAIN

    handler(req::HTTPRequest) = HTTPResponse(req.path)
    plain(x) = x
    @test J.http_argument(handler) === HTTPRequest
    @test J.http_argument(plain) === Any
    @test J.http_argument(Int) === Any
end
