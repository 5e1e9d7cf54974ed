# Tests of the jot runtime (the package JotRuntime), stdlib only. Run them in a
# Julia image with `make runtime-test`, or directly:
#     JULIA_DEPOT_PATH=/tmp/depot julia --startup-file=no runtime-template/JotRuntime/test/runtests.jl
# The depot must be writable (a test package and the runtime get precompiled).
# Exits non-zero if any test fails.

using Test, Sockets, Dates

include(joinpath(@__DIR__, "..", "src", "JotRuntime.jl"))
using .JotRuntime
const J = JotRuntime

include("helpers.jl")

# A broken client can wait for ever on a socket: fail the run instead of hanging.
const TIMEOUT_S = parse(Int, get(ENV, "JOT_RUNTIME_TEST_TIMEOUT", "600"))
const WATCHDOG = Timer(TIMEOUT_S) do _
    println(stderr, "runtests.jl: no result after $TIMEOUT_S s (a request that never ",
            "returns?); failing")
    exit(2)
end

@testset "JotRuntime" begin
    include("test_json.jl")
    include("test_convert.jl")
    include("test_http.jl")
    include("test_invoke.jl")
    include("test_e2e.jl")
    include("test_lifecycle.jl")
    include("test_compiled.jl")
    include("test_standalone.jl")
    include("test_http_function.jl")
end
close(WATCHDOG)
