#!/usr/bin/python3
"""A small key server for the fetch tests: serves a directory on 127.0.0.1 (ephemeral port).

Usage: key_server.py ROOT LOG [CERT KEY]
With CERT and KEY (PEM), serves https. Prints the port on the first line of stdout, then serves until killed.

Files are served with an ETag (SHA-256 of the content) and a Last-Modified (mtime); conditional
requests (If-None-Match, If-Modified-Since) get 304. Every request is appended to LOG as
"<path> <status> <if-none-match or -> <user-agent> <header names, comma-separated>\n".

A file X may have a sidecar X.mode whose first line changes how X is served:
  status NNN      answer with that status and a short body
  truncate        announce Content-Length larger than the body, send half, close
  chunked         chunked transfer encoding, no Content-Length
  endless         chunked, never ends (64 KiB chunks)
  hang            accept, read the request, never answer
  redirect URL    302 to URL
  slow            send one byte per second
"""

import email.utils
import hashlib
import os
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

ROOT = os.path.realpath(sys.argv[1])
LOG = sys.argv[2]
LOG_LOCK = threading.Lock()


CURRENT = threading.local()


def log_request(path, status, inm):
    headers = CURRENT.headers
    agent = (headers.get("User-Agent") or "-").replace(" ", "_")
    names = ",".join(sorted(headers.keys())) or "-"
    with LOG_LOCK:
        with open(LOG, "a") as f:
            f.write("%s %d %s %s %s\n" % (path, status, inm or "-", agent, names))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def send_simple(self, status, body=b""):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        CURRENT.headers = self.headers
        rel = self.path.split("?", 1)[0].lstrip("/")
        full = os.path.realpath(os.path.join(ROOT, rel))
        inm = self.headers.get("If-None-Match")
        if not full.startswith(ROOT + os.sep) or not os.path.isfile(full):
            log_request(rel, 404, inm)
            self.send_simple(404, b"not found\n")
            return
        mode = ""
        if os.path.isfile(full + ".mode"):
            with open(full + ".mode") as f:
                mode = f.readline().strip()
        with open(full, "rb") as f:
            body = f.read()
        etag = '"%s"' % hashlib.sha256(body).hexdigest()[:32]
        mtime = os.path.getmtime(full)
        last_modified = email.utils.formatdate(mtime, usegmt=True)

        if mode.startswith("status "):
            status = int(mode.split()[1])
            log_request(rel, status, inm)
            self.send_simple(status, b"error\n")
            return
        if mode == "hang":
            log_request(rel, 0, inm)
            time.sleep(3600)
            return
        if mode.startswith("redirect "):
            log_request(rel, 302, inm)
            self.send_response(302)
            self.send_header("Location", mode.split(" ", 1)[1])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return

        ims = self.headers.get("If-Modified-Since")
        not_modified = False
        if inm is not None:
            not_modified = inm == etag
        elif ims is not None:
            try:
                not_modified = int(mtime) <= email.utils.parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError):
                not_modified = False
        if not_modified:
            log_request(rel, 304, inm)
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return

        log_request(rel, 200, inm)
        self.send_response(200)
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", last_modified)
        self.send_header("Content-Type", "application/zip")
        if mode == "truncate":
            self.send_header("Content-Length", str(len(body) + 1000))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if mode in ("chunked", "endless"):
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"\0" * 65536
            while True:
                piece = chunk if mode == "endless" else body
                self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
                if mode != "endless":
                    break
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "slow":
            for i in range(len(body)):
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
                time.sleep(1)
            return
        self.wfile.write(body)


class Server(socketserver.ThreadingMixIn, HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):  # clients abort on purpose (caps, timeouts)
        pass


def main():
    server = Server(("127.0.0.1", 0), Handler)
    if len(sys.argv) > 4:
        import ssl

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[3], sys.argv[4])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    sys.stdout.write("%d\n" % server.server_address[1])
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
