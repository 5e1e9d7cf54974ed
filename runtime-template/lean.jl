# The lean base of `jot-build --compile` (Julia < 1.9): Base and the three stdlibs
# the runtime loads, none of the others the default system image holds (Pkg, REPL,
# LinearAlgebra, SparseArrays, ...), so the compiled image is less than half the
# size and every cold start maps, relocates and initialises less (issue 12: Julia's
# start with the 156 MB image was most of the time above `docker run IMAGE true`).
# Julia's own base/sysimg.jl, cut down; built once per base image by
# `bootstrap --precompile`, from Julia's base/ sources in the image, as
#   cd <share/julia/base> && julia --output-ji lean-sys.ji -J corecompiler.ji lean.jl
# No native code: `bootstrap --compile` compiles it with the responder. Stdlibs a
# responder uses are loaded from their sources into the compiled image.
Core.include(Main, "Base.jl")
using .Base
pushfirst!(Base._included_files, (@__MODULE__, joinpath(pwd(), "Base.jl")))
@eval Base creating_sysimg = true
Base.init_depot_path()
Base.init_load_path()
for stdlib in (:Base64, :Sockets, :Logging)   # Logging: the same log lines as usual
    Base.require(Base, stdlib)
end
empty!(Core.ARGS)
empty!(Base.ARGS)
@eval Base creating_sysimg = false
import Base.MainInclude: eval, include
ccall(:jl_clear_implicit_imports, Cvoid, (Any,), Main)
empty!(LOAD_PATH)
empty!(DEPOT_PATH)
