# Jot's AWS Lambda custom runtime for Julia.
#
# Needs no Julia packages (only the Sockets standard library) and runs on Julia 1.5
# and every later release. It loads the responder named by the JOT_* environment
# variables, then serves the Lambda Runtime API forever: fetch an event, convert its
# JSON to the declared argument type, call the function, post the result as JSON.
# README.md beside this file describes the contract with the image.
#
# Layout: JSON reader · JSON writer · event conversion · HTTP/1.1 client ·
# invocation context · error reports · loading the responder · the loop · main().

module JotRuntime

using Sockets

export LambdaContext, remaining_time_ms

const API_PREFIX = "/2018-06-01/runtime"
const MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100   # what the Runtime API accepts
const RUNTIME_FILE = @__FILE__

# ════════════════════════════════════════════════════════════════════════════════
# JSON reader: objects → Dict{String,Any}, arrays → Vector{Any}, integral literals →
# Int64 (Int128/BigInt when larger), other numbers → Float64, null → nothing.
# ════════════════════════════════════════════════════════════════════════════════

struct JSONError <: Exception
    msg::String
end
Base.showerror(io::IO, e::JSONError) = print(io, e.msg)

mutable struct JSONReader
    s::String
    i::Int          # index of the next byte to read
end

# The byte at the read position, or 0x00 past the end (never valid where a
# structural byte is expected, so it falls through to the error branches).
@inline peekbyte(r::JSONReader) =
    r.i <= ncodeunits(r.s) ? (@inbounds codeunit(r.s, r.i)) : 0x00

json_fail(r::JSONReader, what) = throw(JSONError(string(what, " at byte ", r.i)))

function skipws!(r::JSONReader)
    s = r.s; n = ncodeunits(s); i = r.i
    while i <= n
        b = @inbounds codeunit(s, i)
        (b == 0x20 || b == 0x0a || b == 0x0d || b == 0x09) || break
        i += 1
    end
    r.i = i
    return nothing
end

"""
    parse_json(s::String)

Parse one JSON document. An empty (or all-whitespace) document gives `nothing`.
"""
function parse_json(s::String)
    r = JSONReader(s, 1)
    skipws!(r)
    r.i > ncodeunits(s) && return nothing
    v = read_value(r)
    skipws!(r)
    r.i <= ncodeunits(s) && json_fail(r, "unexpected data after the JSON value")
    return v
end

function read_value(r::JSONReader)
    skipws!(r)
    b = peekbyte(r)
    if b == UInt8('{')
        return read_object(r)
    elseif b == UInt8('[')
        return read_array(r)
    elseif b == UInt8('"')
        return read_string(r)
    elseif b == UInt8('-') || UInt8('0') <= b <= UInt8('9')
        return read_number(r)
    elseif b == UInt8('t')
        return read_literal(r, "true", true)
    elseif b == UInt8('f')
        return read_literal(r, "false", false)
    elseif b == UInt8('n')
        return read_literal(r, "null", nothing)
    elseif r.i > ncodeunits(r.s)
        json_fail(r, "unexpected end of input")
    else
        json_fail(r, "unexpected character $(repr(Char(b)))")
    end
end

function read_literal(r::JSONReader, word::String, value)
    s = r.s; n = ncodeunits(word)
    if r.i + n - 1 <= ncodeunits(s)
        ok = true
        for k in 1:n
            ok &= codeunit(s, r.i + k - 1) == codeunit(word, k)
        end
        if ok
            r.i += n
            return value
        end
    end
    json_fail(r, "invalid literal (expected $word)")
end

function read_object(r::JSONReader)
    d = Dict{String,Any}()
    r.i += 1                                  # '{'
    skipws!(r)
    if peekbyte(r) == UInt8('}')
        r.i += 1
        return d
    end
    while true
        skipws!(r)
        peekbyte(r) == UInt8('"') || json_fail(r, "expected a string key")
        k = read_string(r)
        skipws!(r)
        peekbyte(r) == UInt8(':') || json_fail(r, "expected ':'")
        r.i += 1
        d[k] = read_value(r)
        skipws!(r)
        b = peekbyte(r)
        r.i += 1
        b == UInt8('}') && return d
        b == UInt8(',') || (r.i -= 1; json_fail(r, "expected ',' or '}'"))
    end
end

function read_array(r::JSONReader)
    a = Any[]
    r.i += 1                                  # '['
    skipws!(r)
    if peekbyte(r) == UInt8(']')
        r.i += 1
        return a
    end
    while true
        push!(a, read_value(r))
        skipws!(r)
        b = peekbyte(r)
        r.i += 1
        b == UInt8(']') && return a
        b == UInt8(',') || (r.i -= 1; json_fail(r, "expected ',' or ']'"))
    end
end

function read_number(r::JSONReader)
    s = r.s; n = ncodeunits(s); start = r.i; i = start
    isfloat = false
    i <= n && codeunit(s, i) == UInt8('-') && (i += 1)
    digits0 = i
    while i <= n
        b = @inbounds codeunit(s, i)
        if UInt8('0') <= b <= UInt8('9')
        elseif b == UInt8('.') || b == UInt8('e') || b == UInt8('E') ||
               b == UInt8('+') || b == UInt8('-')
            isfloat = true
        else
            break
        end
        i += 1
    end
    i == digits0 && json_fail(r, "invalid number")
    r.i = i
    if !isfloat && i - digits0 <= 18           # fits Int64: accumulate without allocating
        v = 0
        for k in digits0:i-1
            v = 10v + (codeunit(s, k) - UInt8('0'))
        end
        return digits0 > start ? -v : v
    end
    str = SubString(s, start, i - 1)             # numbers are ASCII, so indices are valid
    if !isfloat
        v = tryparse(Int64, str)
        # Larger integers are rare: parse them behind an inference barrier.
        return v === nothing ? Base.invokelatest(parse_big_integer, String(str)) : v
    end
    f = tryparse(Float64, str)
    f === nothing && (r.i = start; json_fail(r, "invalid number $(repr(String(str)))"))
    return f
end

function parse_big_integer(str::String)
    v = tryparse(Int128, str)
    return v === nothing ? parse(BigInt, str) : v
end

function hex4(r::JSONReader, i::Int)
    s = r.s
    i + 3 <= ncodeunits(s) || (r.i = i; json_fail(r, "truncated \\u escape"))
    u = UInt32(0)
    for k in i:i+3
        b = codeunit(s, k)
        d = UInt8('0') <= b <= UInt8('9') ? b - UInt8('0') :
            UInt8('a') <= b <= UInt8('f') ? b - UInt8('a') + 0x0a :
            UInt8('A') <= b <= UInt8('F') ? b - UInt8('A') + 0x0a :
            (r.i = k; json_fail(r, "invalid \\u escape"))
        u = (u << 4) | d
    end
    return u
