"""A real HTTP server on 127.0.0.1 that answers OSRM's /table/v1/driving like OSRM does.

Durations are 2 s and distances 20 m per 0.001 degree of Manhattan distance between the
coordinates asked for (so the test knows every cell); `null_pairs` answer null, as OSRM does
for points it cannot snap to a road; `code` other than "Ok" answers an OSRM error.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class FakeOsrm:
    url: str = ""
    requests: list[str] = field(default_factory=list)
    null_pairs: set[tuple[tuple[float, float], tuple[float, float]]] = field(default_factory=set)
    code: str = "Ok"


def cell(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    """(duration s, distance m) between two (lng, lat) points."""
    steps = (abs(a[0] - b[0]) + abs(a[1] - b[1])) / 0.001
    return round(2.0 * steps, 1), round(20.0 * steps, 1)


@contextmanager
def fake_osrm() -> Iterator[FakeOsrm]:
    state = FakeOsrm()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            url = urlsplit(self.path)  # not urlparse: it cuts the path at ";"
            prefix = "/table/v1/driving/"
            if not url.path.startswith(prefix):
                self.send_error(404)
                return
            coords = [
                (float(x), float(y))
                for x, y in (p.split(",") for p in unquote(url.path[len(prefix) :]).split(";"))
            ]
            query = parse_qs(url.query)
            sources = [int(i) for i in query["sources"][0].split(";")]
            targets = [int(i) for i in query["destinations"][0].split(";")]
            if state.code != "Ok":
                body = {"code": state.code, "message": "refused by the test"}
            else:
                durations, distances = [], []
                for s in sources:
                    row_d, row_m = [], []
                    for t in targets:
                        a, b = coords[s], coords[t]
                        missing = (a, b) in state.null_pairs
                        seconds, metres = cell(a, b)
                        row_d.append(None if missing else seconds)
                        row_m.append(None if missing else metres)
                    durations.append(row_d)
                    distances.append(row_m)
                body = {"code": "Ok", "durations": durations, "distances": distances}
            payload = json.dumps(body).encode()
            self.send_response(200 if state.code == "Ok" else 400)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:  # quiet test output
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
