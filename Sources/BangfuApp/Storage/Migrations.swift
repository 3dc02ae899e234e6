import Foundation
import SQLKit

/// One versioned schema change. Most statements are the same on both engines; `statements`
/// receives the engine for the few DDL details that differ.
struct Migration: Sendable {
    let version: Int64
    let name: String
    let statements: @Sendable (DatabaseEngine) -> [String]
}

enum Migrations {
    static let all: [Migration] = [
        Migration(version: 1, name: "accounts, reference data, audit log") { engine in
            [
                """
                CREATE TABLE counties (code TEXT PRIMARY KEY, name TEXT NOT NULL, prefecture TEXT NOT NULL,
                  province TEXT NOT NULL, level TEXT NOT NULL, created_at BIGINT NOT NULL)
                """,
                """
                CREATE TABLE categories (id TEXT PRIMARY KEY, name TEXT NOT NULL, parent_id TEXT REFERENCES categories(id),
                  position BIGINT NOT NULL, created_at BIGINT NOT NULL)
                """,
                """
                CREATE TABLE users (id TEXT PRIMARY KEY, username TEXT NOT NULL, username_key TEXT NOT NULL UNIQUE,
                  password_hash TEXT NOT NULL, role TEXT NOT NULL, display_name TEXT NOT NULL,
                  county_code TEXT REFERENCES counties(code), created_at BIGINT NOT NULL)
                """,
                """
                CREATE TABLE sessions (token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id),
                  created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL)
                """,
                "CREATE INDEX sessions_user ON sessions (user_id)",
                """
                CREATE TABLE signin_failures (id TEXT PRIMARY KEY, username_key TEXT NOT NULL, address TEXT NOT NULL,
                  at BIGINT NOT NULL)
                """,
                "CREATE INDEX signin_failures_user ON signin_failures (username_key, at)",
                "CREATE INDEX signin_failures_address ON signin_failures (address, at)",
                "CREATE TABLE audit_head (id BIGINT PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL)",
                "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '\(AuditChain.genesisHash)')",
                """
                CREATE TABLE audit_events (seq BIGINT PRIMARY KEY, at BIGINT NOT NULL, actor_id TEXT,
                  action TEXT NOT NULL, entity_type TEXT NOT NULL, entity_id TEXT NOT NULL, data TEXT NOT NULL,
                  prev_hash TEXT NOT NULL, hash TEXT NOT NULL)
                """,
                "CREATE INDEX audit_events_entity ON audit_events (entity_type, entity_id, seq)",
            ] + appendOnlyTriggers(engine)
        },
        Migration(version: 2, name: "merchant onboarding") { _ in
            [
                """
                CREATE TABLE merchant_applications (id TEXT PRIMARY KEY, owner_id TEXT NOT NULL REFERENCES users(id),
                  status TEXT NOT NULL, company_name TEXT NOT NULL, credit_code TEXT NOT NULL,
                  legal_representative TEXT NOT NULL, contact_name TEXT NOT NULL, contact_phone TEXT NOT NULL,
                  county_code TEXT NOT NULL REFERENCES counties(code), address TEXT NOT NULL,
                  food_license_number TEXT, bank_name TEXT NOT NULL, bank_account TEXT NOT NULL,
                  households_driven BIGINT NOT NULL, merchant_id TEXT, created_at BIGINT NOT NULL,
                  updated_at BIGINT NOT NULL)
                """,
                "CREATE INDEX merchant_applications_owner ON merchant_applications (owner_id, created_at)",
                "CREATE INDEX merchant_applications_county ON merchant_applications (county_code, status, created_at)",
                "CREATE INDEX merchant_applications_created ON merchant_applications (created_at, id)",
                // One credit code, one application in progress: the index backs the check in code
                // when two processes race on PostgreSQL.
                """
                CREATE UNIQUE INDEX merchant_applications_open_credit_code ON merchant_applications (credit_code)
                WHERE status IN ('submitted', 'recommended')
                """,
                """
                CREATE TABLE merchant_application_reviews (id TEXT PRIMARY KEY,
                  application_id TEXT NOT NULL REFERENCES merchant_applications(id), position BIGINT NOT NULL,
                  actor_id TEXT NOT NULL, actor_role TEXT NOT NULL, action TEXT NOT NULL, from_status TEXT,
                  to_status TEXT NOT NULL, note TEXT, at BIGINT NOT NULL, UNIQUE (application_id, position))
                """,
                """
                CREATE TABLE merchant_documents (id TEXT PRIMARY KEY,
                  application_id TEXT NOT NULL REFERENCES merchant_applications(id), kind TEXT NOT NULL,
                  content_type TEXT NOT NULL, sha256 TEXT NOT NULL, size BIGINT NOT NULL, expires_on TEXT,
                  created_at BIGINT NOT NULL)
                """,
                "CREATE INDEX merchant_documents_app ON merchant_documents (application_id, created_at)",
                "CREATE INDEX merchant_documents_expiry ON merchant_documents (expires_on)",
                """
                CREATE TABLE merchants (id TEXT PRIMARY KEY, application_id TEXT NOT NULL UNIQUE
                  REFERENCES merchant_applications(id), owner_id TEXT NOT NULL UNIQUE REFERENCES users(id),
                  company_name TEXT NOT NULL, credit_code TEXT NOT NULL UNIQUE,
                  county_code TEXT NOT NULL REFERENCES counties(code), households_driven BIGINT NOT NULL,
                  status TEXT NOT NULL, suspension_reason TEXT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)
                """,
                "CREATE INDEX merchants_county ON merchants (county_code, status, created_at)",
                "CREATE INDEX merchants_created ON merchants (created_at, id)",
            ]
        },
        Migration(version: 3, name: "products") { engine in
            [
                // `stock` is what is still for sale; `held` what open orders hold. `merchant_active`
                // and `certificate_expires_at` copy the merchant's status and the valid
                // certificate's expiry onto the row, so the public catalog reads one table.
                """
                CREATE TABLE products (id TEXT PRIMARY KEY, merchant_id TEXT NOT NULL REFERENCES merchants(id),
                  title TEXT NOT NULL, category_id TEXT NOT NULL REFERENCES categories(id),
                  top_category_id TEXT NOT NULL REFERENCES categories(id), description TEXT NOT NULL,
                  specification TEXT NOT NULL, unit TEXT NOT NULL, price_fen BIGINT NOT NULL, stock BIGINT NOT NULL,
                  held BIGINT NOT NULL, origin_county_code TEXT NOT NULL REFERENCES counties(code),
                  labels TEXT NOT NULL, status TEXT NOT NULL, sales BIGINT NOT NULL, merchant_active BIGINT NOT NULL,
                  certificate_number TEXT, certificate_expires_at BIGINT, search_text TEXT NOT NULL,
                  created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL\(engine == .postgres ? ", search_terms TEXT[] NOT NULL" : ""))
                """,
                "CREATE INDEX products_public_newest ON products (status, created_at, id)",
                "CREATE INDEX products_public_price ON products (status, price_fen, id)",
                "CREATE INDEX products_public_sales ON products (status, sales, id)",
                "CREATE INDEX products_category ON products (top_category_id, category_id)",
                "CREATE INDEX products_county ON products (origin_county_code)",
                "CREATE INDEX products_merchant ON products (merchant_id, created_at)",
                "CREATE TABLE product_labels (product_id TEXT NOT NULL REFERENCES products(id), label TEXT NOT NULL, PRIMARY KEY (product_id, label))",
                "CREATE INDEX product_labels_label ON product_labels (label, product_id)",
                """
                CREATE TABLE product_prices (id TEXT PRIMARY KEY, product_id TEXT NOT NULL REFERENCES products(id),
                  price_fen BIGINT NOT NULL, from_at BIGINT NOT NULL, position BIGINT NOT NULL)
                """,
                "CREATE INDEX product_prices_product ON product_prices (product_id, position)",
                """
                CREATE TABLE stock_adjustments (id TEXT PRIMARY KEY, product_id TEXT NOT NULL REFERENCES products(id),
                  delta BIGINT NOT NULL, reason TEXT NOT NULL, actor_id TEXT NOT NULL, stock_after BIGINT NOT NULL,
                  at BIGINT NOT NULL)
                """,
            ] + (engine == .postgres
                ? ["CREATE INDEX products_search ON products USING GIN (search_terms)"]
                : [
                    """
                    CREATE VIRTUAL TABLE product_search USING fts5(product_id UNINDEXED, terms,
                      tokenize = 'unicode61 remove_diacritics 0')
                    """
                ])
        },
        Migration(version: 4, name: "product images") { _ in
            [
                """
                CREATE TABLE product_images (id TEXT PRIMARY KEY, product_id TEXT NOT NULL REFERENCES products(id),
                  sha256 TEXT NOT NULL, content_type TEXT NOT NULL, size BIGINT NOT NULL, position BIGINT NOT NULL,
                  created_at BIGINT NOT NULL)
                """,
                "CREATE INDEX product_images_product ON product_images (product_id, position)",
            ]
        },
        Migration(version: 5, name: "catalog indexes for sorting and facets") { _ in
            [
                // Nearly every product is listed, so `status` first made every sort index look
                // alike to the planner, which then sorted the whole table; the sort keys lead now.
                "DROP INDEX products_public_newest",
                "DROP INDEX products_public_price",
                "DROP INDEX products_public_sales",
                "CREATE INDEX products_newest ON products (created_at, id)",
                "CREATE INDEX products_price ON products (price_fen, id)",
                "CREATE INDEX products_sales ON products (sales, id)",
                // Covering indexes for facet counts: the filtered set is counted from the index alone.
                """
                CREATE INDEX products_facet_category ON products (top_category_id, status, merchant_active,
                  certificate_expires_at)
                """,
                """
                CREATE INDEX products_facet_county ON products (origin_county_code, status, merchant_active,
                  certificate_expires_at)
                """,
            ]
        },
        Migration(version: 6, name: "certification and certificates") { _ in
            [
                """
                CREATE TABLE certification_applications (id TEXT PRIMARY KEY,
                  product_id TEXT NOT NULL REFERENCES products(id), merchant_id TEXT NOT NULL REFERENCES merchants(id),
                  county_code TEXT NOT NULL REFERENCES counties(code), status TEXT NOT NULL,
                  households_driven BIGINT NOT NULL, description TEXT NOT NULL, certificate_number TEXT,
                  created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)
                """,
                // One application in progress per product; the index backs the check in code.
                """
                CREATE UNIQUE INDEX certification_applications_open ON certification_applications (product_id)
                WHERE status IN ('submitted', 'county_approved')
                """,
                "CREATE INDEX certification_applications_created ON certification_applications (created_at, id)",
                "CREATE INDEX certification_applications_county ON certification_applications (county_code, created_at, id)",
                "CREATE INDEX certification_applications_merchant ON certification_applications (merchant_id, created_at, id)",
                """
                CREATE TABLE certification_reviews (id TEXT PRIMARY KEY,
                  application_id TEXT NOT NULL REFERENCES certification_applications(id), position BIGINT NOT NULL,
                  actor_id TEXT NOT NULL, actor_role TEXT NOT NULL, action TEXT NOT NULL, from_status TEXT,
                  to_status TEXT NOT NULL, note TEXT, at BIGINT NOT NULL, UNIQUE (application_id, position))
                """,
                // The per-year counter behind `BF-YYYY-NNNNNN`; its row lock orders concurrent issues.
                "CREATE TABLE certificate_sequences (year BIGINT PRIMARY KEY, last BIGINT NOT NULL)",
                """
                CREATE TABLE certificates (number TEXT PRIMARY KEY,
                  application_id TEXT REFERENCES certification_applications(id),
                  product_id TEXT NOT NULL REFERENCES products(id), product_title TEXT NOT NULL,
                  merchant_id TEXT NOT NULL REFERENCES merchants(id), merchant_name TEXT NOT NULL,
                  county_code TEXT NOT NULL, issued_at BIGINT NOT NULL, expires_at BIGINT NOT NULL,
                  key_id TEXT NOT NULL, signature TEXT NOT NULL, revoked_at BIGINT, revocation_reason TEXT,
                  revoked_by TEXT, created_at BIGINT NOT NULL)
                """,
                "CREATE INDEX certificates_issued ON certificates (issued_at, number)",
                "CREATE INDEX certificates_product ON certificates (product_id, issued_at)",
                "CREATE INDEX certificates_expiry ON certificates (expires_at)",
            ]
        },
        Migration(version: 7, name: "buyer organizations, quota plans, orders, refunds, idempotency keys") { _ in
            [
                """
                CREATE TABLE buyer_organizations (id TEXT PRIMARY KEY, name TEXT NOT NULL, credit_code TEXT NOT NULL UNIQUE,
                  department TEXT NOT NULL, county_code TEXT REFERENCES counties(code), canteen_address TEXT NOT NULL,
                  contact_name TEXT NOT NULL, contact_phone TEXT NOT NULL, status TEXT NOT NULL,
                  created_by TEXT NOT NULL REFERENCES users(id), verified_at BIGINT, created_at BIGINT NOT NULL,
                  updated_at BIGINT NOT NULL)
                """,
                "CREATE INDEX buyer_organizations_created ON buyer_organizations (created_at, id)",
                """
                CREATE TABLE buyer_members (user_id TEXT PRIMARY KEY REFERENCES users(id),
                  organization_id TEXT NOT NULL REFERENCES buyer_organizations(id), created_at BIGINT NOT NULL)
                """,
                "CREATE INDEX buyer_members_organization ON buyer_members (organization_id)",
                // committed/completed/refunded are maintained in the transaction of every order
                // change; a test recomputes them from the orders after a random workload.
                """
                CREATE TABLE quota_plans (organization_id TEXT NOT NULL REFERENCES buyer_organizations(id),
                  year BIGINT NOT NULL, has_canteen BIGINT NOT NULL, canteen_budget_fen BIGINT NOT NULL,
                  reserved_ratio_bp BIGINT NOT NULL, reserved_fen BIGINT NOT NULL, committed_fen BIGINT NOT NULL,
                  completed_fen BIGINT NOT NULL, refunded_fen BIGINT NOT NULL, created_at BIGINT NOT NULL,
                  updated_at BIGINT NOT NULL, PRIMARY KEY (organization_id, year))
                """,
                "CREATE INDEX quota_plans_year ON quota_plans (year, organization_id)",
                """
                CREATE TABLE checkouts (id TEXT PRIMARY KEY, organization_id TEXT NOT NULL REFERENCES buyer_organizations(id),
                  buyer_id TEXT NOT NULL REFERENCES users(id), total_fen BIGINT NOT NULL, created_at BIGINT NOT NULL)
                """,
                """
                CREATE TABLE orders (id TEXT PRIMARY KEY, checkout_id TEXT NOT NULL REFERENCES checkouts(id),
                  organization_id TEXT NOT NULL REFERENCES buyer_organizations(id),
                  merchant_id TEXT NOT NULL REFERENCES merchants(id), buyer_id TEXT NOT NULL REFERENCES users(id),
                  status TEXT NOT NULL, total_fen BIGINT NOT NULL, refunded_fen BIGINT NOT NULL,
                  ship_within_days BIGINT NOT NULL, ship_by BIGINT NOT NULL, delivery_address TEXT, note TEXT,
                  quota_year BIGINT NOT NULL, carrier TEXT, tracking_number TEXT, payment_reference TEXT,
                  shipped_at BIGINT, accepted_at BIGINT, settled_at BIGINT, created_at BIGINT NOT NULL,
                  updated_at BIGINT NOT NULL)
                """,
                "CREATE INDEX orders_organization ON orders (organization_id, created_at, id)",
                "CREATE INDEX orders_merchant ON orders (merchant_id, created_at, id)",
                "CREATE INDEX orders_created ON orders (created_at, id)",
                "CREATE INDEX orders_checkout ON orders (checkout_id)",
                "CREATE INDEX orders_quota ON orders (organization_id, quota_year, status)",
                """
                CREATE TABLE order_items (order_id TEXT NOT NULL REFERENCES orders(id), position BIGINT NOT NULL,
                  product_id TEXT NOT NULL REFERENCES products(id), title TEXT NOT NULL, unit_price_fen BIGINT NOT NULL,
                  quantity BIGINT NOT NULL, amount_fen BIGINT NOT NULL, certificate_number TEXT NOT NULL,
                  county_code TEXT NOT NULL, category_id TEXT NOT NULL, PRIMARY KEY (order_id, position))
                """,
                "CREATE INDEX order_items_product ON order_items (product_id)",
                """
                CREATE TABLE order_events (id TEXT PRIMARY KEY, order_id TEXT NOT NULL REFERENCES orders(id),
                  position BIGINT NOT NULL, action TEXT NOT NULL, actor_id TEXT NOT NULL, actor_role TEXT NOT NULL,
                  from_status TEXT, to_status TEXT NOT NULL, note TEXT, at BIGINT NOT NULL, UNIQUE (order_id, position))
                """,
                """
                CREATE TABLE refunds (id TEXT PRIMARY KEY, order_id TEXT NOT NULL REFERENCES orders(id),
                  amount_fen BIGINT NOT NULL, reason TEXT NOT NULL, status TEXT NOT NULL,
                  requested_by TEXT NOT NULL REFERENCES users(id), decided_by TEXT, decision_note TEXT, decided_at BIGINT,
                  created_at BIGINT NOT NULL)
                """,
                "CREATE INDEX refunds_order ON refunds (order_id, created_at)",
                // A key's first answer, kept with the hash of the request it answered.
                """
                CREATE TABLE idempotency_keys (user_id TEXT NOT NULL REFERENCES users(id), key TEXT NOT NULL,
                  request_hash TEXT NOT NULL, status BIGINT NOT NULL, body TEXT NOT NULL, created_at BIGINT NOT NULL,
                  PRIMARY KEY (user_id, key))
                """,
                "CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at)",
            ]
        },
        Migration(version: 8, name: "reports: maintained sales totals, alert indexes") { _ in
            [
                // Settled sales, kept in the transactions that settle orders and approve refunds:
                // per quota year, scope ('*' or a county code), dimension and key.
                """
                CREATE TABLE sales_totals (year BIGINT NOT NULL, scope TEXT NOT NULL, dimension TEXT NOT NULL,
                  key TEXT NOT NULL, orders BIGINT NOT NULL, amount_fen BIGINT NOT NULL,
                  PRIMARY KEY (year, scope, dimension, key))
                """,
                "ALTER TABLE products ADD COLUMN last_ordered_at BIGINT",
                "CREATE INDEX products_last_ordered ON products (last_ordered_at)",
                "CREATE INDEX orders_ship_by ON orders (status, ship_by)",
                "CREATE INDEX orders_accepted ON orders (status, accepted_at)",
            ]
        },
        Migration(version: 9, name: "refund queue") { _ in
            ["CREATE INDEX refunds_status ON refunds (status, created_at, id)", "CREATE INDEX refunds_created ON refunds (created_at, id)"]
        },
        Migration(version: 10, name: "certified field locks") { _ in
            [
                // The title as the merchant submitted it: what the certificate signs.
                "ALTER TABLE certification_applications ADD COLUMN submitted_title TEXT",
                // A certificate its merchant gave up to change an identifying field.
                "ALTER TABLE certificates ADD COLUMN surrendered_at BIGINT",
                "CREATE INDEX merchant_documents_sha ON merchant_documents (sha256)",
                "CREATE INDEX product_images_sha ON product_images (sha256)",
                // Old sign-in failures are swept by time.
                "CREATE INDEX signin_failures_at ON signin_failures (at)",
            ]
        },
        Migration(version: 11, name: "notifications: every user's inbox") { _ in
            [
                """
                CREATE TABLE notifications (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id),
                  kind TEXT NOT NULL, subject_type TEXT NOT NULL, subject_id TEXT NOT NULL, title TEXT NOT NULL,
                  body TEXT NOT NULL, created_at BIGINT NOT NULL, read_at BIGINT)
                """,
                "CREATE INDEX notifications_inbox ON notifications (user_id, created_at, id)",
                "CREATE INDEX notifications_unread ON notifications (user_id, created_at, id) WHERE read_at IS NULL",
                // The county officers and admins an event reaches are found by role.
                "CREATE INDEX users_role ON users (role, county_code)",
                // Each reminder's key, once sent (ReminderRules).
                "CREATE TABLE reminders_sent (reminder_key TEXT PRIMARY KEY, sent_at BIGINT NOT NULL)",
            ]
        },
        Migration(version: 12, name: "webhooks and their outbox") { engine in
            [
                // The secret signs deliveries, so it is kept as it is; no answer but registration's
                // and no log line shows it.
                """
                CREATE TABLE webhooks (id TEXT PRIMARY KEY, owner_kind TEXT NOT NULL, owner_id TEXT NOT NULL,
                  created_by TEXT NOT NULL REFERENCES users(id), url TEXT NOT NULL, events TEXT NOT NULL,
                  secret TEXT NOT NULL, created_at BIGINT NOT NULL, deleted_at BIGINT, lease_until BIGINT, leased_by TEXT)
                """,
                "CREATE INDEX webhooks_live ON webhooks (owner_kind, owner_id) WHERE deleted_at IS NULL",
                // One row per event and webhook, in the order written (`seq`): the outbox and the
                // delivery log. A process sending a webhook's deliveries holds its lease.
                """
                CREATE TABLE webhook_deliveries (
                  seq \(engine == .postgres ? "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT"),
                  id TEXT NOT NULL UNIQUE, webhook_id TEXT NOT NULL REFERENCES webhooks(id), event_id TEXT NOT NULL,
                  type TEXT NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL, attempts BIGINT NOT NULL,
                  response_code BIGINT, last_error TEXT, last_attempt_at BIGINT, next_attempt_at BIGINT NOT NULL,
                  created_at BIGINT NOT NULL)
                """,
                "CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, seq) WHERE status = 'pending'",
                "CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (webhook_id, seq) WHERE status = 'pending'",
                "CREATE INDEX webhook_deliveries_log ON webhook_deliveries (webhook_id, seq)",
            ]
        },
        Migration(version: 13, name: "e-mail notifications") { _ in
            [
                // A user's address and the kinds they do not want by mail.
                """
                CREATE TABLE notification_settings (user_id TEXT PRIMARY KEY REFERENCES users(id), email TEXT,
                  muted_kinds TEXT NOT NULL, updated_at BIGINT NOT NULL)
                """,
                """
                CREATE TABLE mail_outbox (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id),
                  recipient TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL,
                  attempts BIGINT NOT NULL, last_error TEXT, next_attempt_at BIGINT NOT NULL, claimed_until BIGINT,
                  created_at BIGINT NOT NULL)
                """,
                "CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at, id) WHERE status = 'pending'",
            ]
        },
        Migration(version: 14, name: "regions, the organization tree and member accounts") { _ in
            [
                """
                CREATE TABLE regions (code TEXT PRIMARY KEY, name TEXT NOT NULL, level TEXT NOT NULL,
                  parent_code TEXT REFERENCES regions(code), created_at BIGINT NOT NULL)
                """,
                "CREATE INDEX regions_parent ON regions (parent_code, code)",
                // The region is checked against `regions` when it is set (the shipped divisions are
                // loaded after the migrations); organizations registered before it take their county's.
                "ALTER TABLE buyer_organizations ADD COLUMN region_code TEXT",
                "ALTER TABLE buyer_organizations ADD COLUMN parent_id TEXT REFERENCES buyer_organizations(id)",
                "UPDATE buyer_organizations SET region_code = county_code WHERE county_code IS NOT NULL",
                "CREATE INDEX buyer_organizations_parent ON buyer_organizations (parent_id)",
                "CREATE INDEX buyer_organizations_region ON buyer_organizations (region_code)",
                // Every member so far registered its organization: its manager.
                "ALTER TABLE buyer_members ADD COLUMN member_role TEXT NOT NULL DEFAULT 'manager'",
                // A removed member's account stays (its orders name it) but cannot sign in.
                "ALTER TABLE users ADD COLUMN disabled_at BIGINT",
                "ALTER TABLE users ADD COLUMN last_sign_in_at BIGINT",
                // A finance officer's region (GB/T 2260 prefix scope).
                "ALTER TABLE users ADD COLUMN region_code TEXT",
            ]
        },
        Migration(version: 15, name: "the yearly filing: review, canteen modes, waivers, union budget, minimum ratios") { _ in
            [
                // Plans declared before filings existed wait for review like any new filing.
                "ALTER TABLE quota_plans ADD COLUMN status TEXT NOT NULL DEFAULT 'submitted'",
                "ALTER TABLE quota_plans ADD COLUMN canteen_mode TEXT NOT NULL DEFAULT 'own'",
                "UPDATE quota_plans SET canteen_mode = 'none' WHERE has_canteen = 0",
                "ALTER TABLE quota_plans ADD COLUMN shared_canteen_organization_id TEXT REFERENCES buyer_organizations(id)",
                "ALTER TABLE quota_plans ADD COLUMN union_budget_fen BIGINT NOT NULL DEFAULT 0",
                "ALTER TABLE quota_plans ADD COLUMN union_committed_fen BIGINT NOT NULL DEFAULT 0",
                "ALTER TABLE quota_plans ADD COLUMN union_completed_fen BIGINT NOT NULL DEFAULT 0",
                "ALTER TABLE quota_plans ADD COLUMN waiver_reason TEXT",
                "ALTER TABLE quota_plans ADD COLUMN waiver_status TEXT",
                "ALTER TABLE quota_plans ADD COLUMN waiver_note TEXT",
                "ALTER TABLE quota_plans ADD COLUMN return_reason TEXT",
                "CREATE INDEX quota_plans_year_status ON quota_plans (year, status)",
                """
                CREATE TABLE filing_events (id TEXT PRIMARY KEY, filing_id TEXT NOT NULL, position BIGINT NOT NULL,
                  action TEXT NOT NULL, actor_id TEXT NOT NULL, actor_role TEXT NOT NULL, from_status TEXT,
                  to_status TEXT NOT NULL, note TEXT, at BIGINT NOT NULL, UNIQUE (filing_id, position))
                """,
                // Regional minimum reserved ratios; the national default is the operator's setting.
                """
                CREATE TABLE minimum_ratios (region_code TEXT PRIMARY KEY REFERENCES regions(code), minimum_bp BIGINT NOT NULL,
                  updated_at BIGINT NOT NULL)
                """,
                // Union orders (工会采购) use the filing's union budget, never the canteen's.
                "ALTER TABLE orders ADD COLUMN purpose TEXT NOT NULL DEFAULT 'canteen'",
            ]
        },
        Migration(version: 16, name: "invoices") { _ in
            [
                // An order's invoices (发票): at most one `current`; a later one or an approved refund
                // supersedes it. The PDF, if sent, is an upload named by its SHA-256.
                """
                CREATE TABLE invoices (id TEXT PRIMARY KEY, order_id TEXT NOT NULL REFERENCES orders(id),
                  number TEXT NOT NULL, kind TEXT NOT NULL, issued_on TEXT NOT NULL, amount_fen BIGINT NOT NULL,
                  status TEXT NOT NULL, sha256 TEXT, file_size BIGINT, recorded_by TEXT NOT NULL,
                  created_at BIGINT NOT NULL, superseded_at BIGINT)
                """,
                "CREATE UNIQUE INDEX invoices_current ON invoices (order_id) WHERE status = 'current'",
                "CREATE INDEX invoices_order ON invoices (order_id, created_at)",
                "CREATE INDEX invoices_sha256 ON invoices (sha256)",
            ]
        },
        Migration(version: 17, name: "ratings") { _ in
            [
                // One rating an order (评价), by a member of its organization; the merchant's reply on the row.
                """
                CREATE TABLE ratings (order_id TEXT PRIMARY KEY REFERENCES orders(id), id TEXT NOT NULL UNIQUE,
                  organization_id TEXT NOT NULL, merchant_id TEXT NOT NULL REFERENCES merchants(id), rater_id TEXT NOT NULL,
                  quality BIGINT NOT NULL CHECK (quality BETWEEN 1 AND 5), delivery BIGINT NOT NULL CHECK (delivery BETWEEN 1 AND 5),
                  service BIGINT NOT NULL CHECK (service BETWEEN 1 AND 5), comment TEXT, reply TEXT, replied_at BIGINT,
                  created_at BIGINT NOT NULL)
                """,
                // The public list pages on the rating's own id, never the order's.
                "CREATE INDEX ratings_merchant ON ratings (merchant_id, created_at, id)",
            ]
        },
        Migration(version: 18, name: "platform settings") { _ in
            [
                // What the stored data was built under: `completion_rule` (the plans' sums follow it;
                // a server started with another rule recomputes them and records its own).
                "CREATE TABLE platform_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at BIGINT NOT NULL)",
                // The sums so far followed `settled`; the row always exists, so writers can lock it.
                "INSERT INTO platform_settings (name, value, updated_at) VALUES ('completion_rule', 'settled', 0)",
            ]
        },
        Migration(version: 19, name: "price monitoring") { _ in
            [
                // The stated net content and the unit price it gives (per kg or litre, whole fen).
                "ALTER TABLE products ADD COLUMN net_content_grams BIGINT",
                "ALTER TABLE products ADD COLUMN per_kg_fen BIGINT",
                // The lowest price of the 30 days before the latest price change, and its time:
                // the change is a jump when the price exceeds the base by the operator's percentage.
                "ALTER TABLE products ADD COLUMN price_jump_base_fen BIGINT",
                "ALTER TABLE products ADD COLUMN price_jump_at BIGINT",
                // A category's comparable products in unit-price order: medians by offset, outliers by range.
                "CREATE INDEX products_unit_price ON products (category_id, per_kg_fen, status, merchant_active)",
                "CREATE INDEX products_price_jump ON products (price_jump_at)",
                // Each leaf category's median unit price over its listed products of active merchants
                // with a net content, kept in the transaction of every change that moves it.
                """
                CREATE TABLE category_price_medians (category_id TEXT PRIMARY KEY REFERENCES categories(id),
                  comparable BIGINT NOT NULL, median_per_kg_fen BIGINT, updated_at BIGINT NOT NULL)
                """,
            ]
        },
        Migration(version: 20, name: "catalog sort by rating") { _ in
            [
                // The merchant's overall score of the last 365 days in hundredths (0: unrated), and
                // when its oldest counted rating leaves the window (then it is recomputed).
                "ALTER TABLE merchants ADD COLUMN rating_score BIGINT NOT NULL DEFAULT 0",
                "ALTER TABLE merchants ADD COLUMN rating_refresh_at BIGINT",
                "CREATE INDEX merchants_rating_refresh ON merchants (rating_refresh_at)",
                // Each product carries its merchant's score, so `sort=rating` reads an index.
                "ALTER TABLE products ADD COLUMN merchant_rating BIGINT NOT NULL DEFAULT 0",
                "CREATE INDEX products_rating ON products (merchant_rating, id)",
                // Ratings made before: their merchants are recomputed at the next start.
                "UPDATE merchants SET rating_refresh_at = 0 WHERE id IN (SELECT merchant_id FROM ratings)",
            ]
        },
        Migration(version: 21, name: "slow-moving alert index") { _ in
            [
                // Products by the time they went idle (their last order, or their creation), so the
                // slow-moving alert reads a range in order instead of every product made before it.
                "CREATE INDEX products_idle ON products ((COALESCE(last_ordered_at, created_at)))"
            ]
        },
        Migration(version: 22, name: "catalog change feed") { engine in
            catalogFeed(engine)
        },
        Migration(version: 23, name: "deferred indexes") { _ in
            // Indexes a bulk load set aside, built again at the next start if it died (`DeferredIndexes`).
            ["CREATE TABLE deferred_indexes (name TEXT PRIMARY KEY, definition TEXT NOT NULL)"]
        },
        Migration(version: 24, name: "drop products_last_ordered") { _ in
            [
                // No query reads it since `products_idle` (migration 21), and every order moved
                // its product's entry: a page written per order for nothing.
                "DROP INDEX IF EXISTS products_last_ordered",
                "DELETE FROM deferred_indexes WHERE name = 'products_last_ordered'",
            ]
        },
    ]

