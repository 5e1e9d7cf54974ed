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
push!(LOAD_PATH, ENV["JOT_RUNTIME_LIB"])   # the directory holding JotRuntime/
using JotRuntime
JotRuntime.precompile_workload()

# Julia's own start with stdout and stderr on pipes, as on Lambda: compiled here
# rather than at every cold start.
import Logging, REPL
precompile(Base.Multimedia.TextDisplay, (Base.PipeEndpoint,))
precompile(Logging.ConsoleLogger, (Base.PipeEndpoint,))
precompile(Base.CoreLogging.with_logger, (Function, Logging.ConsoleLogger))
precompile(REPL.Terminals.TTYTerminal, (String, IOStream, Base.PipeEndpoint, Base.PipeEndpoint))
