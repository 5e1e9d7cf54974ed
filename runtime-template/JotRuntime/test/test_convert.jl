# Conversion of a parsed event to the argument type (README: "Converting the event").

struct Point
    x::Float64
    y::Float64
end
struct Segment
    from::Point
    to::Point
end
struct Opt
    a::Int
    b::Union{Nothing,String}
end
struct WithMissing
    a::Int
    m::Union{Missing,Int}
end
struct Param{T}
    v::T
end
struct Checked
    n::Int
    Checked(n) = n < 0 ? throw(ArgumentError("n must be ≥ 0")) : new(n)
end
struct AnyField
    v::Any
end
# A user convert that rejects a value: its error is the conversion's error (it must
# not fall through to the constructor Kelvin(x), which would accept it).
struct Kelvin
    k::Float64
end
Base.convert(::Type{Kelvin}, x::Real) =
    x < 0 ? throw(DomainError(x, "below absolute zero")) : Kelvin(Float64(x))
# A constructor that fails inside with a MethodError of its own.
struct Strict
    s::String
end
only_strings(x::String) = x
Strict(x::Int) = Strict(only_strings(x))
@enum Color red green blue
@enum Small::Int8 tiny = 1 wee = 2

C(T, x) = J.convert_event(T, x)
ev(s) = J.parse_json(s)
# The message of the ConversionError from converting the JSON text `s` to T.
function msg(T, s::String)
    try
        C(T, ev(s))
    catch e
        e isa J.ConversionError || rethrow()
        return sprint(showerror, e)
    end
    return "no error"
end
# The error type raised, for errors that are not ConversionErrors.
errtype(T, s) = try C(T, ev(s)); nothing catch e; typeof(e) end

@testset "conversion: Any" begin
    v = ev("{\"a\":[1,2.5,\"s\",null]}")
    @test C(Any, v) === v
    @test C(Any, nothing) === nothing
end

@testset "conversion: numbers" begin
    @test C(Int, 2) === 2
    @test C(Int, 2.0) === 2
    @test C(Int8, 2.0) === Int8(2)
    @test C(UInt8, 255) === 0xff
    @test C(Float64, 2) === 2.0
    @test C(Float32, 1.5) === 1.5f0
    @test C(Int128, ev("170141183460469231731687303715884105727")) === typemax(Int128)
    @test C(BigInt, 5) == big(5) && C(BigInt, 5) isa BigInt
    @test C(Rational{Int}, 0.5) === 1//2
    @test C(Integer, 2.0) === 2                       # abstract: integral → Int64
    @test C(AbstractFloat, 2) === 2.0                  # abstract: otherwise Float64
    @test C(Real, 2) === 2 && C(Real, 2.5) === 2.5
    @test C(Number, 3) === 3
    @test msg(Int, "2.5") == "expected Int64, got number 2.5 (not representable as Int64)"
    @test msg(UInt8, "300") == "expected UInt8, got number 300 (not representable as UInt8)"
    @test msg(Int, "1e300") == "expected Int64, got number 1.0e300 (not representable as Int64)"
    @test msg(Int, "true") == "expected Int64, got boolean true"
    @test msg(Float64, "\"2\"") == "expected Float64, got string \"2\""
    @test msg(Int, "null") == "expected Int64, got null"
    @test msg(Int, "[1]") == "expected Int64, got array [1]"
    @test msg(Int, "{\"a\":1}") == "expected Int64, got object {\"a\":1}"
end

@testset "conversion: strings, symbols, chars, Bool, Nothing, Missing" begin
    @test C(String, "a") === "a"
    @test C(AbstractString, "a") == "a"
    @test C(Symbol, "abc") === :abc
    @test C(Char, "é") === 'é'
    @test msg(Char, "\"ab\"") == "expected Char, got string \"ab\" (a one-character string)"
    @test msg(String, "1") == "expected String, got number 1"
    @test msg(Symbol, "null") == "expected Symbol, got null"
    @test C(Bool, true) === true && C(Bool, false) === false
    @test msg(Bool, "1") == "expected Bool, got number 1"
    @test C(Nothing, nothing) === nothing
    @test msg(Nothing, "0") == "expected Nothing, got number 0"
    @test C(Missing, nothing) === missing
    @test msg(Missing, "0") == "expected Missing, got number 0"
    long = "\"" * "x"^300 * "\""
    @test endswith(msg(Int, long), "…")                 # long values are abbreviated
