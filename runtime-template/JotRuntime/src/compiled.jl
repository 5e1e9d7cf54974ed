# ════════════════════════════════════════════════════════════════════════════════
# The responder compiled into the image (jot-build --compile). An exemplar session
# (the test events through the runtime, traced with --trace-compile) is replayed
# while Julia writes a system image holding the runtime and the responder
# (`bootstrap --compile`, Julia < 1.9), or while it precompiles the package
# JotCompiled that jot-build renders (Julia ≥ 1.9: package images keep native code;
# also on older Julia with the test switch JOT_PACKAGE_IMAGES=1, docs/julia.md).
# The image remembers a hash of the responder's files as they were compiled; init
# loads the responder from its files again only when they no longer match, since
# redefining its methods would throw away their compiled code.
# ════════════════════════════════════════════════════════════════════════════════

"""The hash of the responder's files compiled into this system image ("" for none)."""
const COMPILED_HASH = Ref("")

"""Where jot-build --compile puts the exemplar and, on the package-image path, the
package JotCompiled."""
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

The package-image path of `jot-build --compile`: loads JotCompiled (whose package image
holds the exemplar's native code) when it was made from the responder now on disk.
"""
function compiled_package(cfg::Config)
    dir = COMPILED_PACKAGE_DIR
    # Its package image says which files it was made from (checked before it is
    # loaded: a stale one would be precompiled again at every cold start). The
    # system-image path writes no stamp: the system image holds the responder.
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
    run_exemplar(f, T, takes_ctx, cfg, ex, home = Main) -> (compiled, traced)

The exemplar session again, in the process that writes the compiled code: each
event through conversion, the function and JSON; each traced signature compiled
(those naming what no loaded module defines are skipped); the package's tests.
`home` is where the responder's script was included (the trace, made where it
was included into `Main`, names it `Main`); the statements and the tests are
evaluated in modules defined in it (see `trace_module`). Returns the statements
that compiled and the number traced.
"""
function run_exemplar(f, ::Type{T}, takes_ctx::Bool, cfg::Config, ex::Exemplar,
                      home::Module = Main) where {T}
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
    compiled = String[]
    Core.eval(home, trace_module(home, ex.statements, compiled))
    ex.tests && run_package_tests(cfg, home)
    return compiled, length(ex.statements)
end

"""
    trace_module(home, statements, compiled) -> Expr

`module JotTrace … end`, to be evaluated in `home`: `Main` bound to `home`, every
loaded package by name (the trace names types by their modules' full paths),
then each statement, pushed to `compiled` when it compiled. While a package is
precompiled Julia refuses evaluation into any module but the ones being defined
(a `Module(:X)` of one's own is closed: "Evaluation into the closed module"), so
the statements run in the body of a module defined in the package itself.
"""
function trace_module(home::Module, statements::Vector{String}, compiled::Vector{String})
    body = Expr(:block)
    home === Main || push!(body.args, :(const Main = $home))
    plain, names = Module(), Set{Symbol}()            # (never evaluated into)
    for mod in values(Base.loaded_modules)
        name = nameof(mod)
        (isdefined(plain, name) || name in names) && continue
        push!(names, name)
        push!(body.args, :(const $name = $mod))
    end
    for statement in statements
        ex = try
            Meta.parse(statement)
        catch
            continue
        end
        push!(body.args, :(try
                               $ex === true && push!($compiled, $statement)
                           catch
                           end))
    end
    return Expr(:module, true, :JotTrace, body)
end

function run_package_tests(cfg::Config, home::Module = Main)
    file = joinpath(cfg.path, "test", "runtests.jl")
    isfile(file) || throw(CompileFailure("--compile-tests: the package has no test/runtests.jl"))
    # While Julia writes a system image the stdlibs' __init__ has not run; Test's
    # testsets need Random's per-thread generators.
    if Base.JLOptions().incremental == 0
        random = Base.PkgId(Base.UUID("9a3f8284-a2c9-5f02-9a11-845980a1fd5c"), "Random")
        Base.invokelatest(getfield(Base.require(random), :__init__))
    end
    try
        # In a module of `home`'s, defined by this expression (open, as above).
        Core.eval(home, Expr(:module, true, :JotTests,
                             Expr(:block, :(Base.include(@__MODULE__, $file)))))
    catch e
        throw(CompileFailure("--compile-tests: the package's test suite failed: " *
                             first(split(sprint(showerror, unwrap_load_error(e)), '\n'))))
    end
end

"""The statements the exemplar session compiled, one a line, beside the exemplar
(`/opt/jot/compiled/precompiled.txt`): what the image holds, for people and tests."""
function record_compiled(dir::String, compiled::Vector{String}, traced::Int)
    write(joinpath(dir, "precompiled.txt"), join(compiled .* "\n"))
    # (One string per line: the build log splits a line written in pieces.)
    println(stderr, string("jot: compiled the responder and ", length(compiled), " of ", traced,
                           " signatures traced in the exemplar session"))
end

compile_error(e) = string("jot: --compile failed: ", first(split(
    e isa InitFailure ? e.msg : sprint(showerror, unwrap_load_error(e)), '\n')))

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
        record_compiled(dirname(path), compiled, traced)
    catch e
        println(stderr, compile_error(e))
        exit(1)
    end
    return nothing
end

"""
    compile_workload(home, responder)

The top level of the package `JotCompiled` that `jot-build --compile` renders,
while it is precompiled (the package-image path: Julia ≥ 1.9, or
JOT_PACKAGE_IMAGES=1): `home` is JotCompiled, `responder` the module holding
the function (JotCompiled for a script, which it includes; else the package).
Replays the exemplar named by JOT_EXEMPLAR and stamps the responder's hash
beside it (`compiled_package` loads JotCompiled only while it matches). A
failure is one line on stderr, then the error (the precompilation fails).
"""
function compile_workload(home::Module, responder::Module)
    cfg = Config()
    path = ENV["JOT_EXEMPLAR"]
    try
        _, f, T, takes_ctx = resolve_responder(cfg, responder)
        compiled, traced = run_exemplar(f, T, takes_ctx, cfg, read_exemplar(read(path, String)),
                                        home)
        write(joinpath(dirname(path), "tree-hash"), responder_hash(cfg))
        record_compiled(dirname(path), compiled, traced)
    catch e
        println(stderr, compile_error(e))
        rethrow()
    end
    return nothing
end