end

function read_string(r::JSONReader)
    s = r.s; n = ncodeunits(s)
    i = r.i + 1; start = i
    # Fast path: no escapes, copy the bytes straight out.
    while i <= n
        b = @inbounds codeunit(s, i)
        if b == UInt8('"')
            r.i = i + 1
            return GC.@preserve s unsafe_string(pointer(s, start), i - start)
        end
        b == UInt8('\\') && break
        i += 1
    end
    i > n && json_fail(r, "unterminated string")
    # Slow path: escapes present.
    io = IOBuffer()
    GC.@preserve s unsafe_write(io, pointer(s, start), UInt(i - start))
    while true
        i > n && (r.i = i; json_fail(r, "unterminated string"))
        b = @inbounds codeunit(s, i)
        if b == UInt8('"')
            r.i = i + 1
            return String(take!(io))
        elseif b != UInt8('\\')
            write(io, b)
            i += 1
            continue
        end
        i += 1
        c = i <= n ? codeunit(s, i) : 0x00
        if c == UInt8('"') || c == UInt8('\\') || c == UInt8('/')
            write(io, c)
        elseif c == UInt8('n'); write(io, 0x0a)
        elseif c == UInt8('t'); write(io, 0x09)
        elseif c == UInt8('r'); write(io, 0x0d)
        elseif c == UInt8('b'); write(io, 0x08)
        elseif c == UInt8('f'); write(io, 0x0c)
        elseif c == UInt8('u')
            u = hex4(r, i + 1)
            i += 4
            # A high surrogate followed by \uDC00–\uDFFF is one code point.
            if 0xd800 <= u <= 0xdbff && i + 6 <= n &&
               codeunit(s, i + 1) == UInt8('\\') && codeunit(s, i + 2) == UInt8('u')
                lo = hex4(r, i + 3)
                if 0xdc00 <= lo <= 0xdfff
                    u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00)
                    i += 6
                end
            end
            0xd800 <= u <= 0xdfff && (u = UInt32(0xfffd))   # lone surrogate
            write(io, Char(u))
        else
            r.i = i
            json_fail(r, "invalid escape")
        end
        i += 1
    end
end

# ════════════════════════════════════════════════════════════════════════════════
# JSON writer
# ════════════════════════════════════════════════════════════════════════════════

"""
    write_json(io, x)

Write `x` as JSON: numbers (NaN/±Inf → null), Bool, nothing/missing → null,
strings/Symbols/Chars → strings, vectors/tuples/sets → arrays (N-d arrays nest
along the first dimension), dicts/NamedTuples → objects, enums → their names,
any other struct → an object of its fields.
"""
write_json(io::IO, x) = (json!(io, x); nothing)

json_string(x) = (io = IOBuffer(); json!(io, x); String(take!(io)))

json!(io::IO, ::Nothing) = write(io, "null")
json!(io::IO, ::Missing) = write(io, "null")
json!(io::IO, x::Bool) = write(io, x ? "true" : "false")
# string(x) rather than print(io, x): string(::Int/::Float64) is compiled into Julia's
# system image, print(::IOBuffer, …) would be compiled at cold start.
json!(io::IO, x::Integer) = write(io, string(x))
json!(io::IO, x::Float64) = isfinite(x) ? write(io, string(x)) : write(io, "null")
function json!(io::IO, x::Union{Float32,Float16})
    isfinite(x) || return write(io, "null")
    str = string(Float32(x))                  # "1.5f0", "1.0f10"
    e = findfirst(isequal('f'), str)
    e === nothing && return write(io, str)
    write(io, SubString(str, 1, e - 1))
    str[e+1:end] == "0" || write(io, 'e', SubString(str, e + 1))
end
json!(io::IO, x::AbstractFloat) = isfinite(x) ? write(io, string(x)) : write(io, "null")
json!(io::IO, x::Union{Rational,AbstractIrrational}) = json!(io, Float64(x))
json!(io::IO, x::AbstractString) = write_string(io, x)
json!(io::IO, x::Symbol) = write_string(io, String(x))
json!(io::IO, x::AbstractChar) = write_string(io, string(x))
json!(io::IO, x::Enum) = write_string(io, String(Symbol(x)))
json!(io::IO, x::Union{VersionNumber,Base.UUID,Module,Type,Function}) =
    write_string(io, string(x))
json!(io::IO, x::Regex) = write_string(io, x.pattern)

json!(io::IO, x::AbstractVector) = json_array!(io, x)
json!(io::IO, x::Tuple) = json_array!(io, x)
json!(io::IO, x::AbstractSet) = json_array!(io, x)
json!(io::IO, x::Base.Generator) = json_array!(io, x)

function json_array!(io::IO, x)
    write(io, UInt8('['))
    first = true
    for v in x
        first || write(io, UInt8(','))
        first = false
        json!(io, v)
    end
    write(io, UInt8(']'))
end

function json!(io::IO, x::AbstractArray)      # N-d: nested along the first dimension
    ndims(x) == 0 && return json!(io, x[])
    write(io, UInt8('['))
    for k in axes(x, 1)
        k == first(axes(x, 1)) || write(io, UInt8(','))
        json!(io, selectdim(x, 1, k))
    end
    write(io, UInt8(']'))
end

function json!(io::IO, x::AbstractDict)
    write(io, UInt8('{'))
    first = true
    for (k, v) in x
        first || write(io, UInt8(','))
        first = false
        json_key!(io, k)
        write(io, UInt8(':'))
        json!(io, v)
    end
    write(io, UInt8('}'))
end

function json!(io::IO, x::NamedTuple)
    write(io, UInt8('{'))
    for (k, name) in enumerate(keys(x))
        k == 1 || write(io, UInt8(','))
        json_key!(io, name)
        write(io, UInt8(':'))
        json!(io, getfield(x, k))
    end
    write(io, UInt8('}'))
end

json_key!(io::IO, k::AbstractString) = write_string(io, k)
json_key!(io::IO, k::Symbol) = write_string(io, String(k))
json_key!(io::IO, k) = write_string(io, string(k))

# Any other value: a struct becomes an object of its fields (undefined fields → null);
# Dates values and primitive types become their string form.
function json!(io::IO, x::T) where {T}
    if !isstructtype(T) || nameof(parentmodule(T)) === :Dates
        return write_string(io, string(x))
    end
    write(io, UInt8('{'))
    for k in 1:fieldcount(T)
        k == 1 || write(io, UInt8(','))
        write_string(io, String(fieldname(T, k)))
        write(io, UInt8(':'))
        isdefined(x, k) ? json!(io, getfield(x, k)) : write(io, "null")
    end
    write(io, UInt8('}'))
