# The JSON reader and writer.

const P = J.parse_json
js(x) = J.json_string(x)

@testset "JSON reader: scalars" begin
    @test P("1") === 1
    @test P("-0") === 0
    @test P("  42 \n") === 42
    @test P("1.5") === 1.5
    @test P("1e3") === 1000.0
    @test P("-1.5E-3") === -0.0015
    @test P("0.1") === 0.1
    @test P("true") === true
    @test P("false") === false
    @test P("null") === nothing
    @test P("") === nothing
    @test P(" \t\r\n ") === nothing
    @test P("\"\"") == ""
end

@testset "JSON reader: integer edges" begin
    @test P("999999999999999999") === 999999999999999999          # 18 digits: fast path
    @test P("1000000000000000000") === 1000000000000000000        # 19 digits
    @test P("9223372036854775807") === typemax(Int64)
    @test P("-9223372036854775808") === typemin(Int64)
    @test P("9223372036854775808") === Int128(typemax(Int64)) + 1
    @test P("-9223372036854775809") === Int128(typemin(Int64)) - 1
    @test P("170141183460469231731687303715884105727") === typemax(Int128)
    big = P("170141183460469231731687303715884105728")
    @test big isa BigInt && big == BigInt(typemax(Int128)) + 1
    @test P("[12345678901234567890123]")[1] == parse(BigInt, "12345678901234567890123")
end

@testset "JSON reader: floats" begin
    @test P("1.7976931348623157e308") === floatmax(Float64)
    @test P("5e-324") === nextfloat(0.0)
    @test P("2.2250738585072014e-308") === floatmin(Float64)
    @test P("-0.0") === -0.0
    @test P("1E+2") === 100.0
    @test P("3.141592653589793") === Float64(π)
end

@testset "JSON reader: strings" begin
    @test P("\"a\\\"b\\\\c\\/d\"") == "a\"b\\c/d"          # \" \\ \/
    @test P(raw"\"\b\f\n\r\t\"") == "\b\f\n\r\t"
    @test P(raw"\"\u00e9\u4e2d\"") == "é中"
    @test P(raw"\"\u0000\u001f\"") == "\0\x1f"
    @test P(raw"\"\ud83d\ude00\"") == "😀"                      # surrogate pair
    @test P(raw"\"x\uD83D\uDE00y\"") == "x😀y"                    # upper-case hex
    @test P(raw"\"\ud83d\"") == "\ufffd"                          # lone high surrogate
    @test P(raw"\"\ude00\"") == "\ufffd"                          # lone low surrogate
    @test P(raw"\"\ud83dx\"") == "\ufffdx"
    @test P(raw"\"\ud83d\u00e9\"") == "\ufffdé"                  # high + non-low escape
    @test P("\"日本語 😀\"") == "日本語 😀"                        # raw UTF-8 passes
    @test P("\"plain\"") == "plain"
    s = P("\"a\\nb\"")
    @test s isa String && ncodeunits(s) == 3
end

@testset "JSON reader: containers" begin
    v = P("[1, \"a\", null, true, [], {}]")
    @test v isa Vector{Any}
    @test v == Any[1, "a", nothing, true, Any[], Dict{String,Any}()]
    d = P("{\"a\": {\"b\": [1, 2.5]}, \"c\": null}")
    @test d isa Dict{String,Any}
    @test d["a"]["b"] == Any[1, 2.5] && d["c"] === nothing && length(d) == 2
    @test P("{\"k\":1,\"k\":2}") == Dict{String,Any}("k" => 2)        # the last one wins
    @test P(" [ ] ") == Any[] && P("{ }") == Dict{String,Any}()
    @test P("{\"\\u00e9\":1}") == Dict{String,Any}("é" => 1)
end

@testset "JSON reader: deep nesting" begin
    n = 5000
    v = P("["^n * "]"^n)
    depth = 0
    while v isa Vector && !isempty(v)
        v = v[1]; depth += 1
    end
    @test depth == n - 1
    o = P("{\"a\":"^1000 * "1" * "}"^1000)
    for _ in 1:1000
        o = o["a"]
    end
    @test o === 1