end

@testset "conversion: vectors" begin
    @test C(Vector{Int}, ev("[1,2,3]")) == [1, 2, 3]
    @test C(Vector{Int}, ev("[1,2,3]")) isa Vector{Int}
    @test C(Vector{Float64}, ev("[1,2.5]")) == [1.0, 2.5]
    @test C(AbstractVector{Int}, ev("[1]")) isa Vector{Int}
    @test C(Vector, ev("[1,\"a\"]")) == Any[1, "a"]
    @test C(Vector{Int}, ev("[]")) == Int[]
    @test C(Vector{Vector{String}}, ev("[[\"a\"],[]]")) == [["a"], String[]]
    @test C(Vector{Union{Nothing,Int}}, ev("[1,null]")) == [1, nothing]
    @test msg(Vector{Int}, "[\"a\"]") == "at [1]: expected Int64, got string \"a\""
    @test msg(Vector{Int}, "[1,2,\"x\"]") == "at [3]: expected Int64, got string \"x\""
    @test msg(Vector{Vector{Int}}, "[[1],[2,\"x\"]]") == "at [2][2]: expected Int64, got string \"x\""
    @test msg(Vector{Int}, "{}") == "expected $(Vector{Int}), got object {}"
    @test msg(Vector{Point}, "[{\"x\":1,\"y\":\"b\"}]") == "at [1].y: expected Float64, got string \"b\""
end

@testset "conversion: Matrix" begin
    m = C(Matrix{Int}, ev("[[1,2],[3,4],[5,6]]"))
    @test m == [1 2; 3 4; 5 6] && m isa Matrix{Int}
    @test size(C(Matrix{Float64}, ev("[]"))) == (0, 0)
    @test occursin("rows of different lengths", msg(Matrix{Int}, "[[1],[2,3]]"))
    @test msg(Matrix{Int}, "[[1],[\"a\"]]") == "at [2][1]: expected Int64, got string \"a\""
end

@testset "conversion: tuples" begin
    @test C(Tuple{Int,String}, ev("[1,\"a\"]")) === (1, "a")
    @test C(NTuple{3,Float64}, ev("[1,2,3]")) === (1.0, 2.0, 3.0)
    @test C(Tuple{Vararg{Int}}, ev("[1,2,3]")) === (1, 2, 3)
    @test C(Tuple{Vararg{Int}}, ev("[]")) === ()
    @test C(NTuple{N,Int} where N, ev("[4]")) === (4,)
    @test C(Tuple, ev("[1,\"a\"]")) === (1, "a")
    @test C(Tuple{Int,Vararg{String}}, ev("[1,\"a\",\"b\"]")) === (1, "a", "b")
    @test C(Tuple{Real,Real}, ev("[1,2.5]")) === (1, 2.5)
    @test msg(Tuple{Int,String}, "[1,\"a\",3]") ==
          "expected $(Tuple{Int,String}), got array [1,\"a\",3] (2 elements needed, got 3)"
    @test msg(Tuple{Int,String}, "[1,2]") == "at [2]: expected String, got number 2"
    @test msg(Tuple{Vararg{Int}}, "[1,\"a\"]") == "at [2]: expected Int64, got string \"a\""
    @test occursin("0 elements do not fit", msg(Tuple{Int,Vararg{Int}}, "[]"))
    @test msg(Tuple{Int}, "{}") == "expected $(Tuple{Int}), got object {}"
end

@testset "conversion: sets" begin
    @test C(Set{Int}, ev("[1,2,2]")) == Set([1, 2])
    @test C(Set{Int}, ev("[1]")) isa Set{Int}
    @test C(AbstractSet{String}, ev("[\"a\"]")) == Set(["a"])
    @test msg(Set{Int}, "[1,\"a\"]") == "at [2]: expected Int64, got string \"a\""
    @test msg(Set{Int}, "1") == "expected $(Set{Int}), got number 1"
end

