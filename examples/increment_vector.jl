# The example responder: jot-build examples/increment_vector.jl --arg-type 'Vector{Int}'
increment_vector(v::Vector{Int}) = map(x -> x + 1, v)