end

const HEX = b"0123456789abcdef"

# Quote and escape a string. Runs of plain bytes are copied in one write; invalid
# UTF-8 (rare) is sent through a slow path that replaces it with U+FFFD.
function write_string(io::IO, x::AbstractString)
    s = String(x)
    isvalid(s) || (s = map(c -> isvalid(c) ? c : '\ufffd', s))
    write(io, UInt8('"'))
    n = ncodeunits(s); run = 1
    GC.@preserve s begin
        for i in 1:n
            b = @inbounds codeunit(s, i)
            (b < 0x20 || b == UInt8('"') || b == UInt8('\\')) || continue
            i > run && unsafe_write(io, pointer(s, run), UInt(i - run))
            run = i + 1
            if b == UInt8('"');      write(io, UInt8('\\'), UInt8('"'))
            elseif b == UInt8('\\'); write(io, UInt8('\\'), UInt8('\\'))
            elseif b == 0x0a;        write(io, UInt8('\\'), UInt8('n'))
            elseif b == 0x0d;        write(io, UInt8('\\'), UInt8('r'))
            elseif b == 0x09;        write(io, UInt8('\\'), UInt8('t'))
            elseif b == 0x08;        write(io, UInt8('\\'), UInt8('b'))
            elseif b == 0x0c;        write(io, UInt8('\\'), UInt8('f'))
            else write(io, UInt8('\\'), UInt8('u'), UInt8('0'), UInt8('0'),
                       HEX[(b >> 4) + 1], HEX[(b & 0x0f) + 1])
            end
        end
        n >= run && unsafe_write(io, pointer(s, run), UInt(n - run + 1))
    end
    write(io, UInt8('"'))
end

# ════════════════════════════════════════════════════════════════════════════════
# Conversion of a parsed event to the declared argument type.
# `x` is never specialised on (@nospecialize), so one compiled method per target
# type serves every event — and the warm-up in init compiles exactly that method.
# ════════════════════════════════════════════════════════════════════════════════

struct ConversionError <: Exception
    path::String      # where in the event, e.g. "[2].name" ("" = the event itself)
    msg::String
end
Base.showerror(io::IO, e::ConversionError) =
    print(io, isempty(e.path) ? "" : "at $(e.path): ", e.msg)

"""Describe a parsed JSON value for error messages: `string "a"`, `array [1,2]`…"""
function describe(@nospecialize(x))
    kind = x isa AbstractString ? "string" : x isa Bool ? "boolean" :
           x isa Number ? "number" : x isa AbstractVector ? "array" :
           x isa AbstractDict ? "object" : x === nothing ? "null" : string(typeof(x))
    x === nothing && return kind
    return string(kind, " ", abbreviate(json_string(x), 120))
end

abbreviate(s::String, n::Int) = length(s) <= n ? s : string(first(s, n), "…")

conv_fail(T, @nospecialize(x), why = "") =
    throw(ConversionError("", string("expected ", T, ", got ", describe(x),
                                     isempty(why) ? "" : " ($why)")))

# Run f(); if it throws a ConversionError, prefix `seg` to the error's path.
function at_path(f, seg::String)
    try
        return f()
    catch e
        e isa ConversionError || rethrow()
        sep = isempty(e.path) || startswith(e.path, "[") ? "" : "."
        throw(ConversionError(string(seg, sep, e.path), e.msg))
    end
end

"""
    convert_event(T, x)

Convert a parsed JSON value `x` to type `T` (see README.md, "Conversion rules").
"""
convert_event(::Type{T}, @nospecialize(x)) where {T} = conv(T, x)::T

function conv(::Type{T}, @nospecialize(x)) where {T}
    x isa T && return x
    if T isa Union
        return conv_union(T, x)
    elseif T === Missing
        return x === nothing ? missing : conv_fail(T, x)
    elseif T === Nothing || T <: Bool
        conv_fail(T, x)
    elseif T <: Number
        return conv_number(T, x)
    elseif T <: AbstractString
        x isa AbstractString || conv_fail(T, x)
        return convert(T, x)
    elseif T === Symbol
        x isa AbstractString || conv_fail(T, x)
        return Symbol(x)
    elseif T <: AbstractChar
        (x isa AbstractString && length(x) == 1) || conv_fail(T, x, "a one-character string")
        return T(first(x))
    elseif T <: Enum
        return conv_enum(T, x)
    elseif T <: AbstractArray
        return conv_array(T, x)
    elseif T <: Tuple
        return conv_tuple(T, x)
    elseif T <: NamedTuple
        return conv_namedtuple(T, x)
    elseif T <: AbstractDict
        return conv_dict(T, x)
    elseif T <: AbstractSet
        x isa AbstractVector || conv_fail(T, x)
        S = Set{eltype(T)}
        S <: T || conv_fail(T, x, "unsupported set type")
        return S(conv(Vector{eltype(T)}, x))
    elseif x isa AbstractDict && is_struct_type(T)
        return conv_struct(T, x)
    end
    return conv_fallback(T, x)
end

# `conv` for a type known only at run time (a field's, a union member's…). Calling it
# through an Any-typed reference keeps inference from analysing `conv` for an unknown
# type — every branch of this section, about a second of compile time on Julia 1.5 —
# while the call itself dispatches on the actual type as it would anyway.
const CONV = Ref{Any}(conv)
conv_dynamic(@nospecialize(T), @nospecialize(x)) = CONV[](T, x)

function is_struct_type(T)
    U = Base.unwrap_unionall(T)
    return U isa DataType && isstructtype(U) && !isabstracttype(U)
end

function conv_fallback(::Type{T}, @nospecialize(x)) where {T}
    # Whatever Base or the user's code knows: convert(T, x), else a constructor T(x)
    # (e.g. Date("2024-01-31"), UUID("…"), VersionNumber("1.2.3")).
    try
        return convert(T, x)::T
    catch
    end
    if T isa DataType || T isa UnionAll
        try
            return T(x)::T
        catch e
            e isa MethodError || conv_fail(T, x, sprint(showerror, e))
        end
    end
    conv_fail(T, x)
end

function conv_union(::Type{T}, @nospecialize(x)) where {T}
    if x === nothing
        Nothing <: T && return nothing
        Missing <: T && return missing
    end
    members = filter(S -> S !== Nothing && S !== Missing, Base.uniontypes(T))
    length(members) == 1 && return conv_dynamic(members[1], x)   # Union{X,Nothing}: X's message
    for S in members
        try
            return conv_dynamic(S, x)
        catch e
            e isa ConversionError || rethrow()
        end
    end
    conv_fail(T, x)
