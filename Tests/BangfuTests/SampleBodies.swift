import Foundation

/// A valid body for every route that takes one, naming tenant A's objects through the
/// authorization matrix's placeholders (`{product}`, `{organization}`, …). The matrix sends them
/// as the callers who must be refused (a valid body must not change the answer), and the sweep
/// sends them with each number set to the edges of Int64.
enum SampleBodies {
    static let byRoute: [String: String] = [
        "POST /api/v1/users":
            #"{"username":"sweeper","password":"correct horse 1","role":"merchant","displayName":"扫描"}"#,
        "POST /api/v1/sessions": #"{"username":"sellera","password":"not the password"}"#,
        "POST /api/v1/counties":
            #"{"code":"230199","name":"测试县","prefecture":"哈尔滨市","province":"黑龙江省","level":"provincial"}"#,
        "PATCH /api/v1/counties/{county}": #"{"name":"延寿县"}"#,
        "POST /api/v1/merchant-applications": applicationJSON(creditCode: Codes.harbin),
        "PUT /api/v1/merchant-applications/{application}": applicationJSON(),
        "POST /api/v1/merchant-applications/{application}/recommend": #"{"note":"属实"}"#,
        "POST /api/v1/merchant-applications/{application}/approve": #"{"note":"同意"}"#,
        "POST /api/v1/merchant-applications/{application}/reject": #"{"reason":"材料不全"}"#,
        "POST /api/v1/merchants/{merchant}/suspension": #"{"reason":"抽检不合格"}"#,
        "POST /api/v1/products":
            #"{"title":"延寿大米","categoryId":"rice","description":"产地直供","specification":"5kg/袋","unit":"袋","priceFen":1000,"stock":10,"originCountyCode":"230129","labels":["green"]}"#,
        "PATCH /api/v1/products/{product}": #"{"priceFen":1100,"description":"新米"}"#,
        "POST /api/v1/products/{product}/stock-adjustments": #"{"delta":1,"reason":"盘点"}"#,
        "POST /api/v1/certification-applications":
            #"{"productId":"{product}","householdsDriven":36,"description":"带动脱贫户"}"#,
        "POST /api/v1/certification-applications/{certification}/county-review": #"{"approve":true,"note":"属实"}"#,
        "POST /api/v1/certification-applications/{certification}/approve": #"{"validDays":365}"#,
        "POST /api/v1/certification-applications/{certification}/reject": #"{"reason":"不符合"}"#,
        "POST /api/v1/certificates/{certificate}/revocation": #"{"reason":"抽检不合格"}"#,
        "POST /api/v1/regions": #"{"code":"110100","name":"市辖区","parentCode":"110000"}"#,
        "POST /api/v1/buyer-organizations": organizationJSON(code: organizationCode(9)),
        "PATCH /api/v1/buyer-organizations/{organization}": #"{"contactName":"李明","regionCode":"230102"}"#,
        "POST /api/v1/buyer-organizations/{organization}/members":
            #"{"username":"matrixmember","password":"correct horse 1","displayName":"成员","memberRole":"purchaser"}"#,
        "PUT /api/v1/buyer-organizations/{organization}/quota-plans/{year}":
            #"{"hasCanteen":true,"canteenBudgetFen":1000000,"reservedRatioBp":1000}"#,
        "POST /api/v1/buyer-organizations/{organization}/quota-plans/{year}/confirmation": #"{"note":"已核"}"#,
        "POST /api/v1/buyer-organizations/{organization}/quota-plans/{year}/return": #"{"reason":"比例偏低"}"#,
        "POST /api/v1/buyer-organizations/{organization}/quota-plans/{year}/waiver": #"{"approve":true,"note":"同意"}"#,
        "PUT /api/v1/policy/minimum-ratios/{region}": #"{"minimumBp":1500}"#,
        "POST /api/v1/orders": #"{"items":[{"productId":"{product}","quantity":1}],"shipWithinDays":7}"#,
        "POST /api/v1/orders/{order}/rejection": #"{"reason":"缺货"}"#,
        "POST /api/v1/orders/{order}/shipment": #"{"carrier":"顺丰","trackingNumber":"SF1234567890"}"#,
        "POST /api/v1/orders/{order}/payment": #"{"reference":"国库支付 2026-001","amountFen":1500}"#,
        "POST /api/v1/orders/{order}/rating": #"{"quality":5,"delivery":4,"service":4,"comment":"好"}"#,
        "POST /api/v1/orders/{order}/rating/reply": #"{"text":"感谢"}"#,
        "PUT /api/v1/orders/{order}/invoice": #"{"number":"12345678","kind":"electronic","issuedOn":"2026-01-01","amountFen":1500}"#,
        "POST /api/v1/orders/{order}/refunds": #"{"amountFen":100,"reason":"破损"}"#,
        "POST /api/v1/refunds/{refund}/approval": #"{"note":"同意"}"#,
        "POST /api/v1/refunds/{refund}/rejection": #"{"reason":"不符合"}"#,
        "POST /api/v1/webhooks": #"{"url":"https://93.184.215.14/hook","events":["order.placed"]}"#,
    ]

    /// The body to send on `route` as a refused caller: its sample, or `{}`.
    static func body(_ route: String) -> String { byRoute[route] ?? "{}" }

    /// Numbers to put in every numeric field: the edges of Int64, around zero, and JSON numbers
    /// no Int64 holds.
    static let edgeNumbers = [
        "-9223372036854775808", "-1", "0", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
        "1e400", "0.5", "-0",
    ]

    /// Every variant of `json` with one number replaced by `replacement` (nested objects and
    /// arrays included); the text of numbers is replaced as written, so values no Swift number
    /// type holds can be sent.
    static func variants(of json: String, replacingNumbersWith replacement: String) -> [String] {
        var results: [String] = []
        let scalars = Array(json.unicodeScalars)
        var index = 0
        var inString = false
        while index < scalars.count {
            let c = scalars[index]
            if inString {
                if c == "\\" { index += 2; continue }
                if c == "\"" { inString = false }
                index += 1
                continue
            }
            if c == "\"" { inString = true; index += 1; continue }
            if c == "-" || ("0"..."9").contains(c) {
                var end = index + 1
                while end < scalars.count, "0123456789.eE+-".unicodeScalars.contains(scalars[end]) { end += 1 }
                var view = String.UnicodeScalarView()
                view.append(contentsOf: scalars[..<index])
                view.append(contentsOf: replacement.unicodeScalars)
                view.append(contentsOf: scalars[end...])
                results.append(String(view))
                index = end
                continue
            }
            index += 1
        }
        return results
    }
}
