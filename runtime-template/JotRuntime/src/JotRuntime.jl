# Jot's AWS Lambda custom runtime for Julia, as the package JotRuntime.
#
# Needs no Julia packages (only the Sockets standard library) and runs on Julia 1.5
# and every later release. It loads the responder named by the JOT_* environment
# variables, then serves the Lambda Runtime API forever: fetch an event, convert its
# JSON to the declared argument type, call the function, post the result as JSON.
# runtime-template/README.md describes the contract with the image.

module JotRuntime

using Sockets

export LambdaContext, remaining_time_ms, register_before_snapshot, register_after_restore
export HTTPRequest, HTTPResponse

const API_PREFIX = "/2018-06-01/runtime"          # under the address's own prefix
const MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100   # what the Runtime API accepts
# The directory of the runtime's source files: stack traces are cut at its frames.
const SRC_DIR = @__DIR__

include("json_read.jl")     # JSON → Dict{String,Any} / Vector{Any} / numbers / …
include("json_write.jl")    # any value → JSON
include("convert.jl")       # a parsed event → the declared argument type
include("http.jl")          # the Runtime API address and the HTTP/1.1 client
include("context.jl")       # LambdaContext and the configuration from ENV
include("http_function.jl") # HTTPRequest/HTTPResponse for API Gateway and function URLs
include("errors.jl")        # error reports to the Runtime API and stderr
include("load.jl")          # loading the responder (init)
include("warmup.jl")        # compiling the hot path in init
include("loop.jl")          # the invocation loop
include("snapstart.jl")     # SnapStart: hooks, restore/next, restore/error
include("compiled.jl")      # the responder compiled into the image (jot-build --compile)
include("selftest.jl")      # the build-time self-test (no cache rebuilt at run time)
include("main.jl")          # init (timed) and main()
include("standalone.jl")    # outside Lambda: the Invoke path on :8080, a worker runs main()
include("precompile.jl")    # the workload of `bootstrap --precompile`

# (The ccall lives in a function: a top-level statement with a ccall is compiled, not
# interpreted, and compiling this line would infer the whole workload at every start.)
generating_output() = ccall(:jl_generating_output, Cint, ()) == 1
generating_output() && precompile_workload()

end # module JotRuntime
