#!/usr/bin/env python3
"""A web server for the smoke checks' tests: serves a directory over HTTP or
HTTPS on one loopback address and port, and adds an X-Served-By header.

  web_server.py BIND PORT DIR NAME [CERT KEY [MAX_TLS [CLIENT_CA]]]

MAX_TLS ("1.2", or "any") caps the TLS version, for the check that refuses
it; CLIENT_CA makes a client certificate from that CA required.
"""
import functools
import http.server
import ssl
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    served_by = "test"

    def end_headers(self):
        self.send_header("X-Served-By", self.served_by)
        super().end_headers()

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))


def main():
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
