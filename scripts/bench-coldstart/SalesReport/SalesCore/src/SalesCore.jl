# The second local package of the bench's package responder: the sale type and
# its formatting, used by SalesReport (tracked by path in SalesReport's Manifest).
module SalesCore
using Printf

export Sale, revenue, line

struct Sale
    region::String
    product::String
    units::Int
    price::Float64
end

revenue(s::Sale) = s.units * s.price
line(region::AbstractString, total::Real) = @sprintf("%s: %.2f", region, total)
end
