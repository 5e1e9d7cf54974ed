# The fourth bench function (issue 24): standard libraries outside the lean
# system image, LinearAlgebra and Dates, so the lean default's price for their
# users is measured. A 3x3 solve and a date's arithmetic.
using LinearAlgebra
using Dates

function stdlib_user(v::Vector{Float64})
    a = [4.0 1 0; 1 3 1; 0 1 2]
    x = a \ v
    day = Date(2024, 1, 1) + Day(round(Int, norm(x) * 10))
    return Dict("x" => round.(x; digits = 6), "det" => det(a), "day" => string(day),
                "weekday" => dayname(day))
end
