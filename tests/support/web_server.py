#!/usr/bin/env python3
"""A web server for the smoke checks' tests: serves a directory over HTTP or
HTTPS on one loopback address and port, and adds an X-Served-By header.

  web_server.py [--delay-ms=N] [--keep-alive] BIND PORT DIR NAME [CERT KEY [MAX_TLS [CLIENT_CA]]]

MAX_TLS ("1.2", or "any") caps the TLS version, for the check that refuses
it; CLIENT_CA makes a client certificate from that CA required. --delay-ms
adds that delay before each answer (a slower service, for the comparison's
tests); --keep-alive speaks HTTP/1.1 and keeps connections open (without
it: HTTP/1.0, a connection per request).
"""
import functools
import http.server
import ssl
import sys
import time


class Handler(http.server.SimpleHTTPRequestHandler):
    served_by = "test"
    delay_s = 0.0
    # Headers and body go out in two writes; with Nagle's algorithm on, a
    # kept-alive connection waits for the client's delayed ACK (40 ms).
    disable_nagle_algorithm = True

    def do_GET(self):
        if self.delay_s > 0:
            time.sleep(self.delay_s)
        super().do_GET()

    def end_headers(self):
        self.send_header("X-Served-By", self.served_by)
        super().end_headers()

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))


def main():
    flags = [a for a in sys.argv[1:] if a.startswith("--")]
    sys.argv = [sys.argv[0]] + [a for a in sys.argv[1:] if not a.startswith("--")]
    for flag in flags:
        if flag.startswith("--delay-ms="):
            Handler.delay_s = int(flag.split("=", 1)[1]) / 1000.0
        elif flag == "--keep-alive":
            Handler.protocol_version = "HTTP/1.1"
        else:
            sys.exit("web_server.py: unknown flag " + flag)
    bind, port, directory, name = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    Handler.served_by = name
    server = http.server.ThreadingHTTPServer(
        (bind, port), functools.partial(Handler, directory=directory))
    if len(sys.argv) > 6:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[5], sys.argv[6])
        if len(sys.argv) > 7 and sys.argv[7] == "1.2":
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        if len(sys.argv) > 8:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(sys.argv[8])
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
