# The package's own tests, run before the image is built (`make test`).
using Test
using DayCounter

@testset "days_between" begin
    @test DayCounter.days_between(Dict("from" => "2024-02-27", "to" => "2024-03-02")) == 4
    @test DayCounter.days_between(Dict("from" => "2024-03-02", "to" => "2024-02-27")) == -4
    @test_throws ArgumentError DayCounter.days_between(Dict("from" => "2024-13-01", "to" => "2024-01-01"))
end