@testset "conversion: dictionaries" begin
    d = C(Dict{String,Int}, ev("{\"a\":1,\"b\":2.0}"))
    @test d == Dict("a" => 1, "b" => 2) && d isa Dict{String,Int}
    @test C(Dict{Symbol,Any}, ev("{\"a\":[1]}")) == Dict(:a => Any[1])
    di = C(Dict{Int,String}, ev("{\"1\":\"x\",\"-20\":\"y\"}"))
    @test di == Dict(1 => "x", -20 => "y") && di isa Dict{Int,String}
    @test C(Dict{Float64,Int}, ev("{\"1.5\":1}")) == Dict(1.5 => 1)
    @test C(Dict{Int}, ev("{\"1\":[1]}")) == Dict{Int,Any}(1 => Any[1])
    @test C(Dict, ev("{\"a\":1}")) isa Dict{String,Any}
    @test C(AbstractDict{String,Float64}, ev("{\"a\":1}")) == Dict("a" => 1.0)
    @test C(AbstractDict{String,Float64}, ev("{\"a\":1}")) isa Dict{String,Float64}
    @test C(Dict{String,Vector{Int}}, ev("{\"a\":[1,2]}")) == Dict("a" => [1, 2])
    @test C(Dict{String,Point}, ev("{\"p\":{\"x\":1,\"y\":2}}")) == Dict("p" => Point(1, 2))
    @test msg(Dict{String,Int}, "{\"a\":\"b\"}") == "at a: expected Int64, got string \"b\""
    @test msg(Dict{String,Vector{Int}}, "{\"a\":[1,\"z\"]}") == "at a[2]: expected Int64, got string \"z\""
    @test msg(Dict{Int,String}, "{\"x\":\"a\"}") == "the key \"x\" is not a valid Int64"
    @test msg(Dict{String,Int}, "[1]") == "expected $(Dict{String,Int}), got array [1]"
end

@testset "conversion: NamedTuples" begin
    T = NamedTuple{(:a, :b),Tuple{Int,String}}
    @test C(T, ev("{\"a\":1,\"b\":\"x\",\"extra\":0}")) === (a = 1, b = "x")
    @test msg(T, "{\"a\":1}") == "missing field \"b\" (required by $T)"
    @test msg(T, "{\"a\":\"1\",\"b\":\"x\"}") == "at a: expected Int64, got string \"1\""
    @test C(NamedTuple{(:a,)}, ev("{\"a\":[1]}")) == (a = Any[1],)
    @test C(NamedTuple, ev("{\"b\":1,\"a\":2}")) === (a = 2, b = 1)       # every key, sorted
    NT = NamedTuple{(:a, :b),Tuple{Int,Union{Nothing,Int}}}
    @test C(NT, ev("{\"a\":1}")) == (a = 1, b = nothing) && C(NT, ev("{\"a\":1}")) isa NT
    @test msg(T, "[]") == "expected $T, got array []"
end

@testset "conversion: Union{Nothing,T}, Union{Missing,T}, other unions" begin
    @test C(Union{Nothing,Int}, nothing) === nothing
    @test C(Union{Nothing,Int}, 1) === 1
    @test C(Union{Nothing,Int}, 1.0) === 1
    @test msg(Union{Nothing,Int}, "\"a\"") == "expected Int64, got string \"a\""
    @test C(Union{Missing,Int}, nothing) === missing
    @test C(Union{Missing,String}, "s") == "s"
    @test C(Union{Int,String}, "a") == "a"
    @test C(Union{Int,String}, 3) === 3
    @test msg(Union{Int,String}, "true") == "expected $(Union{Int,String}), got boolean true"
    # A member whose shape matched but whose content failed is named in the message.
    m = msg(Union{Point,Int}, "{\"x\":\"a\",\"y\":1}")
    @test startswith(m, "expected $(Union{Point,Int}), got object")
    @test occursin("as Point: at x: expected Float64, got string \"a\"", m)
end

@testset "conversion: @enum" begin
    @test C(Color, "green") === green
    @test C(Color, 2) === blue
    @test C(Small, "wee") === wee
    @test C(Small, 1) === tiny
    @test msg(Color, "\"purple\"") == "expected Color, got string \"purple\" (one of red, green, blue)"
    @test msg(Color, "7") == "expected Color, got number 7 (one of red, green, blue)"
    @test msg(Small, "1000") == "expected Small, got number 1000 (one of tiny, wee)"
    @test msg(Color, "null") == "expected Color, got null (one of red, green, blue)"
end

