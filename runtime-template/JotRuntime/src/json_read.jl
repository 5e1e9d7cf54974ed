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

