#!/usr/bin/env python3
"""The whole marketplace story through the web UI in headless Chromium (issue 8).

usage: story.py BASE_URL WORK_DIR   (Tests/browser/story.sh starts the server and calls this)

Only the admin (admin1) and the county officer of 延寿县 (county1) exist beforehand, created with
the CLI; everything else happens by clicking and typing in the browser. Screenshots go to
$BANGFU_SCREENSHOTS (default /tmp/bangfu-browser-screenshots).
"""
import os
import random
import struct
import sys
import time
import zlib
import base64
import json
import ssl
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE = sys.argv[1].rstrip("/")
WORK = sys.argv[2]
SHOTS = os.environ.get("BANGFU_SCREENSHOTS", "/tmp/bangfu-browser-screenshots")
os.makedirs(SHOTS, exist_ok=True)
ADMIN = ("admin1", "admin-story-2026")
COUNTY = ("county1", "county-story-2026")
COUNTY_CODE = "230129"  # 延寿县
RUN = "%04d" % random.randrange(10000)
MERCHANT = ("coop" + RUN, "merchant-story-2026")
BUYER = ("canteen" + RUN, "buyer-story-2026")
COMPANY = f"延寿县福安黑木耳专业合作社{RUN}"
ORG = f"哈尔滨市第一机关食堂{RUN}"
PRODUCT = f"延寿椴木黑木耳 500g/袋 批次{RUN}"
PRICE_YUAN, QUANTITY = "45.80", 3
TOTAL_FEN = 4580 * QUANTITY
STEP_TIMEOUT = 20
screenshots = []
started = time.time()


# ---- test data ----

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from bangfu_testdata import credit_code  # noqa: E402


def write_png(path, w=320, h=200):
    """A small picture: a red-to-gold gradient over green fields."""
    rows = []
    for y in range(h):
        row = bytearray(b"\x00")
        for x in range(w):
            if y > h * 0.6:
                row += bytes([40, 110 + (x * 60) // w, 50])
            else:
                row += bytes([200, 60 + (y * 150) // h, 40])
        rows.append(bytes(row))
    raw = b"".join(rows)
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) \
        + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)
    return path


def write_pdf(path):
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] >>"]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    with open(path, "wb") as f:
        f.write(out)
    return path


LICENSE_PDF = write_pdf(os.path.join(WORK, "business-license.pdf"))
PRODUCT_PNG = write_png(os.path.join(WORK, "product.png"))


# ---- browser helpers ----

def browser():
    opts = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--ignore-certificate-errors", "--window-size=1280,900",
              "--disable-dev-shm-usage", "--lang=zh-CN"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    binary = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
    if os.path.exists(binary):
        opts.binary_location = binary
    return webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=opts)


d = browser()
wait = WebDriverWait(d, STEP_TIMEOUT)


def step(text):
    print(f"[{time.time() - started:5.1f}s] {text}", flush=True)


def css(selector, root=None):
    """The first visible element matching selector (waits for it)."""
    if root is None:
        return wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, selector)))
    return wait.until(lambda _: next((e for e in root.find_elements(By.CSS_SELECTOR, selector) if e.is_displayed()), None))


def tid(name, root=None):
    return css(f'[data-testid="{name}"]', root)


def card(testid, attr, value):
    """A list card whose data-attribute equals value (waits for it)."""
    return css(f'[data-testid="{testid}"][data-{attr}="{value}"]')


def current_view():
    return d.find_element(By.CSS_SELECTOR, "main .view")


def rerendered(action):
    """Run action, then wait until the page has been rendered again (the old view is gone)."""
    old = current_view()
    action()
    wait.until(EC.staleness_of(old))
    return css("main .view")


def go(hash_):
    """Navigate within the app (the hash router renders the page again, even for the same hash)."""
    old = d.find_elements(By.CSS_SELECTOR, "main .view")
    if not old:
        d.get(f"{BASE}/{hash_}")
        return css("main .view")
    d.execute_script("if (location.hash === arguments[0]) window.dispatchEvent(new HashChangeEvent('hashchange'));"
                     " else location.hash = arguments[0];", hash_)
    wait.until(EC.staleness_of(old[0]))
    return css("main .view")


