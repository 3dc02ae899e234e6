#!/usr/bin/env python3
"""A canteen's first order through a client generated from the served OpenAPI document (issue 22).

usage: story.py BASE_URL   (Tests/client/generated-client.sh generates the `bangfu_client` package
                            with openapi-python-client, installs it and calls this)

Only the generated package's functions and models talk to the server (no raw requests): a new buyer
registers and signs in, searches the demo catalog, registers its organization, which the demo admin
verifies, declares the plan of the current quota year (UTC+8), places an order for one listed
product with an Idempotency-Key (and replays it), and reads the plan back: `committedFen` must be
the order's total. Prints `N passed, M failed`; exits non-zero unless every check passed.
"""
import os
import random
import sys
import traceback
import uuid
from datetime import datetime, timedelta, timezone

from bangfu_client import AuthenticatedClient, Client
from bangfu_client.api.accounts import create_user, get_me, sign_in
from bangfu_client.api.buyers import (
    create_buyer_organization,
    get_quota_plan,
    put_quota_plan,
    verify_buyer_organization,
)
from bangfu_client.api.orders import create_order
from bangfu_client.api.products import list_products
from bangfu_client.models import (
    BuyerOrganization,
    BuyerOrganizationInput,
    BuyerOrganizationStatus,
    CatalogPage,
    Checkout,
    Me,
    OrderInput,
    OrderLineInput,
    OrderStatus,
    Problem,
    QuotaPlan,
    QuotaPlanInput,
    Role,
    Session,
    ShipWithinDays,
    SignInInput,
    User,
    UserInput,
)

BASE = sys.argv[1].rstrip("/")
QUERY = "大米"  # two Chinese characters the demo catalog holds (延寿大米 …)
ADMIN = ("demo-admin", "bangfu-demo-2026")
RUN = "%06d" % random.randrange(1_000_000)
BUYER = ("canteen-" + RUN, "client-story-2026")
QUANTITY = 2

passed = 0
failed = 0


def check(name, condition, detail=""):
    """Counts one check; a failed one is reported with what was seen."""
    global passed, failed
    if condition:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name}: {detail}")
    return condition


def answer(name, response, status, model):
    """Checks a detailed response's status and parsed type; returns the parsed model."""
    parsed = response.parsed
    shown = parsed.detail if isinstance(parsed, Problem) else response.content[:300]
    check(f"{name}: {status}", response.status_code == status, f"answered {response.status_code}: {shown}")
    check(f"{name}: a {model.__name__}", isinstance(parsed, model), f"parsed as {type(parsed).__name__}")
    if response.status_code != status or not isinstance(parsed, model):
        raise StopStory(name)
    return parsed


class StopStory(Exception):
    """A step whose answer the next steps need went wrong."""


# ---- test data ----

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from bangfu_testdata import credit_code  # noqa: E402


def signed_in(username, password):
    """A client holding a fresh session token."""
    session = answer(
        f"sign in as {username}",
        sign_in.sync_detailed(client=anonymous, body=SignInInput(username=username, password=password)),
        201,
        Session,
    )
    check(f"{username}'s session names the user", session.user.username == username, session.user.username)
    return AuthenticatedClient(base_url=BASE, token=session.token, verify_ssl=False, timeout=30)


# ---- the story ----

anonymous = Client(base_url=BASE, verify_ssl=False, timeout=30)


