# jot-build --compile: the exemplar file, the responder's hash, and when init keeps
# the compiled responder instead of loading its files again.

@testset "compiled responders" begin
    ex = J.read_exemplar("payload [1,2]\npayload {\"a\":1}\ntests true\n" *
                         "precompile(Tuple{typeof(Base.sum), Array{Int64, 1}})\nnoise\n")
    @test ex.payloads == ["[1,2]", "{\"a\":1}"] && ex.tests
    @test ex.statements == ["precompile(Tuple{typeof(Base.sum), Array{Int64, 1}})"]
    @test !J.read_exemplar("tests false\n").tests

    dir = mktempdir()
    script = joinpath(dir, "f.jl")
    write(script, "f(x) = x\n")
    cfg = test_config(path = script)
    h = J.responder_hash(cfg)
    @test h == J.responder_hash(cfg)
    mkpath(joinpath(dir, "pkg", "src"))
    write(joinpath(dir, "pkg", "src", "P.jl"), "module P end\n")
    pkg = test_config(kind = "package", path = joinpath(dir, "pkg"))
    hp = J.responder_hash(pkg)
    write(joinpath(dir, "pkg", "src", "Q.jl"), "")
    @test J.responder_hash(pkg) != hp               # a new file counts

    @test !J.compiled_in_image(cfg)                 # no system image of --compile
    J.COMPILED_HASH[] = h
    try
        @test J.compiled_in_image(cfg)
        write(script, "f(x) = x + 1\n")             # an edit: load the file again
        @test J.responder_hash(cfg) != h
        @test !J.compiled_in_image(cfg)
    finally
        J.COMPILED_HASH[] = ""
    end
    @test !J.compiled_package(cfg)                  # no JotCompiled stamp here

    # The argument type is looked up in the responder's module, not evaluated there
    # (closed while JotCompiled is precompiled); other forms are evaluated.
    m = Module(:Types)
    Core.eval(m, :(struct Item end))
    Core.eval(m, Expr(:module, true, :Inner, Expr(:block, :(struct Deep end))))
    @test J.argument_type(m, "Vector{Item}") == Vector{m.Item}
    @test J.argument_type(m, "Dict{String,Union{Nothing,Inner.Deep}}") ==
          Dict{String,Union{Nothing,m.Inner.Deep}}
    @test J.argument_type(m, "NamedTuple{(:a, :b),Tuple{Int,String}}") ==
          NamedTuple{(:a, :b),Tuple{Int,String}}
    @test J.argument_type(m, "Array{Float64,2}") == Matrix{Float64}
    @test J.argument_type(m, "Vector{<:Real}") == Vector{<:Real}    # (evaluated)
    @test J.lookup_type(m, Meta.parse("Vector{<:Real}")) isa J.Unresolved
    @test_throws UndefVarError J.argument_type(m, "Vector{Missing_}")

    # The session again: the events, then the traced statements it can resolve.
    calls = Ref(0)
    g(v::Vector{Int}) = (calls[] += 1; v)
    run = J.Exemplar(["[1]", "[2]"], false,
                     ["precompile(Tuple{typeof(Base.sum), Array{Int64, 1}})",
                      "precompile(Tuple{typeof(Main.NoSuchThing), Int64})"])
    @test J.run_exemplar(g, Vector{Int}, false, test_config(), run, Module()) ==
          (["precompile(Tuple{typeof(Base.sum), Array{Int64, 1}})"], 2)
    @test calls[] == 2
    bad = J.Exemplar(["[\"a\"]"], false, String[])
    err = try
        J.run_exemplar(g, Vector{Int}, false, test_config(), bad, Module()); nothing
    catch e
        e
    end
    @test err isa J.CompileFailure && startswith(err.msg, "the exemplar event [\"a\"] failed: ")
    tests = J.Exemplar(String[], true, String[])
    @test_throws J.CompileFailure J.run_exemplar(g, Vector{Int}, false,
                                                 test_config(kind = "package", path = dir), tests,
                                                 Module())
end

