import Foundation
import SQLKit

/// Loads `Catalog/demo.json` (a cooperative in each 脱贫县 with twelve certified, listed products,
/// and a few buyers) into an empty database, and generates large synthetic catalogs for
/// benchmarks. Neither ever writes into a database that holds users.
struct DemoLoader {
    let services: AppServices

    struct Demo: Decodable {
        /// A merchant: its user's name and what its application filled in, side by side in one object.
        struct DemoMerchant: Decodable {
            var username: String
            var fields: ApplicationFields

            init(from decoder: any Decoder) throws {
                username = try decoder.container(keyedBy: Key.self).decode(String.self, forKey: .username)
                fields = try ApplicationFields(from: decoder)
            }

            private enum Key: String, CodingKey { case username }
        }
        struct DemoBuyer: Decodable {
            var username: String
            var displayName: String
        }
        /// A product: the index of its merchant in `merchants` and what its merchant would list.
        struct DemoProduct: Decodable {
            var merchant: Int
            var listing: CatalogDTO.CreateInput

            init(from decoder: any Decoder) throws {
                merchant = try decoder.container(keyedBy: Key.self).decode(Int.self, forKey: .merchant)
                listing = try CatalogDTO.CreateInput(from: decoder)
            }

            private enum Key: String, CodingKey { case merchant }
        }
        var merchants: [DemoMerchant]
        var buyers: [DemoBuyer]
        var products: [DemoProduct]
    }

    enum Outcome: Equatable {
        case loaded(merchants: Int, products: Int)
        case skippedNotEmpty
    }

    /// Every demo user (an admin `demo-admin`, a county officer `demo-county` of 延寿县, merchants
    /// `demo-m01`…, buyers `demo-buyer1`…) signs in with `password`.
    func loadDemo(password: String) async throws -> Outcome {
        let demo = try FileSource.catalogFiles(services.configuration).decode(Demo.self, "demo.json")
        let hash = try await services.passwords.hash(password)
        let now = services.clock.now
        let services = self.services
        return try await services.database.write { db in
            guard try await services.merchants.isEmpty(in: db) else { return .skippedNotEmpty }
            let categories = try await services.reference.categories(in: db).map(\.0)
            let topOf = Dictionary(uniqueKeysWithValues: categories.map { ($0.id, $0.parentId ?? $0.id) })
            func user(_ username: String, _ role: Role, _ name: String, county: String? = nil) async throws -> String {
                let user = User(
                    id: services.ids.next(), username: username, role: role, displayName: name, countyCode: county,
                    createdAt: now)
                _ = try await services.accounts.users.insert(user, passwordHash: hash, in: db)
                return user.id
            }
            let adminId = try await user("demo-admin", .admin, "演示管理员")
            _ = try await user("demo-county", .county, "延寿县乡村振兴局", county: "230129")
            for buyer in demo.buyers { _ = try await user(buyer.username, .buyer, buyer.displayName) }
            var merchants: [(id: String, name: String)] = []
            for m in demo.merchants {
                let ownerId = try await user(m.username, .merchant, m.fields.companyName)
                let application = MerchantApplication(
                    id: services.ids.next(), ownerId: ownerId, status: .approved,
                    fields: m.fields,
                    merchantId: nil, createdAt: now, updatedAt: now)
                try await services.merchants.insert(application, in: db)
                let merchantId = services.ids.next()
                try await services.merchants.insertMerchant(id: merchantId, from: application, at: now, in: db)
                var approved = application
                approved.merchantId = merchantId
                try await services.merchants.update(approved, in: db)
                merchants.append((merchantId, m.fields.companyName))
                try await services.audit.append(
                    AuditEvent(
                        actorId: adminId, "demo.merchant", .merchant(merchantId),
                        ["companyName": m.fields.companyName, "countyCode": m.fields.countyCode]), in: db)
            }
            let ids = demo.products.map { _ in services.ids.next() }
            let certificates = try await services.issuer.sign(
                demo.products.enumerated().map { index, p in
                    CertificateIssuer.Subject(
                        productId: ids[index], productTitle: p.listing.title, merchantId: merchants[p.merchant].id,
                        merchantName: merchants[p.merchant].name, countyCode: p.listing.originCountyCode, applicationId: nil)
                }, validDays: services.configuration.certificateValidDays, now: now, in: db)
            var batch: [(product: Product, merchantName: String)] = []
            for (index, p) in demo.products.enumerated() {
                let merchant = merchants[p.merchant]
                let created = now.addingTimeInterval(Double(index - demo.products.count))
                let product = Product(
                    id: ids[index], merchantId: merchant.id, title: p.listing.title, categoryId: p.listing.categoryId,
                    topCategoryId: topOf[p.listing.categoryId] ?? p.listing.categoryId, description: p.listing.description,
                    specification: p.listing.specification, unit: p.listing.unit, priceFen: p.listing.priceFen, stock: p.listing.stock, held: 0,
                    originCountyCode: p.listing.originCountyCode, labels: p.listing.labels ?? [], status: .listed, sales: 0,
                    merchantActive: true, certificateNumber: certificates[index].number,
                    certificateExpiresAt: certificates[index].expiresAt, createdAt: created, updatedAt: created,
                    netContentGrams: p.listing.netContentGrams ?? PriceRules.netContent(ofSpecification: p.listing.specification))
                batch.append((product, merchant.name))
            }
            try await services.products.insertBatch(batch, in: db)
            try await services.certification.insertBatch(certificates, in: db)
            try await services.products.rebuildMedians(at: now, in: db)
            try await services.audit.append(
                AuditEvent(actorId: adminId, "demo.products", .catalog("demo"), ["products": batch.count]), in: db)
            return .loaded(merchants: merchants.count, products: batch.count)
        }
    }

