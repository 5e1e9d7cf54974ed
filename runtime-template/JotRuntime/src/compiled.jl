# ════════════════════════════════════════════════════════════════════════════════
# The responder compiled into the image (jot-build --compile). An exemplar session
# (the test events through the runtime, traced with --trace-compile) is replayed
# while Julia writes a system image holding the runtime and the responder
# (`bootstrap --compile`, Julia < 1.9), or while it precompiles the package
# JotCompiled that jot-build renders (Julia ≥ 1.9: package images keep native code).
# The image remembers a hash of the responder's files as they were compiled; init
# loads the responder from its files again only when they no longer match, since
# redefining its methods would throw away their compiled code.
# ════════════════════════════════════════════════════════════════════════════════

"""The hash of the responder's files compiled into this system image ("" for none)."""
const COMPILED_HASH = Ref("")

"""Where jot-build --compile puts the package JotCompiled on Julia ≥ 1.9."""
const COMPILED_PACKAGE_DIR = "/opt/jot/compiled"

"""A hash of the responder's files (a script, or every file under a package's
directory, in path order): cheap enough for every init, stable across processes."""
function responder_hash(cfg::Config)
    h = hash(cfg.kind)
    cfg.kind == "script" && return string(isfile(cfg.path) ? hash(read(cfg.path, String), h) : h,
                                          base = 16)
    return string(isdir(cfg.path) ? hash_tree(cfg.path, "", h) : h, base = 16)
end

function hash_tree(dir::String, rel::String, h::UInt)
    for name in readdir(dir)                  # sorted
        file = joinpath(dir, name)
        path = isempty(rel) ? name : string(rel, "/", name)
        if isdir(file)
            h = hash_tree(file, path, h)
        elseif isfile(file)
            h = hash(read(file, String), hash(path, h))
        end
    end
    return h
end

"""True when the system image holds the responder now on disk."""
function compiled_in_image(cfg::Config)
    isempty(COMPILED_HASH[]) && return false
    responder_hash(cfg) == COMPILED_HASH[] && return true
    println(stderr, "[jot] warning: the responder's files changed since they were compiled ",
            "into the system image; ", cfg.kind == "script" ? "loading them again" :
            "the compiled package is used (rebuild the image)")
    return false
end

"""
    compiled_package(cfg) -> Bool

Julia ≥ 1.9 with `jot-build --compile`: loads JotCompiled (whose package image
holds the exemplar's native code) when it was made from the responder now on disk.
"""
function compiled_package(cfg::Config)
    dir = COMPILED_PACKAGE_DIR
    # Its package image says which files it was made from (checked before it is
    # loaded: a stale one would be precompiled again at every cold start). Julia
    # < 1.9 writes no stamp: the system image holds the responder.
    stamp = joinpath(dir, "tree-hash")
    isfile(stamp) || return false
    if read(stamp, String) != responder_hash(cfg)
        println(stderr, "[jot] warning: the responder's files changed since they were ",
                "compiled; loading them again")
        return false
    end
    for d in (dirname(dirname(SRC_DIR)), dir)   # JotRuntime's directory, then its own
        d in LOAD_PATH || push!(LOAD_PATH, d)
    end
    Core.eval(Main, :(import JotCompiled))
    return true
end

"""What `jot-build --compile` recorded: the test events, whether to run the
package's test suite, and the signatures the exemplar session compiled."""
struct Exemplar
    payloads::Vector{String}
    tests::Bool
    statements::Vector{String}
end

# The file jot-build writes: `payload JSON` lines, `tests true|false`, then
# `precompile(...)` lines as --trace-compile printed them.
function read_exemplar(text::AbstractString)
    payloads, tests, statements = String[], false, String[]
    for line in split(text, '\n')
        if startswith(line, "payload ")
            push!(payloads, String(line[9:end]))
        elseif line == "tests true"
            tests = true
        elseif startswith(line, "precompile(")
            push!(statements, String(line))
        end
    end
    return Exemplar(payloads, tests, statements)
end

struct CompileFailure <: Exception
    msg::String
end
Base.showerror(io::IO, e::CompileFailure) = print(io, e.msg)

"""
    run_exemplar(f, T, takes_ctx, cfg, ex) -> (compiled, traced)

The exemplar session again, in the process that writes the compiled code: each
event through conversion, the function and JSON; each traced signature compiled
(those naming what no loaded module defines are skipped); the package's tests.
"""
function run_exemplar(f, ::Type{T}, takes_ctx::Bool, cfg::Config, ex::Exemplar) where {T}
    for payload in ex.payloads
        try
            Base.invokelatest(warm_call, f, T, takes_ctx, cfg, payload)
        catch e
            throw(CompileFailure("the exemplar event $(abbreviate(payload, 200)) failed: " *
                                 sprint(showerror, unwrap_load_error(e))))
        end
    end
    # The invocation loop specialised on the function, whatever the trace kept
    # (its lines can be torn by other output on the same stream).
    try
        Base.invokelatest(warm_loop, Conn("127.0.0.1:9001"), f, T, takes_ctx, cfg)
    catch
    end
    # The trace names types by their modules' full paths: every loaded module by
    # name in a scratch module (left out of the image).
    scope = Module(:JotTrace)
    for mod in values(Base.loaded_modules)
        name = nameof(mod)
        isdefined(scope, name) || Core.eval(scope, :(const $name = $mod))
    end
    compiled = 0
    for statement in ex.statements
        try
            Core.eval(scope, Meta.parse(statement)) === true && (compiled += 1)
        catch
        end
    end
    ex.tests && run_package_tests(cfg)
    return compiled, length(ex.statements)
end

function run_package_tests(cfg::Config)
    file = joinpath(cfg.path, "test", "runtests.jl")
    isfile(file) || throw(CompileFailure("--compile-tests: the package has no test/runtests.jl"))
    # While Julia writes a system image the stdlibs' __init__ has not run; Test's
    # testsets need Random's per-thread generators.
    random = Base.PkgId(Base.UUID("9a3f8284-a2c9-5f02-9a11-845980a1fd5c"), "Random")
    Base.invokelatest(getfield(Base.require(random), :__init__))
    try
        Base.include(Module(:JotTests), file)
    catch e
        throw(CompileFailure("--compile-tests: the package's test suite failed: " *
                             first(split(sprint(showerror, unwrap_load_error(e)), '\n'))))
    end
end

"""
    compile_responder(path)

`bootstrap --compile` (Julia < 1.9, writing the system image): load the
responder, replay the exemplar at `path`, and record the responder's hash.
A failure is one line on stderr and exit status 1 (the build step fails).
"""
function compile_responder(path::String)
    cfg = Config()
    try
        _, f, T, takes_ctx = load_responder(cfg)
        compiled, traced = run_exemplar(f, T, takes_ctx, cfg, read_exemplar(read(path, String)))
        COMPILED_HASH[] = responder_hash(cfg)
        # (One string per line: the build log splits a line written in pieces.)
        println(stderr, string("jot: compiled the responder and ", compiled, " of ", traced,
                               " signatures traced in the exemplar session into the system image"))
    catch e
        msg = e isa InitFailure ? e.msg : sprint(showerror, unwrap_load_error(e))
        println(stderr, string("jot: --compile failed: ", first(split(msg, '\n'))))
        exit(1)
    end
    return nothing
end