def story():
    # 1. A new canteen buyer registers and signs in.
    user = answer(
        "register a buyer",
        create_user.sync_detailed(
            client=anonymous,
            body=UserInput(username=BUYER[0], password=BUYER[1], role=Role.BUYER, display_name="省直机关第三食堂" + RUN),
        ),
        201,
        User,
    )
    check("the new user is a buyer", user.role == Role.BUYER, user.role)
    buyer = signed_in(*BUYER)
    me = answer("read /me", get_me.sync_detailed(client=buyer), 200, Me)
    check("/me: no organization yet", me.buyer_organization is None and me.merchant is None, me.to_dict())

    # 2. The catalog is searched for 大米; every hit is on sale and contains the query.
    page = answer(
        f"search the catalog for {QUERY}", list_products.sync_detailed(client=anonymous, q=QUERY, limit=50), 200, CatalogPage
    )
    check("the search finds products", len(page.items) > 0, "no items")
    check(
        "every hit contains the query",
        all(QUERY in p.title or QUERY in p.description or QUERY in p.merchant_name for p in page.items),
        [p.title for p in page.items],
    )
    check("every hit is on sale", all(p.on_sale for p in page.items), [p.title for p in page.items if not p.on_sale])
    check("facets count the hits", sum(f.count for f in page.facets.category) == len(page.items) or page.next_cursor, page.facets.to_dict())
    product = next((p for p in page.items if p.stock >= QUANTITY), None)
    if not check("a listed product has stock", product is not None, "none with stock"):
        raise StopStory("no product")

    # 3. The buyer registers its organization (a 事业单位 of Harbin); the demo admin verifies it.
    organization = answer(
        "register the organization",
        create_buyer_organization.sync_detailed(
            client=buyer,
            body=BuyerOrganizationInput(
                name=f"哈尔滨市第三中学食堂{RUN}",
                credit_code=credit_code("12", "230100"),
                department="哈尔滨市教育局",
                canteen_address="哈尔滨市南岗区学府路1号",
                contact_name="张华",
                contact_phone="13912345678",
                region_code="230103",
            ),
        ),
        201,
        BuyerOrganization,
    )
    check("the organization waits for verification", organization.status == BuyerOrganizationStatus.PENDING, organization.status)
    admin = signed_in(*ADMIN)
    verified = answer(
        "the admin verifies the organization",
        verify_buyer_organization.sync_detailed(organization.id, client=admin),
        200,
        BuyerOrganization,
    )
    check("the organization is active", verified.status == BuyerOrganizationStatus.ACTIVE, verified.status)
    check("the verification is dated", verified.verified_at is not None, verified.verified_at)
    me = answer("read /me again", get_me.sync_detailed(client=buyer), 200, Me)
    check(
        "/me: the organization, as a BuyerOrganization",
        isinstance(me.buyer_organization, BuyerOrganization) and me.buyer_organization.id == organization.id,
        me.to_dict(),
    )

    # 4. The plan of the current quota year (UTC+8).
    year = datetime.now(timezone(timedelta(hours=8))).year
    plan = answer(
        f"declare the {year} plan",
        put_quota_plan.sync_detailed(
            organization.id,
            year,
            client=buyer,
            body=QuotaPlanInput(has_canteen=True, canteen_budget_fen=50_000_000, reserved_ratio_bp=3000),
        ),
        201,
        QuotaPlan,
    )
    check("the plan reserves 30 %", plan.reserved_fen == 15_000_000, plan.reserved_fen)
    check("nothing is committed yet", plan.committed_fen == 0, plan.committed_fen)

    # 5. A refusal comes back as a Problem naming the field.
    refused = create_order.sync_detailed(
        client=buyer,
        idempotency_key=str(uuid.uuid4()),
        body=OrderInput(items=[OrderLineInput(product_id=product.id, quantity=0)]),
    )
    check("a zero quantity is a 422", refused.status_code == 422, refused.status_code)
    check(
        "the 422 is a Problem naming items[0].quantity",
        isinstance(refused.parsed, Problem) and [e.field for e in refused.parsed.errors] == ["items[0].quantity"],
        refused.content[:300],
    )

    # 6. The order, with its Idempotency-Key, and a replay of it.
    key = str(uuid.uuid4())
    body = OrderInput(
        items=[OrderLineInput(product_id=product.id, quantity=QUANTITY)],
        ship_within_days=ShipWithinDays.VALUE_15,
        delivery_address="哈尔滨市南岗区学府路1号 食堂后门",
        note="工作日上午送达",
    )
    placed = create_order.sync_detailed(client=buyer, idempotency_key=key, body=body)
    checkout = answer("place the order", placed, 201, Checkout)
    check("one order for one merchant", len(checkout.orders) == 1, len(checkout.orders))
    order = checkout.orders[0]
    check("the order is placed", order.status == OrderStatus.PLACED, order.status)
    check("the order is the product's", [i.product_id for i in order.items] == [product.id], order.to_dict())
    check(
        "the total is price × quantity",
        checkout.total_fen == order.total_fen == product.price_fen * QUANTITY,
        (checkout.total_fen, order.total_fen, product.price_fen),
    )
    check("ship within 15 days", order.ship_within_days == ShipWithinDays.VALUE_15, order.ship_within_days)
    check("a first answer is not a replay", "idempotent-replayed" not in placed.headers, dict(placed.headers))
    replayed = create_order.sync_detailed(client=buyer, idempotency_key=key, body=body)
    again = answer("replay the order with its key", replayed, 201, Checkout)
    check("the replay is the same checkout", again.checkout_id == checkout.checkout_id, again.checkout_id)
    check("the replay says so", replayed.headers.get("idempotent-replayed") == "true", dict(replayed.headers))

    # 7. The plan has committed exactly the order's total (once, despite the replay).
    plan = answer(f"read the {year} plan back", get_quota_plan.sync_detailed(organization.id, year, client=buyer), 200, QuotaPlan)
    check(
        "committedFen is the order total",
        plan.committed_fen == checkout.total_fen,
        f"committed {plan.committed_fen}, total {checkout.total_fen}",
    )
    check(
        "the budget left is the budget less the order",
        plan.remaining_budget_fen == 50_000_000 - checkout.total_fen,
        plan.remaining_budget_fen,
    )


try:
    story()
except StopStory as stop:
    print(f"stopped after: {stop}")
except Exception:
    failed += 1
    traceback.print_exc()
finally:
    anonymous.get_httpx_client().close()

print(f"{passed} passed, {failed} failed")
sys.exit(0 if failed == 0 and passed > 0 else 1)
