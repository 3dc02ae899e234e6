#!/usr/bin/env python3
"""Distinct catalog requests, as buyers make them (issue 18): listings with random category,
county, label, price range and every sort; searches for substrings of the seeded titles (1 to 4
characters); pages 2 to 5 reached through the cursors the server hands out; details of random
products. Writes one request path per line to OUT/{list,search,pages,detail,mix}.paths.
    usage: Benchmarks/distinct.py BASE_URL SQLITE_FILE OUT_DIR [count per kind]"""
import json, random, sqlite3, ssl, sys, urllib.parse, urllib.request

base, database, out = sys.argv[1], sys.argv[2], sys.argv[3]
count = int(sys.argv[4]) if len(sys.argv) > 4 else 5000
rng = random.Random(18)
db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
products = db.execute(
    "SELECT id, title, category_id, top_category_id, origin_county_code, labels, price_fen FROM products").fetchall()
sorts = ["newest", "price_asc", "price_desc", "sales", "rating"]

def listing():
    _, _, leaf, top, county, labels, price = rng.choice(products)
    query = {}
    if rng.random() < 0.6: query["categoryId"] = leaf if rng.random() < 0.5 else top
    if rng.random() < 0.4: query["countyCode"] = county
    if labels and rng.random() < 0.2: query["label"] = rng.choice(labels.split(","))
    if rng.random() < 0.4:
        low = max(0, price - rng.randint(0, price))
        query["minPriceFen"], query["maxPriceFen"] = low, price + rng.randint(0, price)
    query["sort"] = rng.choice(sorts)
    return "/api/v1/products?" + urllib.parse.urlencode(query)

def search():
    title = rng.choice(products)[1]
    length = rng.choice([1, 2, 2, 3, 3, 4])
    start = rng.randint(0, max(0, len(title) - length))
    query = {"q": title[start:start + length]}
    if rng.random() < 0.3: query["sort"] = rng.choice(sorts)
    return "/api/v1/products?" + urllib.parse.urlencode(query)

def detail():
    return "/api/v1/products/" + rng.choice(products)[0]

context = ssl.create_default_context()
context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
def pages(first):
    """Pages 2 to 5 of a listing, through its cursors."""
    found, path = [], first
    for _ in range(4):
        with urllib.request.urlopen(base + path, context=context) as response:
            cursor = json.load(response).get("nextCursor")
        if not cursor: break
        path = first + "&cursor=" + urllib.parse.quote(cursor)
        found.append(path)
    return found

kinds = {"list": [listing() for _ in range(count)], "search": [search() for _ in range(count)],
         "detail": [detail() for _ in range(count)]}
kinds["pages"] = []
while len(kinds["pages"]) < count // 5:
    kinds["pages"] += pages(rng.choice([listing, search])() + "&limit=20")
kinds["mix"] = [rng.choice(kinds[kind]) for kind in rng.choices(["list", "search", "detail", "pages"], [3, 3, 3, 1], k=count)]
for kind, paths in kinds.items():
    with open(f"{out}/{kind}.paths", "w") as f:
        f.write("\n".join(paths) + "\n")
    print(f"{kind}: {len(paths)} requests, {len(set(paths))} distinct", file=sys.stderr)