end

function conv_number(::Type{T}, @nospecialize(x)) where {T}
    (x isa Number && !(x isa Bool)) || conv_fail(T, x)
    try
        # Abstract targets (Integer, Real…) take what JSON meant: 2.0 → 2, 2 → 2.0.
        x isa AbstractFloat && isinteger(x) && Int64 <: T && return Int64(x)
        x isa Integer && Float64 <: T && return Float64(x)
        return convert(T, x)::T               # Int(2.0) fine; Int(2.5), UInt8(300) not
    catch
        conv_fail(T, x, "not representable as $T")
    end
end

function conv_enum(::Type{T}, @nospecialize(x)) where {T}
    if x isa AbstractString
        for v in instances(T)
            String(Symbol(v)) == x && return v
        end
    elseif x isa Integer
        try
            return T(x)
        catch
        end
    end
    conv_fail(T, x, "one of " * join(map(v -> String(Symbol(v)), instances(T)), ", "))
end

function conv_array(::Type{T}, @nospecialize(x)) where {T}
    x isa AbstractVector || conv_fail(T, x)
    E = eltype(T)
    if Vector{E} <: T
        out = Vector{E}(undef, length(x))
        i = 0
        try
            for v in x
                i += 1
                @inbounds out[i] = conv(E, v)
            end
        catch e
            e isa ConversionError || rethrow()
            sep = isempty(e.path) || startswith(e.path, "[") ? "" : "."
            throw(ConversionError(string("[", i, "]", sep, e.path), e.msg))
        end
        return out
    elseif Matrix{E} <: T                     # an array of equally long rows
        rows = conv(Vector{Vector{E}}, x)
        nc = isempty(rows) ? 0 : length(rows[1])
        all(r -> length(r) == nc, rows) || conv_fail(T, x, "rows of different lengths")
        m = Matrix{E}(undef, length(rows), nc)
        for (i, r) in enumerate(rows), j in 1:nc
            m[i, j] = r[j]
        end
        return m
    end
    return conv_fallback(T, conv(Vector{E}, x))
end

function conv_tuple(::Type{T}, @nospecialize(x)) where {T}
    x isa AbstractVector || conv_fail(T, x)
    if isconcretetype(T)
        n = fieldcount(T)
        length(x) == n || conv_fail(T, x, "$n elements needed, got $(length(x))")
        return T(ntuple(i -> at_path(() -> conv_dynamic(fieldtype(T, i), x[i]), "[$i]"), n))
    end
    try                                        # Tuple, Tuple{Vararg{X}}, NTuple{N,X} where N
        return convert(T, Tuple(x))::T
    catch
        conv_fail(T, x)
    end
end

# The value of field `name` (declared type FT) of `Owner`, from a JSON object.
function field_value(Owner, FT, name::Symbol, d::AbstractDict)
    key = String(name)
    if haskey(d, key)
        return at_path(() -> conv_dynamic(FT, d[key]), key)
    elseif Nothing <: FT
        return nothing
    elseif Missing <: FT
        return missing
    end
    throw(ConversionError("", "missing field \"$key\" (required by $Owner)"))
end

function conv_namedtuple(::Type{T}, @nospecialize(x)) where {T}
    x isa AbstractDict || conv_fail(T, x)
    names = Base.unwrap_unionall(T).parameters[1]
    if !(names isa Tuple)                    # plain NamedTuple: every key, sorted
        names = Tuple(Symbol.(sort!(collect(String, keys(x)))))
    end
    if isconcretetype(T)
        return T(ntuple(i -> field_value(T, fieldtype(T, i), names[i], x), length(names)))
    end
    return NamedTuple{names}(ntuple(i -> field_value(T, Any, names[i], x), length(names)))
end

function conv_dict(::Type{T}, @nospecialize(x)) where {T}
    x isa AbstractDict || conv_fail(T, x)
    isconcretetype(T) && return fill_dict(T, x)
    K = try keytype(T) catch; Any end
    V = try valtype(T) catch; Any end
    D = Dict{K isa TypeVar ? Any : K, V isa TypeVar ? Any : V}
    D <: T || conv_fail(T, x, "unsupported dictionary type")
    return Base.invokelatest(fill_dict, D, x)     # D is known only now (see conv_dynamic)
end

function fill_dict(::Type{D}, x::AbstractDict) where {D}
    K, V = keytype(D), valtype(D)
    out = D()
    for (k, v) in x
        out[conv_key(K, k)] = at_path(() -> conv(V, v), string(k))
    end
    return out
end

function conv_key(::Type{K}, k::String) where {K}
    String <: K && return k
    K === Symbol && return Symbol(k)
    if K <: Union{Integer,AbstractFloat}
        v = tryparse(K, k)
        v === nothing || return v
        throw(ConversionError("", "the key $(repr(k)) is not a valid $K"))
    end
    return conv(K, k)
end

# A struct from a JSON object, field by field (extra keys ignored), then the
# positional constructor. A parametric type given without parameters (`Point` for
# `Point{T}`) gets its fields as parsed and lets the constructor infer T.
function conv_struct(::Type{T}, x::AbstractDict) where {T}
    U = Base.unwrap_unionall(T)
    n = fieldcount(U)
    vals = Vector{Any}(undef, n)
    for i in 1:n
        FT = isconcretetype(T) ? fieldtype(T, i) : fieldtype(U, i)
        (FT isa TypeVar || Base.has_free_typevars(FT)) && (FT = Any)
        vals[i] = field_value(T, FT, fieldname(U, i), x)
    end
    try
        return T(vals...)::T
    catch e
        throw(ConversionError("", "$T($(join(map(repr, vals), ", "))) failed: " *
                                  sprint(showerror, e)))
    end
end

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

mutable struct Conn
    host::String
    port::Int
    hostheader::String
    sock::Union{Nothing,TCPSocket}
    reqbuf::IOBuffer
    resp::Response                  # reused for every response
end

function Conn(api::AbstractString)
    c = findlast(isequal(':'), api)
    c === nothing && error("AWS_LAMBDA_RUNTIME_API must be host:port, got $(repr(api))")
    host = strip(api[1:c-1], ['[', ']'])
    return Conn(host, parse(Int, api[c+1:end]), String(api), nothing, IOBuffer(), Response())
end

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
        write(buf, "\r\n", body)
    else
        write(buf, "\r\n")
    end
    return take!(buf)
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
            write(sock, data)                        # the one write
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

