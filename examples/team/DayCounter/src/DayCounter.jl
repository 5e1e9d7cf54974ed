"""
A package responder: `days_between(Dict("from" => "2024-02-27", "to" => "2024-03-02"))`
is the number of days from one ISO date to the other (4 here; leap years count).
"""
module DayCounter

using Dates

days_between(d::Dict{String,String}) = Dates.value(Date(d["to"]) - Date(d["from"]))

end