def field(form, name):
    return form.find_element(By.CSS_SELECTOR, f'[name="{name}"]')


def fill(form, values):
    for name, value in values.items():
        el = field(form, name)
        if el.tag_name == "select":
            Select(el).select_by_value(value)
        elif el.get_attribute("type") == "checkbox":
            if bool(value) != el.is_selected():
                el.click()
        else:
            el.clear()
            el.send_keys(value)


def submit(form):
    form.find_element(By.CSS_SELECTOR, 'button[type="submit"]').click()


def submit_and_rerender(form):
    return rerendered(lambda: submit(form))


def open_disclosure(testid, root):
    det = css(f'details[data-testid="{testid}"]', root)
    if not det.get_attribute("open"):
        det.find_element(By.TAG_NAME, "summary").click()
    return det


def expect_text(selector, text, root=None):
    wait.until(lambda _: text in (root or d).find_element(By.CSS_SELECTOR, selector).text)


def screenshot(name):
    """Full-page PNG (capped in height) into SHOTS."""
    path = os.path.join(SHOTS, name)
    metrics = d.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    width = d.execute_script("return document.documentElement.clientWidth")
    height = min(int(size["height"]), 2600)
    shot = d.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
    with open(path, "wb") as f:
        f.write(base64.b64decode(shot["data"]))
    screenshots.append(path)
    step(f"screenshot {path}")


def sign_in(user, password):
    view = go("#/login")
    form = css("#login-form", view)
    fill(form, {"username": user})
    pw = field(form, "password")
    pw.clear()
    pw.send_keys(password)
    old = current_view()
    pw.send_keys(Keys.ENTER)  # keyboard submission
    wait.until(EC.staleness_of(old))
    wait.until(lambda _: user in d.find_element(By.CSS_SELECTOR, '[data-testid="nav-user"]').text
               or d.find_elements(By.CSS_SELECTOR, '[data-testid="nav-portal"]'))
    step(f"signed in as {user}")


def api(method, path, token=None, body=None):
    """A call to the server beside the browser (another user acting while the browser watches)."""
    request = urllib.request.Request(BASE + path, method=method, data=None if body is None else json.dumps(body).encode())
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with urllib.request.urlopen(request, context=context, timeout=10) as response:
        return json.loads(response.read() or b"null")


def bell_count():
    """The unread count the nav's bell shows now (0 without a badge)."""
    # The bell re-renders as notifications arrive: a badge found a moment ago may be gone.
    for _ in range(10):
        try:
            badges = d.find_elements(By.CSS_SELECTOR, '[data-testid="nav-inbox"] [data-testid="inbox-count"]')
            return int(badges[0].text) if badges else 0
        except StaleElementReferenceException:
            continue
    return -1


def sign_out():
    rerendered(lambda: tid("nav-logout").click())
    css("#login-form")


def register(role, user, password, display):
    view = go("#/register")
    form = css("#register-form", view)
    fill(form, {"role": role, "username": user, "displayName": display, "password": password})
    submit_and_rerender(form)
    tid("nav-logout")
    step(f"registered {role} {user}")


def check_console():
    bad = [e for e in d.get_log("browser") if e["level"] == "SEVERE" and "favicon" not in e["message"]
           and "status of 4" not in e["message"]]
    for e in bad:
        print("  browser console:", e["message"][:300])
    assert not bad, "errors in the browser console"


# ---- the story ----