end

@testset "JSON reader: malformed input" begin
    for bad in ("[1,]", "[1", "[", "]", "{", "}", "{\"a\"}", "{\"a\":}", "{a:1}", "{\"a\":1,}",
                "{\"a\" 1}", "[1 2]", "[1]]", "tru", "nul", "fals", "truex", "\"abc",
                "\"\\x\"", "\"\\u12\"", "\"\\u12g4\"", "\"\\", "1 2", "-", "-a", "1e", "1e+",
                "+1", ".5", "NaN", "Infinity", "-Infinity", "'a'", "[,1]", "{,}", "\"a\"x",
                "nulll", "[true false]", "{\"a\":1 \"b\":2}", "\u00e9")
        @test_throws J.JSONError P(bad)
    end
    e = try P("[1,]") catch err; err end
    @test e isa J.JSONError && occursin("at byte 4", sprint(showerror, e))
    e = try P("{\"a\":1} x") catch err; err end
    @test occursin("unexpected data after the JSON value", e.msg)
    e = try P("\"abc") catch err; err end
    @test occursin("unterminated string", e.msg)
end

struct WPoint
    x::Int
    y::Float64
end
mutable struct WHalf
    a::Int
    b::Vector{Int}
    WHalf() = (h = new(); h.a = 1; h)
end
struct WNested
    name::String
    at::WPoint
    tags::Vector{Symbol}
end
@enum WColor wred wgreen