    /// The catalog's change feed (issue 18): every committed change of what the catalog index
    /// holds appends a row, by trigger, in the transaction that makes it, so no write path can
    /// forget it and every process reads the same sequence (`CatalogFeed`). A product's row is
    /// named by its id; a change of category or county names by `names`. Stock and held units
    /// are not in the index (pages read them from `products`), so an order placed writes none.
    private static func catalogFeed(_ engine: DatabaseEngine) -> [String] {
        let watched = [
            "status", "merchant_id", "merchant_active", "certificate_expires_at", "category_id", "top_category_id",
            "origin_county_code", "labels", "price_fen", "sales", "merchant_rating", "search_text", "title", "created_at",
        ]
        switch engine {
        case .sqlite:
            let at = "CAST(strftime('%s', 'now') AS INTEGER) * 1000"
            let changed = watched.map { "OLD.\($0) IS NOT NEW.\($0)" }.joined(separator: " OR ")
            func names(_ table: String) -> [String] {
                [
                    """
                    CREATE TRIGGER \(table)_catalog_insert AFTER INSERT ON \(table)
                    BEGIN INSERT INTO catalog_changes (kind, key, at) VALUES ('names', '', \(at)); END
                    """,
                    """
                    CREATE TRIGGER \(table)_catalog_update AFTER UPDATE OF name ON \(table)
                    BEGIN INSERT INTO catalog_changes (kind, key, at) VALUES ('names', '', \(at)); END
                    """,
                ]
            }
            return [
                """
                CREATE TABLE catalog_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,
                  key TEXT NOT NULL, at BIGINT NOT NULL)
                """,
                """
                CREATE TRIGGER products_catalog_insert AFTER INSERT ON products
                BEGIN INSERT INTO catalog_changes (kind, key, at) VALUES ('product', NEW.id, \(at)); END
                """,
                """
                CREATE TRIGGER products_catalog_update AFTER UPDATE ON products WHEN \(changed)
                BEGIN INSERT INTO catalog_changes (kind, key, at) VALUES ('product', NEW.id, \(at)); END
                """,
                """
                CREATE TRIGGER products_catalog_delete AFTER DELETE ON products
                BEGIN INSERT INTO catalog_changes (kind, key, at) VALUES ('product', OLD.id, \(at)); END
                """,
                // A merchant's name is searched and ranked with each of its products.
                """
                CREATE TRIGGER merchants_catalog_name AFTER UPDATE OF company_name ON merchants
                BEGIN INSERT INTO catalog_changes (kind, key, at) SELECT 'product', id, \(at) FROM products
                  WHERE merchant_id = NEW.id; END
                """,
            ] + names("counties") + names("categories") + catalogFeedState
        case .postgres:
            // The time of the write, not of the transaction's start: a long transaction's changes
            // are not pruned as old the moment they commit.
            let at = "(extract(epoch from clock_timestamp()) * 1000)::bigint"
            let changed = watched.map { "OLD.\($0) IS DISTINCT FROM NEW.\($0)" }.joined(separator: " OR ")
            return [
                """
                CREATE TABLE catalog_changes (seq BIGSERIAL PRIMARY KEY, kind TEXT NOT NULL, key TEXT NOT NULL,
                  at BIGINT NOT NULL)
                """,
                """
                CREATE FUNCTION catalog_product_change() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF TG_OP = 'DELETE' THEN
                    INSERT INTO catalog_changes (kind, key, at) VALUES ('product', OLD.id, \(at));
                  ELSE
                    INSERT INTO catalog_changes (kind, key, at) VALUES ('product', NEW.id, \(at));
                  END IF;
                  RETURN NULL;
                END $$
                """,
                """
                CREATE TRIGGER products_catalog_insert AFTER INSERT OR DELETE ON products
                FOR EACH ROW EXECUTE FUNCTION catalog_product_change()
                """,
                """
                CREATE TRIGGER products_catalog_update AFTER UPDATE ON products
                FOR EACH ROW WHEN (\(changed)) EXECUTE FUNCTION catalog_product_change()
                """,
                """
                CREATE FUNCTION catalog_names_change() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN INSERT INTO catalog_changes (kind, key, at) VALUES ('names', '', \(at)); RETURN NULL; END $$
                """,
                """
                CREATE FUNCTION catalog_merchant_change() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  INSERT INTO catalog_changes (kind, key, at) SELECT 'product', id, \(at) FROM products WHERE merchant_id = NEW.id;
                  RETURN NULL;
                END $$
                """,
                """
                CREATE TRIGGER merchants_catalog_name AFTER UPDATE OF company_name ON merchants
                FOR EACH ROW WHEN (OLD.company_name IS DISTINCT FROM NEW.company_name) EXECUTE FUNCTION catalog_merchant_change()
                """,
                """
                CREATE TRIGGER counties_catalog AFTER INSERT OR UPDATE OF name ON counties
                FOR EACH STATEMENT EXECUTE FUNCTION catalog_names_change()
                """,
                """
                CREATE TRIGGER categories_catalog AFTER INSERT OR UPDATE OF name ON categories
                FOR EACH STATEMENT EXECUTE FUNCTION catalog_names_change()
                """,
            ] + catalogFeedState
        }
    }

