/// The web UI (`Public/`) and the reference data (`Catalog/`), compiled into the binary by
/// SwiftPM (`embedInCode`), so a copied `bangfu` runs from any directory. `PackageResources`
/// names each file by its base name alone: a new file needs its line here, and
/// `EmbeddedFilesTests` fails until every file of both folders has one with the same bytes.
public enum EmbeddedFiles {
    /// `Public/`, by path relative to it (`index.html`, `js/main.js`).
    public static let publicFiles: [String: [UInt8]] = [
        "app.css": PackageResources.app_css,
        "index.html": PackageResources.index_html,
        "js/admin.js": PackageResources.admin_js,
        "js/api.js": PackageResources.api_js,
        "js/buyer.js": PackageResources.buyer_js,
        "js/catalog.js": PackageResources.catalog_js,
        "js/county.js": PackageResources.county_js,
        "js/finance.js": PackageResources.finance_js,
        "js/inbox.js": PackageResources.inbox_js,
        "js/main.js": PackageResources.main_js,
        "js/merchant.js": PackageResources.merchant_js,
        "js/shared.js": PackageResources.shared_js,
        "js/state.js": PackageResources.state_js,
        "js/ui.js": PackageResources.ui_js,
        "openapi.yaml": PackageResources.openapi_yaml,
    ]

    /// `Catalog/`'s JSON files, by name.
    public static let catalogFiles: [String: [UInt8]] = [
        "categories.json": PackageResources.categories_json,
        "counties.json": PackageResources.counties_json,
        "demo.json": PackageResources.demo_json,
        "regions.json": PackageResources.regions_json,
    ]
}
