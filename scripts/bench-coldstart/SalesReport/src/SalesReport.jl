# A package responder (scripts/bench-coldstart.sh): the sales summary as a
# package, precompiled at build time, using a second local package (SalesCore).
module SalesReport
using SalesCore

function report(sales::Vector{Sale})
    totals = Dict{String,Float64}()
    for s in sort(sales, by = revenue)
        totals[s.region] = get(totals, s.region, 0.0) + revenue(s)
    end
    return [line(k, v) for (k, v) in sort(collect(totals))]
end
end