    /// `bangfu seed`: `merchants` synthetic merchants (users that cannot sign in) and `products`
    /// listed, certified products with plausible titles, written in batches. Into an empty
    /// database only.
    func seed(
        products count: Int, merchants merchantCount: Int, seed: UInt64 = 832, batchSize: Int = Self.batchSize,
        progress: Progress = .silent
    ) async throws -> Outcome {
        let now = services.clock.now
        let services = self.services
        var random = SeededRandom(seed)
        let counties = try await services.database.read { db in try await services.reference.counties(in: db).map(\.0) }
        let categories = try await services.database.read { db in try await services.reference.categories(in: db).map(\.0) }
        let leaves = categories.filter { category in !categories.contains { $0.parentId == category.id } }
        let topOf = Dictionary(uniqueKeysWithValues: categories.map { ($0.id, $0.parentId ?? $0.id) })
        let nameOf = Dictionary(uniqueKeysWithValues: categories.map { ($0.id, $0.name) })
        progress.report("merchants", 0, merchantCount)
        // Merchants first, in one transaction, which also takes every certificate number needed.
        let setup: (merchants: [(id: String, name: String)], firstNumber: Int64)? = try await services.database.write { db in
            guard try await services.merchants.isEmpty(in: db) else { return nil }
            var merchants: [(id: String, name: String)] = []
            for index in 0..<merchantCount {
                let county = counties[index % counties.count]
                let name = county.name + Self.merchantWords[index % Self.merchantWords.count] + "合作社\(index + 1)号"
                let ownerId = services.ids.next()
                _ = try await services.accounts.users.insert(
                    User(id: ownerId, username: "seed-m\(index + 1)", role: .merchant, displayName: name, countyCode: nil, createdAt: now),
                    passwordHash: "!", in: db)
                let serial = String(format: "MA%07X", index + 1).replacingOccurrences(of: "I", with: "J").replacingOccurrences(of: "O", with: "P")
                let body = "93" + county.code + serial
                let code = body + String(CreditCode.checkCharacter(Array(body)) ?? "0")
                let application = MerchantApplication(
                    id: services.ids.next(), ownerId: ownerId, status: .approved,
                    fields: ApplicationFields(
                        companyName: name, creditCode: code, legalRepresentative: "王德福", contactName: "李秀兰",
                        contactPhone: "13812345678", countyCode: county.code, address: county.name, foodLicenseNumber: nil,
                        bankName: "中国农业银行", bankAccount: "6228480012345678", householdsDriven: Int64(20 + index % 500)),
                    merchantId: nil, createdAt: now, updatedAt: now)
                try await services.merchants.insert(application, in: db)
                let merchantId = services.ids.next()
                try await services.merchants.insertMerchant(id: merchantId, from: application, at: now, in: db)
                merchants.append((merchantId, name))
            }
            try await services.audit.append(
                AuditEvent(actorId: nil, "seed.merchants", .catalog("seed"), ["merchants": merchantCount]), in: db)
            return (merchants, try await services.issuer.reserve(count, now: now, in: db))
        }
        guard let (merchants, firstNumber) = setup, !merchants.isEmpty else { return .skippedNotEmpty }
        progress.report("merchants", merchants.count, merchantCount)
        if count > 0 { progress.report("products", 0, count) }
        let deferred = DeferredIndexes(engine: services.database.engine)
        // Each batch is made and signed here while the previous one is being written.
        var writing: Task<Void, any Error>?
        // The indexes and the cache come back whatever happens (tests seed in a serving process).
        do {
            try await bulkCache(true)
            _ = try await services.database.write { db in try await deferred.setAside(tables: Self.bulkTables, in: db) }
            var written = 0
            while written < count {
                let size = min(max(1, batchSize), count - written)
                var batch: [(product: Product, merchantName: String)] = []
                batch.reserveCapacity(size)
                for offset in 0..<size {
                    let index = written + offset
                    let merchant = merchants[random.next(merchants.count)]
                    let county = counties[random.next(counties.count)]
                    let category = leaves[random.next(leaves.count)]
                    let word = Self.qualities[random.next(Self.qualities.count)]
                    let item = (Self.items[category.id] ?? [category.name]).randomElement(using: &random)!
                    let spec = Self.specs[random.next(Self.specs.count)]
                    // Priced by weight where the specification states it (8 to 12 yuan a kg, one in
                    // fifty at twice that: price monitoring's outliers), else at random.
                    let grams = PriceRules.netContent(ofSpecification: spec)
                    let perKg = Int64(800 + random.next(400)) * (random.next(50) == 0 ? 2 : 1)
                    let price = grams.map { max(1, perKg * $0 / 1000) } ?? Int64(500 + random.next(30000))
                    let title = county.name.replacingOccurrences(of: "县", with: "") + word + item + " " + spec
                    let created = now.addingTimeInterval(Double(index - count))
                    let labels = ProductLabel.allCases.filter { _ in random.next(5) == 0 }.map(\.rawValue)
                    let product = Product(
                        id: services.ids.next(), merchantId: merchant.id, title: title, categoryId: category.id,
                        topCategoryId: topOf[category.id] ?? category.id,
                        description: "产自\(county.prefecture)\(county.name)的\(nameOf[category.id] ?? "")，\(Self.phrases[random.next(Self.phrases.count)])。",
                        specification: spec, unit: "件", priceFen: price, stock: Int64(random.next(10000)),
                        held: 0, originCountyCode: county.code, labels: labels, status: .listed, sales: Int64(random.next(1000)),
                        merchantActive: true, certificateNumber: nil, certificateExpiresAt: nil, createdAt: created,
                        updatedAt: created, netContentGrams: grams)
                    batch.append((product, merchant.name))
                }
                // Each product's certificate is real: numbered, signed and stored like any other.
                let certificates: [Certificate]
                do {
                    certificates = try await services.issuer.sign(
                        batch.map {
                            CertificateIssuer.Subject(
                                productId: $0.product.id, productTitle: $0.product.title, merchantId: $0.product.merchantId,
                                merchantName: $0.merchantName, countyCode: $0.product.originCountyCode, applicationId: nil)
                        }, firstSequence: firstNumber + Int64(written), validDays: services.configuration.certificateValidDays,
                        now: now)
                } catch {
                    _ = await writing?.result  // the batch being written finishes before the error is reported
                    throw error
                }
                let certified = zip(batch, certificates).map { entry, certificate in
                    var product = entry.product
                    product.certificateNumber = certificate.number
                    product.certificateExpiresAt = certificate.expiresAt
                    return (product: product, merchantName: entry.merchantName)
                }
                let prepared = services.products.prepareBatch(certified)
                try await writing?.value
                progress.report("products", written, count)
                writing = Task {
                    try await services.database.write { db in
                        try await services.products.insertPrepared(prepared, in: db)
                        try await services.certification.insertBatch(certificates, in: db)
                    }
                }
                written += size
            }
            try await writing?.value
        } catch {
            _ = await writing?.result  // no restore while a batch is still being written
            _ = try? await deferred.restore(in: services.database)
            try? await bulkCache(false)
            throw error
        }
        progress.report("products", count, count)
        _ = try await deferred.restore(in: services.database, progress: progress)
        try await bulkCache(false)
        try await services.database.write { db in
            try await services.products.rebuildMedians(at: now, in: db)
            try await services.audit.append(
                AuditEvent(actorId: nil, "seed.products", .catalog("seed"), ["products": count]), in: db)
        }
        try await services.optimize()
        return .loaded(merchants: merchants.count, products: count)
    }