@testset "conversion: structs by field name" begin
    @test C(Point, ev("{\"x\":1,\"y\":2.5}")) === Point(1.0, 2.5)
    @test C(Point, ev("{\"y\":2,\"x\":1,\"z\":\"ignored\"}")) === Point(1.0, 2.0)
    @test msg(Point, "{\"x\":1}") == "missing field \"y\" (required by Point)"
    @test msg(Point, "{\"x\":\"a\",\"y\":1}") == "at x: expected Float64, got string \"a\""
    s = C(Segment, ev("{\"from\":{\"x\":0,\"y\":0},\"to\":{\"x\":3,\"y\":4}}"))
    @test s === Segment(Point(0, 0), Point(3, 4))
    @test msg(Segment, "{\"from\":{\"x\":0,\"y\":0},\"to\":{\"x\":\"a\",\"y\":4}}") ==
          "at to.x: expected Float64, got string \"a\""
    @test msg(Segment, "{\"from\":{\"x\":0,\"y\":0},\"to\":{\"x\":1}}") ==
          "at to: missing field \"y\" (required by Point)"
    @test C(Opt, ev("{\"a\":1}")) === Opt(1, nothing)
    @test C(Opt, ev("{\"a\":1,\"b\":\"s\"}")) === Opt(1, "s")
    @test C(Opt, ev("{\"a\":1,\"b\":null}")) === Opt(1, nothing)
    @test isequal(C(WithMissing, ev("{\"a\":1}")), WithMissing(1, missing))
    @test C(WithMissing, ev("{\"a\":1,\"m\":2}")) === WithMissing(1, 2)
    p = C(Param, ev("{\"v\":1}"))
    @test p === Param{Int}(1)                             # the constructor infers T
    @test C(Param{String}, ev("{\"v\":\"a\"}")) === Param{String}("a")
    @test msg(Param{String}, "{\"v\":1}") == "at v: expected String, got number 1"
    @test C(AnyField, ev("{\"v\":[1]}")).v == Any[1]
    @test C(Checked, ev("{\"n\":3}")) === Checked(3)
    @test occursin("Checked(-1) failed: ArgumentError: n must be ≥ 0", msg(Checked, "{\"n\":-1}"))
    @test msg(Point, "[1,2]") == "expected Point, got array [1,2]"
    @test msg(Point, "\"p\"") == "expected Point, got string \"p\""
end

@testset "conversion: anything else (convert, then the constructor)" begin
    @test C(Date, "2024-01-31") == Date(2024, 1, 31)
    @test C(Base.UUID, "123e4567-e89b-12d3-a456-426614174000") ==
          Base.UUID("123e4567-e89b-12d3-a456-426614174000")
    @test C(VersionNumber, "1.2.3") == v"1.2.3"
    @test C(Kelvin, 300) === Kelvin(300.0)
    m = msg(Date, "\"2024-13-01\"")
    @test startswith(m, "expected Date, got string \"2024-13-01\" (ArgumentError:")
    # The convert method exists and refuses the value: that error is reported, never
    # swallowed in favour of the constructor (which would accept -1).
    m = msg(Kelvin, "-1")
    @test startswith(m, "expected Kelvin, got number -1 (DomainError")
    @test occursin("below absolute zero", m)
    # A MethodError inside an existing constructor is reported with its message.
    m = msg(Strict, "1")
    @test occursin("only_strings", m) && startswith(m, "expected Strict, got number 1 (MethodError")
    @test C(Strict, "s") === Strict("s")
    # No convert method for a string; the constructor fails inside (Float64 field).
    @test startswith(msg(Kelvin, "\"warm\""), "expected Kelvin, got string \"warm\" (MethodError")
    # Interrupts pass through untouched.
    @test J.is_fatal(InterruptException())
    @test J.no_method(MethodError(convert, (Int, "a")), convert, (Int, "a"))
    @test !J.no_method(MethodError(convert, (Int, "a")), convert, (Float64, "a"))
end

@testset "conversion: sample events convert (init's warm-up)" begin
    for T in (Any, Int, Float64, String, Bool, Symbol, Char, Vector{Int}, Matrix{Float64},
              Tuple{Int,String}, Set{Int}, Dict{String,Int}, Dict{Int,String},
              NamedTuple{(:a,),Tuple{Int}}, Union{Nothing,Int}, Color, Point, Segment, Opt,
              Vector{Point}, Dict{String,Vector{Point}})
        for nulls in (false, true)
            @test C(T, J.sample_event(T, nulls)) isa T
        end
    end
end
