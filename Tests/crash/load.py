"""Order load for the crash test: threads post one-line checkouts with unique Idempotency-Keys and
append every acknowledged (201) order id to a file at once, so the file lists exactly what the
server promised. Connection errors (the server being killed) are counted and retried."""
import http.client, json, random, ssl, sys, threading, time, uuid

port, tokens_path, products_path, out_path, seconds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
tokens = [t.strip() for t in open(tokens_path) if t.strip()]
products = [p.strip() for p in open(products_path) if p.strip()]
context = ssl._create_unverified_context()
lock = threading.Lock()
out = open(out_path, "a", buffering=1)
deadline = time.time() + seconds

def worker():
    conn = None
    while time.time() < deadline:
        try:
            if conn is None:
                conn = http.client.HTTPSConnection("127.0.0.1", int(port), context=context, timeout=5)
            body = json.dumps({"items": [{"productId": random.choice(products), "quantity": 1}]})
            conn.request("POST", "/api/v1/orders", body=body, headers={
                "Authorization": "Bearer " + random.choice(tokens), "Content-Type": "application/json",
                "Idempotency-Key": str(uuid.uuid4())})
            response = conn.getresponse()
            data = response.read()
            if response.status == 201:
                ids = [o["id"] for o in json.loads(data)["orders"]]
                with lock:
                    for i in ids:
                        out.write(i + "\n")
                    out.flush()
        except Exception:
            conn = None
            time.sleep(0.05)

threads = [threading.Thread(target=worker) for _ in range(16)]
for t in threads: t.start()
for t in threads: t.join()
