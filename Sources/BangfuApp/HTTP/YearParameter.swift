import Hummingbird

/// A quota year in a path (`…/quota-plans/{year}`) or a query (`?year=`): 2000 to 2100, else 400
/// naming `year`.
enum YearParameter {
    static func parse(_ raw: some StringProtocol) throws -> Int {
        guard let year = Int(raw), BuyerOrganizations.years.contains(year) else {
            throw DomainError.badRequest("year must be a year from 2000 to 2100", field: "year")
        }
        return year
    }

    /// `{year}` of the route's path.
    static func path(_ context: AppRequestContext) throws -> Int {
        try parse(try context.parameters.require("year"))
    }

    /// `?year=`, nil when absent.
    static func query(_ request: Request) throws -> Int? {
        try request.uri.queryParameters["year"].map { try parse($0) }
    }
}