# ════════════════════════════════════════════════════════════════════════════════
# Invocation context
# ════════════════════════════════════════════════════════════════════════════════

"""
    LambdaContext

The optional second argument of a responder. Fields: `request_id`, `deadline_ms`
(epoch milliseconds), `invoked_function_arn`, `trace_id`, `client_context` and
`identity` (parsed JSON, or `nothing`), `function_name`, `function_version`,
`memory_limit_in_mb`, `log_group_name`, `log_stream_name`. The property
`ctx.remaining_time_ms` (also `remaining_time_ms(ctx)`) is computed when read.
"""
struct LambdaContext
    request_id::String
    deadline_ms::Int64
    invoked_function_arn::String
    trace_id::String
    client_context::Any
    identity::Any
    function_name::String
    function_version::String
    memory_limit_in_mb::Int
    log_group_name::String
    log_stream_name::String
end

"""Milliseconds left before the invocation's deadline (negative once it passed)."""
remaining_time_ms(ctx::LambdaContext) = getfield(ctx, :deadline_ms) - floor(Int64, time() * 1000)

Base.getproperty(ctx::LambdaContext, s::Symbol) =
    s === :remaining_time_ms ? remaining_time_ms(ctx) : getfield(ctx, s)
Base.propertynames(::LambdaContext, private::Bool = false) =
    (fieldnames(LambdaContext)..., :remaining_time_ms)

struct Config
    kind::String
    path::String
    modname::String
    fname::String
    argtype::String
    function_name::String
    function_version::String
    memory_mb::Int
    log_group::String
    log_stream::String
end

nonempty(s::String) = isempty(s) ? nothing : s

