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

# Errors that say nothing about the value (an interrupt, the machine running out
# of stack or memory): never turned into a ConversionError.
is_fatal(e) = e isa InterruptException || e isa StackOverflowError || e isa OutOfMemoryError

# The MethodError of calling `f(args...)` itself (no such method), as opposed to a
# MethodError raised somewhere inside a method that does exist.
no_method(e, f, args::Tuple) =
    e isa MethodError && e.f === f && length(e.args) == length(args) &&
    all(i -> e.args[i] === args[i], 1:length(args))

# An error raised while converting (by Base's or the user's convert or constructor):
# a ConversionError keeps its path; anything else becomes one, with its message.
function conversion_error(::Type{T}, @nospecialize(x), e) where {T}
    (is_fatal(e) || e isa ConversionError) && rethrow()
    conv_fail(T, x, sprint(showerror, e))
end

function conv_fallback(::Type{T}, @nospecialize(x)) where {T}
    # Whatever Base or the user's code knows: convert(T, x), else a constructor T(x)
    # (e.g. Date("2024-01-31"), UUID("…"), VersionNumber("1.2.3")). Only the absence
    # of those methods moves on; an error they raise is the conversion's error.
    try
        return convert(T, x)::T
    catch e
        no_method(e, convert, (T, x)) || conversion_error(T, x, e)
    end
    if T isa DataType || T isa UnionAll
        try
            return T(x)::T
        catch e
            no_method(e, T, (x,)) || conversion_error(T, x, e)
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
    # The first member that converts. When none does, the members' errors that go
    # beyond "expected S, got …" (a field inside, a constructor) are in the message.
    why = String[]
    for S in members
        try
            return conv_dynamic(S, x)
        catch e
            e isa ConversionError || rethrow()
            (isempty(e.path) && startswith(e.msg, "expected ")) ||
                push!(why, string("as ", S, ": ", sprint(showerror, e)))
        end
    end
    conv_fail(T, x, join(why, "; "))
end

function conv_number(::Type{T}, @nospecialize(x)) where {T}
    (x isa Number && !(x isa Bool)) || conv_fail(T, x)
    try
        # Abstract targets (Integer, Real…) take what JSON meant: 2.0 → 2, 2 → 2.0.
        x isa AbstractFloat && isinteger(x) && Int64 <: T && return Int64(x)
        x isa Integer && Float64 <: T && return Float64(x)
        return convert(T, x)::T               # Int(2.0) fine; Int(2.5), UInt8(300) not
    catch e
        (e isa InexactError || e isa OverflowError || e isa DomainError) &&
            conv_fail(T, x, "not representable as $T")
        conversion_error(T, x, e)
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
        catch e
            # Not a value of the enum (ArgumentError), or out of its base type's range.
            (e isa ArgumentError || e isa InexactError) || rethrow()
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
    n = length(x)
    if isconcretetype(T)
        fieldcount(T) == n || conv_fail(T, x, "$(fieldcount(T)) elements needed, got $n")
        return T(ntuple(i -> at_path(() -> conv_dynamic(fieldtype(T, i), x[i]), "[$i]"), n))
    end
    # Tuple, Tuple{Vararg{X}}, NTuple{N,X} where N, Tuple{Real,Real}…: the tuple type
    # of n elements it admits gives each element's type.
    S = typeintersect(T, NTuple{n,Any})
    S === Union{} && conv_fail(T, x, "$n elements do not fit")
    if S isa DataType
        v = ntuple(i -> at_path(() -> conv_dynamic(fieldtype(S, i), x[i]), "[$i]"), n)
        v isa T && return v
    end
    v = Tuple(x)                               # e.g. Tuple{X,X} where X: as parsed
    v isa T || conv_fail(T, x)
    return v
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
    K, V = dict_kv(T)
    D = Dict{K,V}
    D <: T || conv_fail(T, x, "unsupported dictionary type")
    return Base.invokelatest(fill_dict, D, x)     # D is known only now (see conv_dynamic)
end

# The key and value types of an AbstractDict type, Any where not given (`Dict`,
# `Dict{Int}`, `AbstractDict{K,Vector{K}} where K`…). (keytype(Dict) throws on 1.5.)
function dict_kv(@nospecialize(T))
    A = Base.unwrap_unionall(T)
    name = Base.unwrap_unionall(AbstractDict).name
    while A isa DataType && A.name !== name
        A = supertype(A)
    end
    A isa DataType || return (Any, Any)
    known(P) = P isa Type && !Base.has_free_typevars(P) ? P : Any
    return (known(A.parameters[1]), known(A.parameters[2]))
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
        is_fatal(e) && rethrow()
        throw(ConversionError("", "$T($(join(map(repr, vals), ", "))) failed: " *
                                  sprint(showerror, e)))
    end
end

