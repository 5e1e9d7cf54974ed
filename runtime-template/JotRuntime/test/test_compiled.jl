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

    # The session again: the events, then the traced statements it can resolve.
    calls = Ref(0)
    g(v::Vector{Int}) = (calls[] += 1; v)
    run = J.Exemplar(["[1]", "[2]"], false,
                     ["precompile(Tuple{typeof(Base.sum), Array{Int64, 1}})",
                      "precompile(Tuple{typeof(Main.NoSuchThing), Int64})"])
    @test J.run_exemplar(g, Vector{Int}, false, test_config(), run) == (1, 2)
    @test calls[] == 2
    bad = J.Exemplar(["[\"a\"]"], false, String[])
    err = try
        J.run_exemplar(g, Vector{Int}, false, test_config(), bad); nothing
    catch e
        e
    end
    @test err isa J.CompileFailure && startswith(err.msg, "the exemplar event [\"a\"] failed: ")
    tests = J.Exemplar(String[], true, String[])
    @test_throws J.CompileFailure J.run_exemplar(g, Vector{Int}, false,
                                                 test_config(kind = "package", path = dir), tests)
end
