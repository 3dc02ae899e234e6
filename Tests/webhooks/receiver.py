#!/usr/bin/env python3
"""A webhook receiver for Tests/webhooks/kill-retry.sh: HTTPS on 127.0.0.1, it appends every
delivery (its headers and body) to a JSON-lines file and answers 500 to the first FAILURES
requests, 200 after.
    usage: receiver.py PORT CERT KEY LOG FAILURES"""
import http.server
import json
import ssl
import sys
import threading

port, cert, key, log, failures = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
lock = threading.Lock()
seen = 0


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global seen
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with lock:
            seen += 1
            status = 500 if seen <= failures else 200
            with open(log, "a") as out:
                out.write(json.dumps({"headers": dict(self.headers), "body": body.decode(), "status": status}) + "\n")
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