def story():
    # 1. A merchant registers and applies, with a business licence uploaded.
    register("merchant", *MERCHANT, COMPANY)
    view = go("#/merchant")
    form = css("#application-form", view)
    good_code = credit_code("93", COUNTY_CODE)
    values = {
        "companyName": COMPANY, "creditCode": good_code[:17] + ("0" if good_code[17] != "0" else "1"),
        "legalRepresentative": "王福安", "contactName": "李春梅", "contactPhone": "13945012345",
        "countyCode": COUNTY_CODE, "address": "黑龙江省哈尔滨市延寿县延寿镇福安村", "bankName": "黑龙江延寿农村商业银行",
        "bankAccount": "6228480012345678", "householdsDriven": "36",
    }
    fill(form, values)
    submit(form)
    # The server's 422 names creditCode: the message appears beside that input.
    err = css('[data-testid="field-error"][data-field="creditCode"]', form)
    assert field(form, "creditCode").get_attribute("aria-invalid") == "true"
    step(f"wrong check character refused beside the field: {err.text}")
    fill(form, {"creditCode": good_code})
    view = submit_and_rerender(form)
    expect_text('[data-testid="application-status"]', "已提交")
    doc_form = css("#document-form", view)
    Select(field(doc_form, "kind")).select_by_value("business_license")
    field(doc_form, "file").send_keys(LICENSE_PDF)
    view = submit_and_rerender(doc_form)
    expect_text('[data-testid="documents"]', "营业执照")
    expect_text('[data-testid="documents"]', "application/pdf")
    step("merchant applied and uploaded the business licence (PDF)")
    sign_out()

    # 2. The county officer recommends it.
    sign_in(*COUNTY)
    go("#/county/applications")
    app_card = card("application-card", "company", COMPANY)
    open_disclosure("application-detail", app_card)
    expect_text('[data-testid="documents"]', "营业执照", app_card)
    # The officer downloads the licence (fetched with the Bearer token): the same bytes come back.
    downloads = os.path.join(WORK, "downloads")
    os.makedirs(downloads, exist_ok=True)
    d.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
    app_card.find_element(By.CSS_SELECTOR, '[data-testid="documents"] a.download').click()
    got = wait.until(lambda _: next((os.path.join(downloads, f) for f in os.listdir(downloads)
                                     if f.startswith("business_license-") and f.endswith(".pdf")), None))
    wait.until(lambda _: open(got, "rb").read() == open(LICENSE_PDF, "rb").read())
    step("county officer downloaded the licence: identical bytes")
    screenshot("county-queue.png")
    fill(css('[data-testid="recommend-form"]', app_card), {"note": "经核实，合作社带动脱贫户 36 户，情况属实。"})
    submit_and_rerender(css('[data-testid="recommend-form"]', app_card))
    step("county recommended the application")
    sign_out()

    # 3. The admin approves it.
    sign_in(*ADMIN)
    go("#/admin/applications")
    app_card = card("application-card", "company", COMPANY)
    submit_and_rerender(css('[data-testid="approve-form"]', app_card))
    step("admin approved the merchant")
    sign_out()

    # 4. The merchant creates a product (a price with three decimals is refused first),
    #    adds an image and applies for certification.
    sign_in(*MERCHANT)
    view = go("#/merchant/products")
    det = open_disclosure("new-product", view)
    form = css("#product-create", det)
    fill(form, {
        "title": PRODUCT, "categoryId": "black-fungus", "specification": "500g/袋", "unit": "袋",
        "priceFen": "45.805", "stock": "200", "originCountyCode": COUNTY_CODE, "netContentGrams": "500",
        "description": "延寿县椴木栽培黑木耳，合作社统一收购脱贫户鲜耳，晾晒分拣，检测合格。",
    })
    form.find_element(By.CSS_SELECTOR, 'input[name="labels"][value="geo_indication"]').click()
    submit(form)
    css('[data-testid="field-error"][data-field="priceFen"]', form)
    step("price with three decimals refused beside the field")
    fill(form, {"priceFen": PRICE_YUAN})
    submit_and_rerender(form)
    product = card("my-product", "title", PRODUCT)
    expect_text('[data-testid="product-status"]', "草稿", product)
    open_disclosure("image-upload", product)
    img_form = css('[data-testid="image-form"]', product)
    field(img_form, "file").send_keys(PRODUCT_PNG)
    submit(img_form)
    tid("form-ok", img_form)
    det = open_disclosure("apply-certification", product)
    cert_form = css('[data-testid="certification-form"]', det)
    fill(cert_form, {"householdsDriven": "36", "description": "收购本县 36 户脱贫户种植的黑木耳，户均增收 4200 元。"})
    submit_and_rerender(cert_form)
    mine = card("my-certification", "title", PRODUCT)
    expect_text('[data-testid="certification-status"]', "已提交", mine)
    step("product created with an image; certification applied for")
    sign_out()

    # 5. The county approves the certification.
    sign_in(*COUNTY)
    go("#/county/certifications")
    c = card("certification-card", "title", PRODUCT)
    submit_and_rerender(css('[data-testid="county-approve-form"]', c))
    step("county approved the certification")
    sign_out()

    # 6. The admin certifies it: a certificate is issued.
    sign_in(*ADMIN)
    go("#/admin/certifications")
    c = card("certification-card", "title", PRODUCT)
    submit_and_rerender(css('[data-testid="cert-approve-form"]', c))
    flash = tid("flash").text
    number = flash[flash.index("BF-"):].rstrip("。")
    step(f"admin certified the product: certificate {number}")
    sign_out()

    # 7. The merchant lists it.
    sign_in(*MERCHANT)
    go("#/merchant/products")
    product = card("my-product", "title", PRODUCT)
    assert number in product.text
    rerendered(lambda: css('[data-testid="list-product"] button, button[data-testid="list-product"]', product).click())
    product = card("my-product", "title", PRODUCT)
    expect_text('[data-testid="product-status"]', "已上架", product)
    screenshot("merchant.png")
    step("merchant listed the product")
    sign_out()

    # 8. A buyer registers and registers the organization.
    register("buyer", *BUYER, ORG)
    view = go("#/buyer/organization")
    form = css("#organization-form", view)
    fill(form, {
        "name": ORG, "creditCode": credit_code("11", "230100"), "department": "哈尔滨市机关事务管理局",
        "canteenAddress": "哈尔滨市南岗区中山路 1 号机关食堂", "contactName": "张立新", "contactPhone": "0451-82345678",
        "regionCode": "230103",
    })
    submit_and_rerender(form)
    expect_text('[data-testid="org-status"]', "待审核")
    step("buyer registered the organization (pending)")
    sign_out()

    # 9. The admin verifies it.
    sign_in(*ADMIN)
    go("#/admin/organizations")
    org = card("organization-card", "name", ORG)
    rerendered(lambda: css('button[data-testid="verify-organization"]', org).click())
    step("admin verified the organization")
    sign_out()

    # 10. The buyer declares the yearly quota plan: ¥500,000.00 budget, 10 % reserved.
    sign_in(*BUYER)
    view = go("#/buyer/quota")
    expect_text('[data-testid="org-status"]', "正常")
    form = css("#quota-form", view)
    fill(form, {"canteenMode": "own", "canteenBudgetFen": "500000", "reservedRatioBp": "10"})
    submit_and_rerender(form)
    expect_text('[data-testid="quota-reserved"]', "¥50,000.00")
    step("quota plan declared: reserved ¥50,000.00")
    # The unit's manager creates a purchaser account (账号管理).
    view = go("#/buyer/members")
    form = css("#member-form", view)
    fill(form, {"username": "story-purchaser", "password": "correct horse 9", "displayName": "王采购", "memberRole": "purchaser"})
    submit_and_rerender(form)
    expect_text('[data-testid="member-list"]', "story-purchaser")
    screenshot("buyer-members.png")
    step("the unit's manager created a purchaser account")

    # 11. Catalog search with a two-character Chinese query, the product page, the certificate.
    view = go("#/catalog")
    form = css("#search-form", view)
    fill(form, {"q": "木耳"})
    submit_and_rerender(form)
    product_id = product_id_from_catalog()
    result = card("product-card", "product-id", product_id)
    screenshot("catalog.png")
    rerendered(lambda: result.find_element(By.CSS_SELECTOR, '[data-testid="product-link"]').click())
    badge = tid("cert-badge")
    assert number in badge.text and "有效" in badge.text, badge.text
    css("img.product-image")
    screenshot("product.png")
    step("found the product by searching 木耳; its page shows the certificate badge")
    rerendered(badge.click)
    wait.until(lambda _: tid("cert-signature").get_attribute("data-state") in ("ok", "bad", "nokey", "unsupported"))
    sig = tid("cert-signature")
    assert tid("cert-status").get_attribute("data-status") == "valid"
    assert sig.get_attribute("data-state") == "ok", sig.text
    screenshot("certificate.png")
    step("certificate valid; Ed25519 signature verified in the browser")
    d.back()
    form = css("#add-to-cart")
    fill(form, {"quantity": str(QUANTITY)})
    submit(form)
    tid("form-ok", form)
    rerendered(lambda: tid("nav-cart").click())
    total = tid("cart-total")
    assert total.get_attribute("data-fen") == str(TOTAL_FEN), total.text
    checkout = css("#checkout-form")
    Select(field(checkout, "shipWithinDays")).select_by_value("15")
    submit_and_rerender(checkout)
    order = css('[data-testid="order"]')
    assert order.get_attribute("data-status") == "placed"
    assert tid("order-total", order).get_attribute("data-fen") == str(TOTAL_FEN)
    step(f"checkout placed one order of ¥{TOTAL_FEN // 100}.{TOTAL_FEN % 100:02d}")
    sign_out()

    # 12. The merchant's bell counts the new order; the inbox shows it; then it confirms and ships.
    sign_in(*MERCHANT)
    wait.until(lambda _: bell_count() >= 1)
    go("#/inbox")
    expect_text('[data-testid="notification"]', "新订单")
    screenshot("inbox.png")
    tid("inbox-read-all").click()
    wait.until(lambda _: bell_count() == 0)
    step("merchant's bell counted the new order; the inbox showed it; all marked read")
    go("#/merchant/orders")
    order = css('[data-testid="order"][data-status="placed"]')
    rerendered(lambda: css('button[data-testid="confirm-order"]', order).click())
    order = css('[data-testid="order"][data-status="confirmed"]')
    ship = css('[data-testid="ship-form"]', order)
    fill(ship, {"carrier": "中国邮政", "trackingNumber": "9811234567890"})
    submit_and_rerender(ship)
    order = css('[data-testid="order"][data-status="shipped"]')
    step("merchant confirmed and shipped")
    # The merchant records the invoice (发票) of what is owed, with its PDF; a bad number is named.
    invoice = css('[data-testid="invoice-form"]', order)
    assert field(invoice, "amountFen").get_attribute("value") == PRICE_YUAN_TOTAL(), field(invoice, "amountFen").get_attribute("value")
    fill(invoice, {"number": "12"})
    submit(invoice)
    err = css('[data-testid="field-error"][data-field="number"]', invoice)
    step(f"an invoice number that is not one refused beside the field: {err.text}")
    fill(invoice, {"number": "24232000000012345678"})
    field(invoice, "file").send_keys(LICENSE_PDF)
    submit_and_rerender(invoice)
    expect_text('[data-testid="order-invoice"]', "24232000000012345678")
    css('[data-testid="invoice-file"]')
    screenshot("merchant-invoice.png")
    step("merchant recorded the electronic invoice with its PDF")
    sign_out()

    # 13. The buyer accepts (验收) and pays what is owed; the quota chart shows the progress.
    sign_in(*BUYER)
    go("#/buyer/orders")
    order = css('[data-testid="order"][data-status="shipped"]')
    rerendered(lambda: css('button[data-testid="accept-order"]', order).click())
    order = css('[data-testid="order"][data-status="accepted"]')
    expect_text('[data-testid="order-invoice"]', "24232000000012345678", order)
    pay = css('[data-testid="pay-form"]', order)
    assert field(pay, "amountFen").get_attribute("value") == PRICE_YUAN_TOTAL(), field(pay, "amountFen").get_attribute("value")
    fill(pay, {"reference": "GK2026-0001"})
    submit_and_rerender(pay)
    order = css('[data-testid="order"][data-status="settled"]')
    # The buyer rates the order (评价); the product page shows the merchant's stars.
    rate = css('[data-testid="rating-form"]', order)
    fill(rate, {"quality": "5", "delivery": "4", "service": "4", "comment": "木耳肉厚，送货及时"})
    submit_and_rerender(rate)
    expect_text('[data-testid="order-rating"]', "木耳肉厚")
    go(f"#/product/{product_id}")
    expect_text('[data-testid="merchant-rating"]', "1 条评价")
    assert "★★★★★" in tid("merchant-rating").text, tid("merchant-rating").text
    # 价格监测: 500 g at 45.80 yuan is 91.60 yuan a kilogram.
    expect_text('[data-testid="unit-price"]', "¥91.60/kg")
    # The supplier's profile shows the same stars and every rating.
    tid("supplier-link").click()
    expect_text('[data-testid="supplier"] [data-testid="merchant-rating"]', "1 条评价")
    expect_text('[data-testid="rating-comment"]', "木耳肉厚")
    step("the supplier's profile shows its stars and the rating's comment")
    go(f"#/product/{product_id}")
    expect_text('[data-testid="merchant-rating"]', "1 条评价")
    screenshot("product-rating.png")
    step(f"buyer rated the order; the product page shows {tid('merchant-rating').text}")
    go("#/buyer/quota")
    css('[data-testid="quota-chart"]')
    completed = tid("quota-completed")
    assert completed.get_attribute("data-fen") == str(TOTAL_FEN), completed.get_attribute("data-fen")
    assert completed.text == "¥" + PRICE_YUAN_TOTAL(), completed.text
    screenshot("buyer-quota.png")
    step(f"accepted and paid; the quota chart shows completed {completed.text}")
    d.set_window_size(390, 844)
    go("#/catalog?q=%E6%9C%A8%E8%80%B3")
    css('[data-testid="product-card"]')
    screenshot("catalog-phone.png")
    d.set_window_size(1280, 900)
    sign_out()

    # 14. The county officer sees the county's sales.
    sign_in(*COUNTY)
    go("#/county/reports")
    assert tid("sales-total").get_attribute("data-fen") == str(TOTAL_FEN)
    css('[data-testid="sales-chart"]')
    screenshot("county.png")
    step("county sales report shows the settled order")
    sign_out()

    # 15. The admin's report chart, and the audit chain verifies.
    sign_in(*ADMIN)
    go("#/admin/reports")
    assert tid("sales-total").get_attribute("data-fen") == str(TOTAL_FEN)
    css('[data-testid="sales-chart"] rect.bar')
    css('[data-testid="quota-chart"] rect.bar')
    screenshot("admin-report.png")
    go("#/admin/audit")
    assert tid("audit-verification").get_attribute("data-ok") == "true"
    step("admin report chart drawn; audit chain verifies")
    sign_out()

    # 16. A refund: too much is refused beside the amount; ¥10.00 is approved by the merchant and
    #     leaves the completed figure.
    sign_in(*BUYER)
    go("#/buyer/orders")
    order = css('[data-testid="order"][data-status="settled"]')
    det = open_disclosure("refund", order)
    form = css('[data-testid="refund-form"]', det)
    fill(form, {"amountFen": "200.00", "reason": "部分木耳受潮"})
    submit(form)
    err = css('[data-testid="field-error"][data-field="amountFen"]', form)
    step(f"refund above the order total refused beside the amount: {err.text}")
    fill(form, {"amountFen": "10.00"})
    submit_and_rerender(form)
    sign_out()
    sign_in(*MERCHANT)
    go("#/merchant/refunds")
    refund = css('[data-testid="refund"]')
    assert "¥10.00" in refund.text and "待处理" in refund.text, refund.text
    submit_and_rerender(css('[data-testid="refund-decision"]', refund))
    # Decided refunds leave the queue of pending ones; the approved list shows it.
    go("#/merchant/refunds?status=approved")
    expect_text('[data-testid="refund"]', "已通过")
    step("merchant approved the refund")
    sign_out()
    sign_in(*BUYER)
    go("#/buyer/quota")
    completed = tid("quota-completed")
    assert completed.get_attribute("data-fen") == str(TOTAL_FEN - 1000), completed.get_attribute("data-fen")
    step(f"after the refund the quota chart shows completed {completed.text}")
    check_console()

    # 17. A second, small order, paid by the admin in the 订单 tab: an amount that is not what is
    #     owed is refused beside the amount first.
    go(f"#/product/{product_id}")
    form = css("#add-to-cart")
    fill(form, {"quantity": "1"})
    submit(form)
    tid("form-ok", form)
    go("#/buyer/cart")
    submit_and_rerender(css("#checkout-form"))
    second = css('[data-testid="order"][data-status="placed"]').get_attribute("data-order-id")
    order_css = f'[data-testid="order"][data-order-id="{second}"]'
    # The merchant confirms from its own system while the buyer watches: the bell counts it live.
    before = bell_count()
    merchant_token = api("POST", "/api/v1/sessions", body={"username": MERCHANT[0], "password": MERCHANT[1]})["token"]
    api("POST", f"/api/v1/orders/{second}/confirm", merchant_token)
    wait.until(lambda _: bell_count() == before + 1)
    screenshot("bell.png")
    step(f"buyer's bell went from {before} to {before + 1} without a reload")
    sign_out()
    sign_in(*MERCHANT)
    go("#/merchant/orders")
    ship = css('[data-testid="ship-form"]', css(order_css + '[data-status="confirmed"]'))
    fill(ship, {"carrier": "顺丰速运", "trackingNumber": "SF1234567890"})
    submit_and_rerender(ship)
    sign_out()
    # Its invoice through the API (the first order's went through the form).
    owed = api("GET", f"/api/v1/orders/{second}", merchant_token)["owedFen"]
    today = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 8 * 3600))
    api("PUT", f"/api/v1/orders/{second}/invoice", merchant_token,
        {"number": "24232000000012345679", "kind": "vat_normal", "issuedOn": today, "amountFen": owed})
    sign_in(*BUYER)
    go("#/buyer/orders")
    rerendered(lambda: css('button[data-testid="accept-order"]', css(order_css + '[data-status="shipped"]')).click())
    css(order_css + '[data-status="accepted"]')
    sign_out()
    sign_in(*ADMIN)
    go("#/admin/orders?status=accepted")
    pay = css('[data-testid="pay-form"]', css(order_css))
    assert field(pay, "amountFen").get_attribute("value") == PRICE_YUAN, field(pay, "amountFen").get_attribute("value")
    fill(pay, {"amountFen": "45.79", "reference": "GK2026-0002"})
    submit(pay)
    err = css('[data-testid="field-error"][data-field="amountFen"]', pay)
    step(f"admin: a payment that is not what is owed refused beside the amount: {err.text}")
    fill(pay, {"amountFen": PRICE_YUAN})
    submit_and_rerender(pay)
    go("#/admin/orders?status=settled")
    assert "GK2026-0002" in css(order_css + '[data-status="settled"]').text
    screenshot("admin-orders.png")
    step("admin recorded the payment of the second order: settled")
    check_console()
    sign_out()
    budget_units()


