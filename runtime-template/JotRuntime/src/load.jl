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
        if compiled_package(cfg)                  # Julia ≥ 1.9, jot-build --compile
            modname = :JotCompiled
        elseif !compiled_in_image(cfg)            # (the system image holds it: keep its code)
            Core.eval(Main, :(using .JotRuntime)) # LambdaContext, remaining_time_ms
            try
                Base.include(Main, cfg.path)
            catch e
                throw(load_failure(e, catch_backtrace(), cfg.path))
            end
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
        # A compiled image already holds the package (and its code for the exemplar).
        compiled_package(cfg) || compiled_in_image(cfg)
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

struct Unresolved end

"""The argument type `text` names in `mod`: looked up (names, dotted names, braces,
tuples, literals) rather than evaluated there, since while JotCompiled is
precompiled a responder package is closed to evaluation; anything else is evaluated."""
function argument_type(mod::Module, text::String)
    ex = Meta.parse(text)
    T = try
        lookup_type(mod, ex)
    catch
        Unresolved()
    end
    return T isa Unresolved ? Core.eval(mod, ex) : T
end

function lookup_type(mod::Module, ex)
    ex isa Symbol && return isdefined(mod, ex) ? getfield(mod, ex) : Unresolved()
    ex isa QuoteNode && return ex.value
    ex isa Union{Number,String,Char} && return ex
    ex isa Expr || return Unresolved()
    parts = Any[lookup_type(mod, a) for a in ex.args if !(ex.head === :. && a isa QuoteNode)]
    any(p -> p isa Unresolved, parts) && return Unresolved()
    if ex.head === :. && length(ex.args) == 2 && ex.args[2] isa QuoteNode && parts[1] isa Module
        name = ex.args[2].value
        return isdefined(parts[1], name) ? getfield(parts[1], name) : Unresolved()
    end
    ex.head === :curly && return Core.apply_type(parts...)
    ex.head === :tuple && return Tuple(parts)
    return Unresolved()
end

resolve_responder(cfg::Config, modname::Symbol) =
    resolve_responder(cfg, modname === :Main ? Main : getfield(Main, modname)::Module)

function resolve_responder(cfg::Config, mod::Module)
    modname = nameof(mod)
    where = mod === Main || modname === :JotCompiled ? cfg.path : "package $modname"

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
        # HTTPRequest is the runtime's own: a package need not import it.
        cfg.argtype in ("HTTPRequest", "JotRuntime.HTTPRequest") ? HTTPRequest :
        cfg.argtype == "Any" ? http_argument(f) : argument_type(mod, cfg.argtype)
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

