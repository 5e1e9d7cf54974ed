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