function Config()
    env(k, d = "") = get(ENV, k, d)
    Config(env("JOT_RESPONDER_KIND", "script"), env("JOT_RESPONDER_PATH"),
           env("JOT_RESPONDER_MODULE"), something(nonempty(env("JOT_FUNCTION")), env("_HANDLER")),
           something(nonempty(env("JOT_ARG_TYPE")), "Any"),
           env("AWS_LAMBDA_FUNCTION_NAME"), env("AWS_LAMBDA_FUNCTION_VERSION", "\$LATEST"),
           something(tryparse(Int, env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")), 0),
           env("AWS_LAMBDA_LOG_GROUP_NAME"), env("AWS_LAMBDA_LOG_STREAM_NAME"))
end

parse_json_or_raw(s::String) = isempty(s) ? nothing : try parse_json(s) catch; s end

function make_context(resp::Response, cfg::Config)
    LambdaContext(header(resp, "lambda-runtime-aws-request-id"),
                  something(tryparse(Int64, header(resp, "lambda-runtime-deadline-ms")), 0),
                  header(resp, "lambda-runtime-invoked-function-arn"),
                  header(resp, "lambda-runtime-trace-id"),
                  parse_json_or_raw(header(resp, "lambda-runtime-client-context")),
                  parse_json_or_raw(header(resp, "lambda-runtime-cognito-identity")),
                  cfg.function_name, cfg.function_version, cfg.memory_mb,
                  cfg.log_group, cfg.log_stream)
end

# ════════════════════════════════════════════════════════════════════════════════
# Error reports: {"errorMessage", "errorType", "stackTrace"} to the Runtime API
# and a readable copy on stderr (the function's log).
# ════════════════════════════════════════════════════════════════════════════════

const ERROR_TYPE_RE = r"^(Runtime|Function)\.[A-Z][a-zA-Z]+$"

"""Header value for an exception raised by the user's function: Function.<TypeName>."""
function function_error_header(errortype::String)
    h = "Function." * errortype
    return occursin(ERROR_TYPE_RE, h) ? h : "Function.Unhandled"
end

error_type_name(e) = String(nameof(typeof(e)))

# Frames of a backtrace up to (not including) the first frame of `stop` in this
# file, or up to a script's top-level frame, so the report shows the user's code,
# not the runtime's or `include`'s.
function user_frames(bt, stop::Symbol)
    frames = String[]
    for fr in stacktrace(bt)
        (fr.func === stop && String(fr.file) == RUNTIME_FILE) && break
        push!(frames, string(fr))
        (fr.func === Symbol("top-level scope") || length(frames) >= 50) && break
    end
    return frames
end

function error_body(errortype::String, msg::String, frames::Vector{String})
    io = IOBuffer()
    write(io, "{\"errorMessage\":")
    write_string(io, msg)
    write(io, ",\"errorType\":")
    write_string(io, errortype)
    write(io, ",\"stackTrace\":")
    json!(io, frames)
    write(io, "}")
    return take!(io)
end

function log_error(id::String, errortype::String, msg::String, frames::Vector{String})
    io = IOBuffer()
    println(io, "[jot] ERROR", isempty(id) ? "" : " RequestId: $id", " ", errortype, ": ", msg)
    for fr in frames
        println(io, "  ", fr)
    end
    write(stderr, take!(io))
    flush(stderr)
end

# Post an error for invocation `id` ("" = the init error). `errheader` is the
# Lambda-Runtime-Function-Error-Type header, `errortype` the body's errorType.
function post_error(c::Conn, id::String, errheader::String, errortype::String, msg::String,
                    frames::Vector{String})
    msg = abbreviate(msg, 100_000)       # a huge value in an exception's message
    log_error(id, errortype, msg, frames)
    path = isempty(id) ? "$API_PREFIX/init/error" : "$API_PREFIX/invocation/$id/error"
    try
        resp = request!(c, "POST", path, error_body(errortype, msg, frames), errheader)
        200 <= resp.status < 300 ||
            println(stderr, "[jot] posting the error got HTTP $(resp.status): ", String(copy(resp.body)))
    catch e
        println(stderr, "[jot] could not post the error to the Runtime API: ", sprint(showerror, e))
    end
    return nothing
end

# ════════════════════════════════════════════════════════════════════════════════
# Loading the responder (init)
# ════════════════════════════════════════════════════════════════════════════════

struct InitFailure <: Exception
    errortype::String
    msg::String
    frames::Vector{String}
end
InitFailure(t, msg) = InitFailure(t, msg, String[])

function is_syntax_error(e)
    e isa LoadError && return is_syntax_error(e.error)
    isdefined(Meta, :ParseError) && e isa Meta.ParseError && return true
    return e isa ErrorException && startswith(e.msg, "syntax:")
end

unwrap_load_error(e) = e isa LoadError ? unwrap_load_error(e.error) : e

function load_failure(e, bt, what::String)
    msg = sprint(showerror, unwrap_load_error(e))
    if is_syntax_error(e)
        loc = e isa LoadError ? "$(e.file):$(e.line)" : what
        return InitFailure("Runtime.UserCodeSyntaxError",
                           "syntax error in $loc: " * replace(msg, r"^(ParseError:|syntax:)\s*" => ""))
    end
    return InitFailure("Runtime.ImportModuleError", "loading $what failed: $msg",
                       user_frames(bt, :load_responder))
end

"""Load the responder; return (module, function, argument type, takes context)."""
function load_responder(cfg::Config)
    if cfg.kind == "script"
        isempty(cfg.path) && throw(InitFailure("Runtime.InitError", "JOT_RESPONDER_PATH is not set"))
        isfile(cfg.path) || throw(InitFailure("Runtime.ResponderNotFound",
                                              "responder script $(cfg.path) does not exist"))
        modname = :Main
        Core.eval(Main, :(using .JotRuntime))     # LambdaContext, remaining_time_ms
        try
            Base.include(Main, cfg.path)
        catch e
            throw(load_failure(e, catch_backtrace(), cfg.path))
        end
    elseif cfg.kind == "package"
        name = cfg.modname
        if isempty(name) && isfile(joinpath(cfg.path, "Project.toml"))
            m = match(r"^name\s*=\s*\"([^\"]+)\""m, read(joinpath(cfg.path, "Project.toml"), String))
            m === nothing || (name = String(m.captures[1]))
        end
        isempty(name) && throw(InitFailure("Runtime.InitError", "JOT_RESPONDER_MODULE is not set"))
        if !isempty(cfg.path)
            isdir(cfg.path) || throw(InitFailure("Runtime.ResponderNotFound",
                                                 "package directory $(cfg.path) does not exist"))
            # A project with a name can load itself, so its directory on LOAD_PATH
            # makes `using NAME` work whatever JULIA_PROJECT says.
            cfg.path in LOAD_PATH || push!(LOAD_PATH, cfg.path)
        end
        modname = Symbol(name)
        try
            Core.eval(Main, Expr(:import, Expr(:., modname)))
        catch e
            throw(load_failure(e, catch_backtrace(), "package $name"))
        end
    else
        throw(InitFailure("Runtime.InitError",
                          "JOT_RESPONDER_KIND must be script or package, got $(repr(cfg.kind))"))
    end
    # The responder's bindings are newer than this function's world (Julia ≥ 1.12
    # would not see them from here), so look them up in the latest world.
    return Base.invokelatest(resolve_responder, cfg, modname)
end

function resolve_responder(cfg::Config, modname::Symbol)
    mod = modname === :Main ? Main : getfield(Main, modname)::Module
    where = modname === :Main ? cfg.path : "package $modname"

    # The function (a dotted name reaches into submodules; a leading package name,
    # as in _HANDLER="Pkg.f", is allowed).
    fname = cfg.fname
    if isempty(fname) && cfg.kind == "script"
        fname = replace(basename(cfg.path), r"\.jl$" => "")
    end
    modname === :Main || (fname = replace(fname, Regex("^$modname\\.") => ""))
    isempty(fname) && throw(InitFailure("Runtime.HandlerNotFound", "JOT_FUNCTION is not set"))
    f = mod
    for part in split(fname, '.')
        sym = Symbol(part)
        (f isa Module && isdefined(f, sym)) ||
            throw(InitFailure("Runtime.HandlerNotFound",
                              "function $fname is not defined in $where; pass --function NAME"))
        f = getfield(f, sym)
    end
    (f isa Module || (!(f isa Function) && !(f isa Type) && isempty(methods(f)))) &&
        throw(InitFailure("Runtime.HandlerNotFound",
                          "$fname in $where is a $(typeof(f)), not a function; pass --function NAME"))
    f isa Function && parentmodule(f) in (Base, Core) && modname === :Main &&
        println(stderr, "[jot] warning: $fname is Julia's own $(parentmodule(f)).$fname, ",
                "not a function defined in $where")

    # The argument type, evaluated where the user's own types live.
    T = try
        Core.eval(mod, Meta.parse(cfg.argtype))
    catch e
        throw(InitFailure("Runtime.InvalidArgumentType",
                          "argument type $(cfg.argtype) could not be evaluated in $where: " *
                          sprint(showerror, unwrap_load_error(e)) * "; pass --arg-type TYPE"))
    end
    T isa Type || throw(InitFailure("Runtime.InvalidArgumentType",
                                    "argument type $(cfg.argtype) is a $(typeof(T)), not a type; pass --arg-type TYPE"))

    # One argument, or two (event, context) when the function has a 2-argument method.
    ms = methods(f)
    takes_ctx = hasmethod(f, Tuple{T,LambdaContext}) || any(m -> m.nargs == 3 && !m.isva, ms)
    if !hasmethod(f, takes_ctx ? Tuple{T,LambdaContext} : Tuple{T})
        any(m -> m.nargs in (2, 3) || m.isva, ms) ||
            throw(InitFailure("Runtime.HandlerNotFound",
                              "$fname has no method taking one argument (the event) " *
                              "or two (the event and the context)"))
        println(stderr, "[jot] warning: $fname has no method for an argument of type $T",
                takes_ctx ? " and a context" : "", "; calls may raise MethodError")
    end
    return mod, f, T, takes_ctx
end

# A parsed-JSON value shaped like T (an object with every field of a struct, a
# one-element array for a vector…), converted in init to compile the conversion.
# `nulls`: optional values (Union{Nothing,X}) are null rather than an X.
function sample_event(@nospecialize(T), nulls::Bool = false, depth::Int = 0)
    depth > 4 && return nothing
    d = depth + 1
    T === Any && return Dict{String,Any}("k" => Any[1, 1.5, "s", true, nothing])
    if T isa Union
        nulls && Nothing <: T && return nothing
        for S in Base.uniontypes(T)
            (S === Nothing || S === Missing) || return sample_event(S, nulls, d)
        end
    end
    T <: Bool && return true
    T <: Number && return 1         # for a float, also exercises int → float
    (T <: AbstractString || T === Symbol) && return "s"
    T <: AbstractChar && return "c"
    T <: Enum && return String(Symbol(first(instances(T))))
    T <: AbstractMatrix && return Any[Any[sample_event(eltype(T), nulls, d)]]
    (T <: AbstractArray || T <: AbstractSet) && return Any[sample_event(eltype(T), nulls, d)]
    if T <: Tuple
        a = Any[]
        isconcretetype(T) && for S in fieldtypes(T)
            push!(a, sample_event(S, nulls, d))
        end
        return a
    end
    T <: AbstractDict && return Dict{String,Any}("1" => sample_event(valtype(T), nulls, d))
    if T <: NamedTuple || is_struct_type(T)
        U = isconcretetype(T) ? T : Base.unwrap_unionall(T)
        o = Dict{String,Any}()
        for i in 1:fieldcount(U)
            FT = fieldtype(U, i)
            o[String(fieldname(U, i))] = sample_event(FT isa Type ? FT : Any, nulls, d)
        end
        return o
    end
    return nothing
end

# Compile the writer for a return type: json! for R and, since a struct's fields are
# written through dynamic calls, for its fields' (elements', values') types too.
function precompile_writer(@nospecialize(R), depth::Int = 0)
    (depth > 4 || !(R isa Type)) && return
    if R isa Union
        foreach(S -> precompile_writer(S, depth), Base.uniontypes(R))
    elseif isconcretetype(R)
        precompile(json!, (IOBuffer, R))
        R <: Union{AbstractVector,Tuple,AbstractSet} && precompile(json_array!, (IOBuffer, R))
        if R <: Union{AbstractArray,AbstractSet}
            precompile_writer(eltype(R), depth + 1)
        elseif R <: AbstractDict
            precompile_writer(valtype(R), depth + 1)
        elseif isstructtype(R) && !(R <: Union{Number,AbstractString,Symbol,Tuple,NamedTuple})
            foreach(FT -> precompile_writer(FT, depth + 1), fieldtypes(R))
        end
    end
end

# Compile the hot path before the first event: the JSON reader, the conversion to T
# (by converting a sample event, which also reaches the per-field dynamic calls),
# the function, the writer for its inferred return type, and the loop around them.
# Error reporting is left to compile when an error first happens.
function warm_up(c::Conn, f, ::Type{T}, takes_ctx::Bool, cfg::Config) where {T}
    ev = parse_json("{\"a\":[1,-2,3.5e2,\"x\\n\\u00e9\\ud83d\\ude00\",true,false,null,{}]," *
                    "\"b\":{\"c\":\"\",\"d\":1,\"e\":2.5,\"f\":true,\"g\":null}}")
    write_json(IOBuffer(), ev["a"])
    warm_http(c, takes_ctx, cfg)
    for nulls in (false, true)
        try
            convert_event(T, sample_event(T, nulls))
        catch
        end
    end
    args = takes_ctx ? (T, LambdaContext) : (T,)
    precompile(f, args)
    try
        foreach(precompile_writer, Base.return_types(f, args))
    catch
    end
    precompile(next_event!, (Conn,))
    precompile(handle_invocation, (Conn, typeof(f), Type{T}, Val{takes_ctx}, Config))
    precompile(post_response, (Conn, String, Vector{UInt8}))
    return nothing
end

# Run the HTTP client's request building and response parsing over canned bytes
# (nothing is sent): the first event's response is parsed with compiled code.
function warm_http(c::Conn, takes_ctx::Bool, cfg::Config)
    build_request(c, "GET", "$API_PREFIX/invocation/next", EMPTY, "")
    build_request(c, "POST", "$API_PREFIX/invocation/x/response", UInt8[0x7b, 0x7d], "Function.X")
    canned = IOBuffer("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" *
                      "Lambda-Runtime-Aws-Request-Id: x\r\nLambda-Runtime-Deadline-Ms: 1\r\n" *
                      "Lambda-Runtime-Trace-Id: t\r\nContent-Length: 2\r\n\r\n{}" *
                      "HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n" *
                      "2\r\nok\r\n0\r\n\r\n")
    resp = Response()
    read_response!(canned, resp)
    takes_ctx && make_context(resp, cfg)
    read_response!(canned, resp)
    # …and the socket reads it makes (not in Julia's system image).
    precompile(readline, (TCPSocket,))
    precompile(read, (TCPSocket, Int))
    precompile(eof, (TCPSocket,))
    return nothing
end

# ════════════════════════════════════════════════════════════════════════════════
# The loop
# ════════════════════════════════════════════════════════════════════════════════

function next_event!(c::Conn)
    failures = 0
    while true
        try
            resp = request!(c, "GET", "$API_PREFIX/invocation/next", EMPTY, "")
            resp.status == 200 && return resp
            println(stderr, "[jot] /invocation/next returned HTTP $(resp.status): ",
                    abbreviate(String(copy(resp.body)), 500))
        catch e
            e isa InterruptException && rethrow()
            println(stderr, "[jot] /invocation/next failed: ", sprint(showerror, e))
        end
        failures += 1
        if failures >= 10
            println(stderr, "[jot] the Runtime API at $(c.hostheader) is unusable; exiting")
            exit(1)
        end
        sleep(0.05 * failures)
    end
end

function serve(c::Conn, f::F, ::Type{T}, ctx::Val{C}, cfg::Config) where {F,T,C}
    while true
        next_event!(c)
        handle_invocation(c, f, T, ctx, cfg)
    end
end

function handle_invocation(c::Conn, f::F, ::Type{T}, ::Val{C}, cfg::Config) where {F,T,C}
    resp = c.resp
    id = header(resp, "lambda-runtime-aws-request-id")
    trace = header(resp, "lambda-runtime-trace-id")
    if isempty(trace)
        haskey(ENV, "_X_AMZN_TRACE_ID") && delete!(ENV, "_X_AMZN_TRACE_ID")
    else
        ENV["_X_AMZN_TRACE_ID"] = trace
    end
    ctx = C ? make_context(resp, cfg) : nothing
    body = String(resp.body)          # takes the bytes; resp.body is replaced on next read
    stage = 1
    local out::Vector{UInt8}
    try
        event = parse_json(body)
        stage = 2
        arg = convert_event(T, event)
        stage = 3
        result = C ? f(arg, ctx) : f(arg)
        stage = 4
        io = IOBuffer()
        write_json(io, result)
        out = take!(io)
    catch e
        e isa InterruptException && rethrow()
        # invokelatest: an inference barrier, so error reporting compiles only when
        # an error happens instead of with the hot path.
        Base.invokelatest(report_invocation_error, c, id, stage, e, catch_backtrace(), body, T)
        return nothing
    end
    post_response(c, id, out)
    return nothing
end

function report_invocation_error(c::Conn, id::String, stage::Int, e, bt, body::String, T)
    if stage == 1
        post_error(c, id, "Runtime.InvalidPayload", "Runtime.InvalidPayload",
                   "the event is not valid JSON: " * sprint(showerror, e), String[])
    elseif stage == 2
        msg = string("cannot convert the event ", abbreviate(body, 200), " to ", T, ": ",
                     sprint(showerror, e))
        post_error(c, id, "Runtime.ConversionError", "Runtime.ConversionError", msg, String[])
    elseif stage == 3
        t = error_type_name(e)
        post_error(c, id, function_error_header(t), t, sprint(showerror, e),
                   user_frames(bt, :handle_invocation))
    else
        post_error(c, id, "Runtime.SerializationError", "Runtime.SerializationError",
                   "the return value could not be written as JSON: " * sprint(showerror, e),
                   user_frames(bt, :handle_invocation))
    end
end

response_too_large(c::Conn, id::String, n::Int) =
    post_error(c, id, "Function.ResponseSizeTooLarge", "Function.ResponseSizeTooLarge",
               "Response payload size ($n bytes) exceeded maximum allowed payload " *
               "size ($MAX_RESPONSE_BYTES bytes).", String[])

function post_response(c::Conn, id::String, out::Vector{UInt8})
    toolarge() = Base.invokelatest(response_too_large, c, id, length(out))
    length(out) > MAX_RESPONSE_BYTES && return toolarge()
    try
        resp = request!(c, "POST", "$API_PREFIX/invocation/$id/response", out, "")
        if resp.status == 413
            toolarge()
        elseif !(200 <= resp.status < 300)
            println(stderr, "[jot] posting the response of $id got HTTP $(resp.status): ",
                    abbreviate(String(copy(resp.body)), 500))
        end
    catch e
        e isa InterruptException && rethrow()
        println(stderr, "[jot] could not post the response of $id: ", sprint(showerror, e))
    end
    return nothing
end

# Warm-up compiles the hot path before the first event. Julia's `precompile`
# infers whole call graphs (error paths included), so it compiles more than one
# event needs: measured on 1.5, an on-demand cold start reaches its first
# response ~350 ms later with it than without. It pays only when init is off the
# request path: provisioned concurrency and SnapStart
# (AWS_LAMBDA_INITIALIZATION_TYPE). JOT_WARM_UP=1 or 0 forces it on or off.
function warm_up_wanted()
    forced = get(ENV, "JOT_WARM_UP", "")
    forced == "1" && return true
    forced == "0" && return false
    return get(ENV, "AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand") != "on-demand"
end

function main()
    api = get(ENV, "AWS_LAMBDA_RUNTIME_API", "")
    if isempty(api)
        println(stderr, "[jot] AWS_LAMBDA_RUNTIME_API is not set; this runs inside a Lambda ",
                "execution environment (or `jot-invoke --local`)")
        exit(1)
    end
    c = Conn(api)
    cfg = Config()
    loaded = try
        load_responder(cfg)
    catch e
        e isa InterruptException && exit(130)
        fail = e isa InitFailure ? e :
               InitFailure("Runtime.InitError", sprint(showerror, e),
                           user_frames(catch_backtrace(), :main))
        post_error(c, "", fail.errortype, fail.errortype, fail.msg, fail.frames)
        exit(1)
    end
    _, f, T, takes_ctx = loaded
    try
        # invokelatest: the responder's methods are newer than this function.
        if warm_up_wanted()
            try
                Base.invokelatest(warm_up, c, f, T, takes_ctx, cfg)
            catch e                               # only an optimisation: never fatal
                e isa InterruptException && rethrow()
                println(stderr, "[jot] warning: warm-up failed: ", sprint(showerror, e))
            end
        end
        Base.invokelatest(serve, c, f, T, Val(takes_ctx), cfg)
    catch e
        e isa InterruptException && exit(130)
        rethrow()
    end
end

# ════════════════════════════════════════════════════════════════════════════════
# Precompilation. `bootstrap --precompile` (run at image build) loads this file as
# the package JotRuntime, which caches it in the image's depot; this workload runs
# only then, so the cache also holds the compiled reader, writer, conversions of
# common types and the HTTP client. (On Julia ≥ 1.9 the cache keeps native code.)
# ════════════════════════════════════════════════════════════════════════════════

function precompile_workload()
    io = IOBuffer()
    write_json(io, parse_json("{\"a\":[1,-2,3.5e2,\"x\\n\\u00e9\",true,false,null],\"b\":{}}"))
    for T in (Any, Int64, Float64, String, Bool, Nothing, Vector{Int64}, Vector{Float64},
              Vector{String}, Vector{Any}, Dict{String,Any}, Dict{String,Int64},
              Dict{String,Float64}, Dict{String,String})
        try
            write_json(io, convert_event(T, sample_event(T)))
        catch
        end
    end
    for T in (Int32, Float32, Dict{Symbol,Any}, NamedTuple, Union{Nothing,Int64},
              Union{Nothing,String}, Union{Nothing,Float64})
        precompile(convert_event, (Type{T}, Any))
    end
    for T in (Int32, Float32, Symbol, Vector{Vector{Float64}}, Matrix{Float64})
        precompile(json!, (IOBuffer, T))
    end
    precompile(Conn, (String,))
    precompile(Config, ())
    precompile(request!, (Conn, String, String, Vector{UInt8}, String))
    precompile(next_event!, (Conn,))
    precompile(post_response, (Conn, String, Vector{UInt8}))
    precompile(make_context, (Response, Config))
    precompile(load_responder, (Config,))
    precompile(main, ())
    precompile_cold_path()
    return nothing
end

# What an on-demand cold start otherwise compiles before its first response (seen
# with JOT_JULIA_FLAGS=--trace-compile=stderr): the responder lookup, the HTTP
# client run over canned bytes, and the socket methods it reaches.
function precompile_cold_path()
    try
        c = Conn("127.0.0.1:9001")
        warm_http(c, false, Config())
        warm_http(c, true, Config())
    catch
    end
    precompile(resolve_responder, (Config, Symbol))
    precompile(connect!, (Conn,))
    precompile(Sockets.connect!, (TCPSocket, Sockets.IPv4, Int))
    precompile(write, (TCPSocket, Vector{UInt8}))
    precompile(SubString, (String, Int, Int))
    precompile(parentmodule, (DataType,))
    precompile(in, (Module, Tuple{Module,Module}))
    precompile(methods, (Any,))
    precompile(Val, (Bool,))
    return nothing
end

# (The ccall lives in a function: a top-level statement with a ccall is compiled, not
# interpreted, and compiling this line would infer the whole workload at every start.)
generating_output() = ccall(:jl_generating_output, Cint, ()) == 1
generating_output() && precompile_workload()

end # module JotRuntime

# Run only when executed as the program (`julia runtime.jl`), so tests can include
# this file and exercise its pieces.
if abspath(PROGRAM_FILE) == @__FILE__
    JotRuntime.main()
end
