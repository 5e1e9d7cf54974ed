# Builds the system image of `jot-build --compile` (Julia < 1.9): the runtime, as
# sysimage.jl builds it, then the responder and its exemplar session (the test
# events and the signatures traced when the built image ran them), so that a cold
# start compiles none of it. Run by `bootstrap --compile EXEMPLAR` as
#   julia --output-o responder-sys.o -J <default sysimage> --cpu-target generic compile.jl
# then linked into responder-sys.so, which bootstrap prefers to jot-sys.so.
include(joinpath(ENV["JOT_RUNTIME_LIB"], "sysimage.jl"))
JotRuntime.compile_responder(ENV["JOT_EXEMPLAR"])