    /// A bulk load writes every index of `products` at random places (ids are random). Past a few
    /// hundred thousand products those indexes outgrow the SQLite writer's 32 MiB page cache and
    /// each batch re-reads them through the kernel: the last 100,000 of 1,000,000 products took six
    /// times as long as the first. The load takes up to 1 GiB of page cache and gives it back.
    private func bulkCache(_ on: Bool) async throws {
        guard services.database.engine == .sqlite else { return }
        let size = on ? -1_048_576 : SQLiteDatabase.writerCacheKiB
        try await services.database.write { db in try await db.raw("PRAGMA cache_size=\(unsafeRaw: String(size))").run() }
    }

    /// Products a seed's transaction writes. Ids are random, so once an index has more pages
    /// than a batch has rows, each row dirties a page of each id index, and a commit writes every
    /// dirty page to the log: fewer, larger transactions write each page fewer times.
    static let batchSize = 25_000

    /// The tables a seed writes by the million, whose secondary indexes it sets aside meanwhile.
    static let bulkTables = ["products", "product_prices", "product_labels", "certificates"]

    static let merchantWords = ["丰源", "禾润", "绿野", "兴农", "黑土", "福民", "山河", "兴旺", "金穗", "北味"]
    static let qualities = ["", "富硒", "寒地", "有机", "农家", "精选", "特级", "生态", "当季", "山野", "黑土地", "原生态"]
    static let specs = ["250g/袋", "500g/袋", "1kg/袋", "2.5kg/袋", "5kg/袋", "10kg/箱", "500ml/瓶", "1L/桶", "30枚/箱", "礼盒装"]
    static let phrases = ["脱贫户种植", "合作社统一收购", "订单农业", "基地直供", "冷链配送", "检测合格", "当年新货", "适合食堂批量采购"]
    static let items: [String: [String]] = [
        "rice": ["大米", "稻花香大米", "长粒香大米", "富硒米"], "coarse-grains": ["小米", "红小豆", "绿豆", "玉米碴", "黄豆"],
        "edible-oil": ["大豆油", "亚麻籽油", "葵花籽油"], "beef": ["牛腱子", "牛排", "牛腩"], "pork": ["黑猪肉", "五花肉", "排骨"],
        "poultry-eggs": ["笨鸡蛋", "大鹅", "鸭蛋"], "potato": ["马铃薯", "土豆粉条"], "other-vegetables": ["大白菜", "干豆角", "萝卜"],
        "black-fungus": ["黑木耳", "椴木耳", "小碗耳"], "shiitake": ["干香菇", "花菇"], "other-fungi": ["榛蘑", "猴头菇", "元蘑"],
        "herbal": ["刺五加", "五味子", "板蓝根"], "fruit-nuts": ["蓝莓", "榛子", "沙果", "松子"], "bee-products": ["椴树蜂蜜", "雪蜜", "蜂王浆"],
        "hemp": ["汉麻籽", "汉麻籽油"], "condiments": ["大酱", "辣白菜", "酱油"], "dairy": ["鲜牛奶", "奶酪", "酸奶"],
        "aquatic": ["鲤鱼", "大马哈鱼", "鲫鱼"], "beverages": ["豆浆粉", "沙棘汁", "蓝莓汁"], "specialty": ["红肠", "大列巴", "粘豆包"],
    ]
}

/// A small deterministic generator (SplitMix64), so a seeded catalog is the same every run.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func next(_ upperBound: Int) -> Int { Int(next() % UInt64(upperBound)) }
}
