# Builds a Julia system image that holds the jot runtime compiled to native
# code, so a cold start does not spend its time compiling the runtime.
# Run at image build by `bootstrap --precompile`, as
#   julia --output-o jot-sys.o -J <default sysimage> --cpu-target generic sysimage.jl
# then linked into jot-sys.so. Only for Julia releases before 1.9: from 1.9 on the
# package cache made by `bootstrap --precompile` already keeps native code.

# With --output-o, Base's __init__ has not run: set up what loading code needs.
Base.reinit_stdio()
@eval Sys BINDIR = ccall(:jl_get_julia_bindir, Any, ())::String
@eval Sys STDLIB = abspath(Sys.BINDIR, "..", "share", "julia", "stdlib",
                           string("v", VERSION.major, ".", VERSION.minor))
Base.init_load_path()
Base.init_depot_path()
# Sockets' libuv callbacks, set by its __init__ (which has not run either), for the
# workload's loopback round trip; every start sets them again.
import Sockets
Sockets.__init__()
push!(LOAD_PATH, ENV["JOT_RUNTIME_LIB"])   # the directory holding JotRuntime/
using JotRuntime
JotRuntime.precompile_workload()

# Julia's own start and exit with stdout and stderr on pipes, as on Lambda:
# compiled here rather than at every cold start (seen with --trace-compile=stderr).
import Logging
precompile(Base.Multimedia.TextDisplay, (Base.PipeEndpoint,))
precompile(Logging.ConsoleLogger, (Base.PipeEndpoint,))
precompile(Base.CoreLogging.with_logger, (Function, Logging.ConsoleLogger))
precompile(getproperty, (Base.CoreLogging.LogState, Symbol))
precompile(print, (Base.PipeEndpoint, String))
precompile(Tuple{typeof(println), Base.PipeEndpoint, String, Vararg{Any, N} where N})
precompile(Base._atexit, ())
precompile(Base.Filesystem.temp_cleanup_purge, ())
precompile(Base.uvfinalize, (Base.PipeEndpoint,))
# The default system image starts the REPL's terminal; the lean one (lean.jl,
# for --compile) has no REPL, and loading it here would put it back.
let repl = Base.PkgId(Base.UUID("3fa0cd96-eef1-5676-8a61-b3b8758bbffb"), "REPL")
    if haskey(Base.loaded_modules, repl)
        REPL = Base.loaded_modules[repl]
        precompile(REPL.Terminals.TTYTerminal, (String, IOStream, Base.PipeEndpoint, Base.PipeEndpoint))
    end
end