# The package-image path (Julia ≥ 1.9; the test switch JOT_PACKAGE_IMAGES=1 on older
# Julia): a package whose top level runs the exemplar, shaped as the JotCompiled that
# jot-build renders (crates/jot-image/src/compile.rs), precompiled in a Julia of its
# own. Julia refuses evaluation into any module not being defined while it writes a
# package's cache, on 1.5 as on 1.12; an ordinary process (above) cannot show that.
@testset "compiled responders: the workload precompiles as a package" begin
    dir = mktempdir()
    depot = joinpath(dir, "depot")
    workload(name, load, responder) = begin
        mkpath(joinpath(dir, "compiled", name, "src"))
        write(joinpath(dir, "compiled", name, "src", "$name.jl"), """
            module $name
            using JotRuntime
            $load
            if ccall(:jl_generating_output, Cint, ()) == 1
                JotRuntime.compile_workload(@__MODULE__, $responder)
            end
            end
            """)
    end
    julia = joinpath(Sys.BINDIR, Base.julia_exename())
    function precompile_workload(name, env)
        env = merge(Dict(k => v for (k, v) in ENV), Dict("JULIA_DEPOT_PATH" => depot), env)
        code = "push!(LOAD_PATH, $(repr(TEMPLATE)), $(repr(joinpath(dir, "compiled")))); " *
               "using $name; print(\"loaded\")"
        out, err = IOBuffer(), IOBuffer()
        ok = success(pipeline(setenv(`$julia --startup-file=no -O1 -e $code`, env),
                              stdout = out, stderr = err))
        return ok, String(take!(out)), String(take!(err))
    end

    # A script responder, included into the workload: the trace (made where the
    # runtime included it into Main) names its function and types `Main.…`.
    script = joinpath(dir, "tally.jl")
    write(script, "struct Item\n    n::Int\nend\ntally(v::Vector{Item}) = sum(i -> i.n, v)\n")
    exemplar = joinpath(dir, "exemplar-script.txt")
    traced = ["precompile(Tuple{typeof(Main.tally), Array{Main.Item, 1}})",
              "precompile(Tuple{typeof(Base.sum), Array{Int64, 1}})",
              "precompile(Tuple{typeof(Main.nowhere), Int64})"]
    write(exemplar, "payload [{\"n\":2}]\ntests false\n" * join(traced .* "\n"))
    workload("ScriptWorkload", "include($(repr(script)))", "@__MODULE__")
    ok, out, err = precompile_workload("ScriptWorkload", Dict(
        "JOT_EXEMPLAR" => exemplar, "JOT_RESPONDER_KIND" => "script",
        "JOT_RESPONDER_PATH" => script, "JOT_FUNCTION" => "tally",
        "JOT_ARG_TYPE" => "Vector{Item}"))
    @test ok && out == "loaded"
    ok || println(stderr, err)
    @test occursin("jot: compiled the responder and 2 of 3 signatures traced", err)
    compiled = readlines(joinpath(dir, "precompiled.txt"))
    @test compiled == traced[1:2]                    # the responder's own among them
    @test read(joinpath(dir, "tree-hash"), String) ==
          J.responder_hash(test_config(path = script))

    # A package responder with its test suite (--compile-tests), imported by the workload.
    pkg = joinpath(dir, "Counter")
    mkpath(joinpath(pkg, "src")); mkpath(joinpath(pkg, "test"))
    write(joinpath(pkg, "src", "Counter.jl"),
          "module Counter\nstruct Tick\n    n::Int\nend\ncount(v::Vector{Tick}) = length(v)\nend\n")
    ran = joinpath(dir, "tests-ran")
    write(joinpath(pkg, "test", "runtests.jl"), """
        using Test, Counter
        @testset "Counter" begin
            @test Counter.count([Counter.Tick(1), Counter.Tick(2)]) == 2
        end
        write($(repr(ran)), "yes")
        """)
    exemplar = joinpath(dir, "exemplar-package.txt")
    write(exemplar, "payload [{\"n\":1}]\ntests true\n" *
                    "precompile(Tuple{typeof(Counter.count), Array{Counter.Tick, 1}})\n")
    package_env = Dict("JOT_EXEMPLAR" => exemplar, "JOT_RESPONDER_KIND" => "package",
                       "JOT_RESPONDER_PATH" => pkg, "JOT_RESPONDER_MODULE" => "Counter",
                       "JOT_FUNCTION" => "count", "JOT_ARG_TYPE" => "Vector{Tick}",
                       "JULIA_LOAD_PATH" => "@:$dir:@stdlib")
    workload("PackageWorkload", "import Counter", "Counter")
    ok, out, err = precompile_workload("PackageWorkload", package_env)
    @test ok && endswith(out, "loaded")              # (after the suite's summary)
    ok || println(stderr, err)
    @test isfile(ran)                                # the suite ran while precompiling
    @test readlines(joinpath(dir, "precompiled.txt")) ==
          ["precompile(Tuple{typeof(Counter.count), Array{Counter.Tick, 1}})"]

    # A failing suite fails the precompilation, its reason in one line.
    write(joinpath(pkg, "test", "runtests.jl"), "using Test\n@test 1 == 2\n")
    workload("FailingWorkload", "import Counter", "Counter")
    ok, _, err = precompile_workload("FailingWorkload", package_env)
    @test !ok && occursin("jot: --compile failed: --compile-tests: the package's test suite failed", err)
end
