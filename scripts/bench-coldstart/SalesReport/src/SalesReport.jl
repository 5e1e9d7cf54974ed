# A package responder (scripts/bench-coldstart.sh): the sales summary as a
# package, precompiled at build time.
module SalesReport
using Printf

struct Sale
    region::String
    product::String
    units::Int
    price::Float64
end

function report(sales::Vector{Sale})
    totals = Dict{String,Float64}()
    for s in sort(sales, by = s -> s.units * s.price)
        totals[s.region] = get(totals, s.region, 0.0) + s.units * s.price
    end
    return [@sprintf("%s: %.2f", k, v) for (k, v) in sort(collect(totals))]
end
end