def budget_units():
    """A department supervises a school; the school files below the province's minimum with a
    waiver reason; the provincial finance officer approves the waiver in the finance portal, the
    department's manager confirms the filing in its supervisor view, the bulletin ranks the region."""
    admin = api("POST", "/api/v1/sessions", body={"username": ADMIN[0], "password": ADMIN[1]})["token"]
    finance = ("finance" + RUN, "finance-story-2026")
    api("POST", "/api/v1/users", admin, {"username": finance[0], "password": finance[1], "role": "finance",
                                          "displayName": "黑龙江省财政厅", "regionCode": "230000"})
    api("PUT", "/api/v1/policy/minimum-ratios/230000", admin, {"minimumBp": 1500})
    units = {}
    for name, region, parent in [("edu" + RUN, "230000", None), ("school" + RUN, "230103", "edu" + RUN)]:
        api("POST", "/api/v1/users", body={"username": name, "password": "unit-story-2026", "role": "buyer", "displayName": name})
        token = api("POST", "/api/v1/sessions", body={"username": name, "password": "unit-story-2026"})["token"]
        org = api("POST", "/api/v1/buyer-organizations", token, {
            "name": ("黑龙江省教育厅" if parent is None else "哈尔滨市第十中学") + RUN, "creditCode": credit_code("11", "230100"),
            "department": "黑龙江省教育厅", "canteenAddress": "哈尔滨市南岗区", "contactName": "李华", "contactPhone": "13912345678",
            "regionCode": region, "parentId": units[parent]["id"] if parent else None})
        api("POST", f"/api/v1/buyer-organizations/{org['id']}/verification", admin, {})
        units[name] = {"id": org["id"], "token": token, "name": org["name"]}
    school = units["school" + RUN]
    year = time.gmtime(time.time() + 8 * 3600).tm_year
    filed = api("PUT", f"/api/v1/buyer-organizations/{school['id']}/quota-plans/{year}", school["token"], {
        "canteenMode": "own", "canteenBudgetFen": 80_000_000, "reservedRatioBp": 1000, "waiverReason": "学校食堂规模小，本地供应为主"})
    assert filed["waiverStatus"] == "requested" and filed["minimumBp"] == 1500, filed
    step("a school below the province's 15 % minimum filed with a waiver reason")

    sign_in(*finance)
    go("#/finance/filings?waiver=requested")
    card = wait.until(lambda _: next((c for c in d.find_elements(By.CSS_SELECTOR, '[data-testid="filing-card"]')
                                      if c.get_attribute("data-organization") == school["id"]), None))
    screenshot("finance-filings.png")
    rerendered(lambda: css('button[data-testid="approve-waiver"]', card).click())
    step("the finance officer approved the waiver in the finance portal")
    go("#/finance/bulletin")
    tid("bulletin-chart")
    assert "哈尔滨市" in tid("bulletin-table").text, tid("bulletin-table").text
    screenshot("finance-bulletin.png")
    step("the bulletin ranks the province's prefectures")
    sign_out()

    sign_in("edu" + RUN, "unit-story-2026")
    go("#/buyer/subtree?status=submitted")
    card = wait.until(lambda _: next((c for c in d.find_elements(By.CSS_SELECTOR, '[data-testid="filing-card"]')
                                      if c.get_attribute("data-organization") == school["id"]), None))
    assert "已同意" in card.text, card.text
    rerendered(lambda: css('button[data-testid="confirm-filing"]', card).click())
    go("#/buyer/subtree")
    card = wait.until(lambda _: next((c for c in d.find_elements(By.CSS_SELECTOR, '[data-testid="filing-card"]')
                                      if c.get_attribute("data-organization") == school["id"]), None))
    assert card.get_attribute("data-status") == "confirmed", card.get_attribute("data-status")
    screenshot("buyer-subtree.png")
    step("the department's manager confirmed the school's filing in its supervisor view")
    check_console()
    sign_out()


def PRICE_YUAN_TOTAL():
    return f"{TOTAL_FEN // 100}.{TOTAL_FEN % 100:02d}"


def product_id_from_catalog():
    """The id of our product among the search results (found by its title)."""
    link = wait.until(lambda _: next((a for a in d.find_elements(By.CSS_SELECTOR, '[data-testid="product-link"]')
                                      if a.text == PRODUCT), None))
    return link.find_element(By.XPATH, "./ancestor::article").get_attribute("data-product-id")


try:
    story()
    print(f"browser story: ok in {time.time() - started:.0f}s")
    print("screenshots:")
    for p in screenshots:
        print("  " + p)
except (TimeoutException, AssertionError, Exception):
    fail = os.path.join(SHOTS, "failure.png")
    try:
        d.save_screenshot(fail)
        print("failure screenshot:", fail, "at", d.current_url)
        print(d.find_element(By.TAG_NAME, "main").text[:2000])
        for e in d.get_log("browser"):
            print("  browser console:", e["level"], e["message"][:300])
    except Exception:
        pass
    raise
finally:
    d.quit()