    /// Old changes are pruned by age; `pruned_through` tells a process that slept past them to
    /// rebuild its index instead of reading a feed with pieces missing.
    private static let catalogFeedState = [
        "CREATE INDEX catalog_changes_at ON catalog_changes (at)",
        "CREATE TABLE catalog_feed (id BIGINT PRIMARY KEY, pruned_through BIGINT NOT NULL)",
        "INSERT INTO catalog_feed (id, pruned_through) VALUES (1, 0)",
    ]

    /// The audit log is append-only for the application: the database itself refuses UPDATE and
    /// DELETE on `audit_events`. (Someone with direct access can drop the triggers; the hash chain
    /// is what detects that.)
    private static func appendOnlyTriggers(_ engine: DatabaseEngine) -> [String] {
        switch engine {
        case .sqlite:
            return [
                """
                CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
                BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END
                """,
                """
                CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
                BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END
                """,
            ]
        case .postgres:
            return [
                """
                CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$
                """,
                """
                CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
                FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
                """,
            ]
        }
    }

    /// Applies every migration not yet recorded in `schema_migrations`, all in one transaction
    /// (DDL is transactional on both engines), so a failed upgrade leaves the schema as it was.
    /// Several processes may start at once: on PostgreSQL an advisory lock makes them take turns;
    /// on SQLite the single writer transaction (`BEGIN IMMEDIATE`) does.
    @discardableResult
    static func apply(to database: any Database, now: Date) async throws -> [Int64] {
        let engine = database.engine
        return try await database.write { db in
            if engine == .postgres {
                try await db.raw("SELECT pg_advisory_xact_lock(80832)").run()
            }
            try await db.raw(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL,
                  applied_at BIGINT NOT NULL)
                """
            ).run()
            let applied = Set(
                try await db.raw("SELECT version FROM schema_migrations").all().map {
                    try $0.decode(column: "version", as: Int64.self)
                })
            var newlyApplied: [Int64] = []
            for migration in all where !applied.contains(migration.version) {
                for statement in migration.statements(engine) {
                    try await db.raw(SQLQueryString(statement)).run()
                }
                try await db.raw(
                    """
                    INSERT INTO schema_migrations (version, name, applied_at)
                    VALUES (\(bind: migration.version), \(bind: migration.name), \(bind: now.millis))
                    """
                ).run()
                newlyApplied.append(migration.version)
            }
            return newlyApplied
        }
    }

    /// True when every known migration is recorded (used by `/readyz`).
    static func isCurrent(_ database: any Database) async -> Bool {
        do {
            let applied = try await database.read { db in
                try await db.raw("SELECT version FROM schema_migrations").all().map {
                    try $0.decode(column: "version", as: Int64.self)
                }
            }
            return Set(all.map(\.version)).isSubset(of: Set(applied))
        } catch {
            return false
        }
    }
}
