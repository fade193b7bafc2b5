"""A tracking server that goes away mid-export, deterministically: an HTTP
proxy on 127.0.0.1:PORT that forwards requests to UPSTREAM (a real MLflow
server) up to the N-th `runs/log-batch`, then drops the connection of the
next log-batch unanswered and exits, as a server stopped mid-export would.
One run is then half-sent: created, its completion tag never written.

    python mlflow_cut.py PORT UPSTREAM N
"""

import sys
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

PORT, UPSTREAM, N = int(sys.argv[1]), sys.argv[2].rstrip("/"), int(sys.argv[3])
served = 0


class Forward(BaseHTTPRequestHandler):
    def forward(self):
        global served
        if self.path.endswith("/runs/log-batch") and served >= N:
            # No answer: the client sees the connection close.
            self.close_connection = True
            self.server.cut = True
            return
        served += self.path.endswith("/runs/log-batch")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        request = urllib.request.Request(UPSTREAM + self.path, data=body, method=self.command)
        if self.headers.get("Content-Type"):
            request.add_header("Content-Type", self.headers["Content-Type"])
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                status, data, kind = answer.status, answer.read(), answer.headers.get("Content-Type")
        except urllib.error.HTTPError as e:
            status, data, kind = e.code, e.read(), e.headers.get("Content-Type")
        self.send_response(status)
        self.send_header("Content-Type", kind or "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = forward

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", PORT), Forward)
server.cut = False
while not server.cut:
    server.handle_request()
print(f"mlflow_cut: forwarded {served} log-batch requests, then dropped the connection", flush=True)
