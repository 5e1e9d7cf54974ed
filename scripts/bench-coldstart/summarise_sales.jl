# A responder whose first call compiles a lot: a struct-heavy payload sorted,
# grouped and formatted with Printf (scripts/bench-coldstart.sh).
using Printf

struct Sale
    region::String
    product::String
    units::Int
    price::Float64
end

function summarise_sales(sales::Vector{Sale})
    groups = Dict{Tuple{String,String},Vector{Sale}}()
    for s in sort(sales, by = s -> (s.region, -s.units * s.price))
        push!(get!(groups, (s.region, s.product), Sale[]), s)
    end
    lines = String[]
    for ((region, product), items) in sort(collect(groups), by = first)
        revenue = sum(s -> s.units * s.price, items)
        push!(lines, @sprintf("%-8s %-10s %5d units %12.2f", region, product,
                              sum(s -> s.units, items), revenue))
    end
    return lines
end
