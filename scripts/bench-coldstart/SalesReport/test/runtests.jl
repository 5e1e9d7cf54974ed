# What `jot-build --compile-tests` runs while compiling (and `Pkg.test` would).
using Test, SalesReport
using SalesCore: Sale

@testset "report" begin
    sales = [Sale("north", "tea", 3, 2.5), Sale("south", "jam", 1, 4.0), Sale("north", "jam", 2, 4.0)]
    @test SalesReport.report(sales) == ["north: 15.50", "south: 4.00"]
    @test SalesReport.report(Sale[]) == String[]
end