@testset "JSON writer: scalars" begin
    @test js(1) == "1"
    @test js(-42) == "-42"
    @test js(typemax(Int64)) == "9223372036854775807"
    @test js(typemin(Int64)) == "-9223372036854775808"
    @test js(typemax(Int128)) == "170141183460469231731687303715884105727"
    @test js(big(2)^100) == "1267650600228229401496703205376"
    @test js(UInt8(7)) == "7"
    @test js(1.5) == "1.5"
    @test js(0.1) == "0.1"
    @test js(-0.0) == "-0.0"
    @test js(1e300) == "1.0e300"
    @test js(5e-324) == "5.0e-324"
    @test js(Float32(1.5)) == "1.5"
    @test js(Float32(1e10)) == "1.0e10"
    @test js(Float32(1.5e-5)) == "1.5e-5"
    @test js(Float16(0.5)) == "0.5"
    @test js(1//4) == "0.25"
    @test js(π) == "3.141592653589793"
    @test js(big"1.5") == "1.5"
    # NaN and ±Inf have no JSON form: written as null (README, "Writing the return value").
    @test js(NaN) == "null" && js(Inf) == "null" && js(-Inf) == "null"
    @test js(NaN32) == "null" && js(Inf32) == "null" && js(Float16(Inf)) == "null"
    @test js([1.0, NaN, -Inf, 2.0]) == "[1.0,null,null,2.0]"
    @test js((a = NaN,)) == "{\"a\":null}"
    @test js(true) == "true" && js(false) == "false"
    @test js(nothing) == "null" && js(missing) == "null"
end

@testset "JSON writer: strings" begin
    @test js("abc") == "\"abc\""
    @test js("a\"b\\c") == "\"a\\\"b\\\\c\""
    @test js("\n\r\t\b\f") == "\"\\n\\r\\t\\b\\f\""
    @test js("\0\x01\x1f") == "\"\\u0000\\u0001\\u001f\""
    @test js("\x7f/") == "\"\x7f/\""                          # DEL and / pass through
    @test js("é中😀") == "\"é中😀\""
    @test js("a\xffb") == "\"a\ufffdb\""                      # invalid UTF-8 → U+FFFD
    @test js(SubString("xabcx", 2, 4)) == "\"abc\""
    @test js(:sym) == "\"sym\""
    @test js('c') == "\"c\"" && js('"') == "\"\\\"\""
    @test js(wgreen) == "\"wgreen\""
    @test js(v"1.2.3") == "\"1.2.3\""
    @test js(Base.UUID("123e4567-e89b-12d3-a456-426614174000")) == "\"123e4567-e89b-12d3-a456-426614174000\""
    @test js(Date(2024, 1, 31)) == "\"2024-01-31\""
    @test js(DateTime(2024, 1, 31, 12, 30)) == "\"2024-01-31T12:30:00\""
    @test js(Int) == "\"$(string(Int))\""
    @test js(sin) == "\"sin\""
    @test js(r"a+b") == "\"a+b\""
end

@testset "JSON writer: containers and structs" begin
    @test js(Int[]) == "[]"
    @test js([1, 2, 3]) == "[1,2,3]"
    @test js(Any[1, "a", nothing, [true]]) == "[1,\"a\",null,[true]]"
    @test js((1, "a")) == "[1,\"a\"]"
    @test js(()) == "[]"
    @test js(Set([7])) == "[7]"
    @test js(x^2 for x in 1:3) == "[1,4,9]"
    @test js(1:3) == "[1,2,3]"
    @test js([1 2; 3 4]) == "[[1,2],[3,4]]"
    @test js(reshape(1:8, 2, 2, 2)) == "[[[1,5],[3,7]],[[2,6],[4,8]]]"
    @test js(fill(5)) == "5"
    @test js(view([1, 2, 3], 2:3)) == "[2,3]"
    @test js(Dict("a" => 1)) == "{\"a\":1}"
    @test js(Dict(:a => [1])) == "{\"a\":[1]}"
    @test js(Dict(1 => "x")) == "{\"1\":\"x\"}"
    @test js(Dict{String,Any}()) == "{}"
    @test js((a = 1, b = "x", c = (d = nothing,))) == "{\"a\":1,\"b\":\"x\",\"c\":{\"d\":null}}"
    @test js(NamedTuple()) == "{}"
    @test js(WPoint(1, 2.5)) == "{\"x\":1,\"y\":2.5}"
    @test js(WNested("n", WPoint(0, 0.0), [:a])) ==
          "{\"name\":\"n\",\"at\":{\"x\":0,\"y\":0.0},\"tags\":[\"a\"]}"
    @test js(WHalf()) == "{\"a\":1,\"b\":null}"            # undefined field → null
    io = IOBuffer()
    @test J.write_json(io, [1]) === nothing
    @test String(take!(io)) == "[1]"
end

@testset "JSON round trips" begin
    values = Any[0, 1, -1, typemax(Int64), typemin(Int64), Int128(typemax(Int64)) + 1,
                 1.5, -2.25e-10, 1e300, floatmax(Float64), nextfloat(0.0), true, false, nothing,
                 "", "plain", "quote\" backslash\\ slash/", "\n\r\t\b\f\0\x1f",
                 "é中😀 \U10ffff", String([Char(c) for c in 0:0x7f]),
                 Any[], Any[1, Any[2, Any[3, Any[]]]], Dict{String,Any}(),
                 Dict{String,Any}("a" => Any[1, "b", nothing], "é" => Dict{String,Any}("x" => 1.5)),
                 Any["😀", Dict{String,Any}("\u0000" => false)]]
    for v in values
        @test isequal(P(js(v)), v)
    end
    # Every code point class through \u escapes and back.
    for c in ('\0', '\x1f', 'a', 'é', '\u2028', '\uffff', '😀', '\U10ffff')
        u = UInt32(c)
        esc = u < 0x10000 ? string("\\u", string(u, base = 16, pad = 4)) :
              (h = 0xd800 + ((u - 0x10000) >> 10); l = 0xdc00 + ((u - 0x10000) & 0x3ff);
               string("\\u", string(h, base = 16), "\\u", string(l, base = 16)))
        @test P("\"" * esc * "\"") == string(c)
        @test P(js(string(c))) == string(c)
    end
    deep = foldl((acc, _) -> Any[acc], 1:2000; init = Any[])
    @test P(js(deep)) == deep
end
