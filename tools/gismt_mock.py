#!/usr/bin/env python3
"""A mock ГИС МТ (permissive mode) written from ЦРПТ's methodology (seed 003, version 06) alone.

One discovery server (GET /api/v4/true-api/cdn/info) and N CDN hosts on their own loopback
ports (GET /api/v4/true-api/cdn/health/check, POST /api/v4/true-api/codes/check), HTTP/1.1 with
keep-alive. The codes of Appendix 2 (test scenarios 1-15) answer as the test contour does;
any other code answers as a good product. Failures are set per host, at start (--host-knobs)
or while running through the control endpoint on the discovery port:

    POST /_mock/config   {"hosts": {"0": {"status": 500, "times": 1}}, "discovery": {...}}
    POST /_mock/reset    back to the start configuration, log cleared
    GET  /_mock/log      the requests seen: [{"server", "method", "path", "codes", "status", ...}]
    GET  /_mock/ports    {"discovery": port, "hosts": [port, ...]}

Host knobs (all optional):
    health_ms      delay of /cdn/health/check (ranks the hosts; the default is 10*(index+1))
    latency_ms     delay of /codes/check
    status         HTTP status for /codes/check (400, 401, 429, 500, 504, 203, ...)
    body           JSON body sent with `status` (default {"code": status, "description": ...})
    code5000       answer 500 {"code":5000,"description":"Transgran BY internal error","codes":[]}
    times          apply status/code5000/hang only to the first N requests (then answer normally)
    hang           never answer /codes/check (the connection stays open, nothing is sent)
    down           close every connection without answering (health check too)
    health_status  HTTP status for /cdn/health/check (e.g. 203, 500)
    chunked        send bodies with Transfer-Encoding: chunked
    close          answer with Connection: close and close the connection
    price_field    "mpr" (as the seed's table spells it; default), "mrp", "both" or "none"
    omit           field names left out of every code object (e.g. ["isBlocked", "producerInn"])
    date_style     expireDate/productionDate: "ms_z" (2022-12-22T12:16:00.000Z, the seed's
                   examples; default), "no_ms" (…:00Z), "offset" (…:00.000+03:00), "space_utc"
                   (…:00.000 UTC, the seed's format string read literally)
    cis_gs         "strip" (cis without GS, as the seed's example shows; default) or "keep"
    extra          JSON object merged into every code object (unknown fields, e.g. eliminationState)
    ts_string      reqTimestamp as a string instead of a number
Discovery knobs: status (e.g. 203, 500), down, dead_hosts (extra host URLs listed first, nothing
listens there), latency_ms.

Example:
    python3 tools/gismt_mock.py --hosts 3 --ports-file /tmp/ports.json &
    KKT_GISMT_URL=http://127.0.0.1:PORT KKT_GISMT_TOKEN=test KKT_CACHE_DIR=$(mktemp -d) \\
        kkt mark check '0104670540176099215NN*cM<GS>93dGVz' --json
"""

import argparse
import copy
import json
import socket
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API = "/api/v4/true-api"
GS = "\x1d"

# Appendix 2 of the methodology. Keyed by the full code (GS as \x1d). The answer fields the
# scenario names are set, the rest comes from the good-product defaults below.
# Scenario 8's and 9's codes are printed together under 9 in the seed; both carry the MRP "ACVU"
# (14500 kopecks, scenario 8's value): the first is taken as 8 (a found pack), the second as 9.
SCENARIOS = {
    "0104670540176099215'W9Um" + GS + "93dGVz": {"n": 1, "fields": {"utilised": False, "realizable": False}},
    "0104670540176099215LnOjv" + GS + "93dGVz": {
        "n": 2,
        "fields": {"realizable": False, "utilised": True, "sold": False},
    },
    "010462930887704421DzkcYt2" + GS + "8005177000" + GS + "93dGVz": {
        "n": 3,
        "fields": {
            "realizable": False,
            "utilised": True,
            "sold": False,
            "grayZone": True,
            "groupIds": [3],
            "packageType": "GROUP",
            "price": 177000,
        },
    },
    "0104670540176099215NN*cM" + GS + "93dGVz": {"n": 4, "fields": {"sold": True, "realizable": False}},
    "0104602220006549215opFcmK" + GS + "93dGVz": {"n": 5, "fields": {"isBlocked": True, "ogvs": ["RPN"]}},
    "0104670540176099215<pGKy" + GS + "93dGVz": {
        "n": 6,
        "fields": {"expireDate": "2022-12-22T12:16:00.000Z", "groupIds": [8]},
    },
    "010461013628057121/798DM%" + GS + "8005106000" + GS + "93dGVz": {
        "n": 7,
        "fields": {"groupIds": [3], "packageType": "GROUP", "price": 106000, "smp": 100000},
    },
    "04601653035829H;dV)bFACVUdGVz": {
        "n": 8,
        "fields": {"groupIds": [3], "packageType": "UNIT", "price": 14500, "smp": 10000},
    },
    "04601653035829H;vE)bFACVUdGVz": {
        "n": 9,
        "fields": {"found": False, "realizable": False, "utilised": False, "errorCode": 10, "groupIds": [3]},
    },
    "0104670540176099215<pGKy" + GS + "93DGVz": {"n": 10, "fields": {"verified": False, "errorCode": 6}},
    "0104670540176099215!pGKy" + GS + "93dGVz": {"n": 11, "status": 504},
    "0104670540176099215LpGKy" + GS + "93dGVz": {"n": 12, "status": 203},
    "0104670540176099215PpGKy" + GS + "93dGVz": {"n": 13, "status": 500},
    "0104670540176099215MpGKy" + GS + "93dGVz": {"n": 14, "delay_ms": 2000},
    "0104813445003293215TmiV,g" + GS + "93dGVz": {"n": 15, "code5000": True},
}

BODY_5000 = {"code": 5000, "description": "Transgran BY internal error", "codes": []}

DEFAULT_DISCOVERY = {"status": None, "down": False, "dead_hosts": [], "latency_ms": 0}


def default_host(index):
    return {
        "health_ms": 10 * (index + 1),
        "latency_ms": 0,
        "status": None,
        "body": None,
        "code5000": False,
        "times": None,
        "hang": False,
        "down": False,
        "health_status": None,
        "chunked": False,
        "close": False,
        "price_field": "mpr",
        "omit": [],
        "date_style": "ms_z",
        "cis_gs": "strip",
        "extra": {},
        "ts_string": False,
    }


def fmt_date(iso_ms_z, style):
    """iso_ms_z is 'YYYY-MM-DDTHH:MM:SS.SSSZ'."""
    base = iso_ms_z[:-1]  # without Z
    if style == "no_ms":
        return base[:19] + "Z"
    if style == "offset":
        # the same instant at +03:00
        import datetime

        t = datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S.%f") + datetime.timedelta(hours=3)
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + base[20:23] + "+03:00"
    if style == "space_utc":
        return base + " UTC"
    return iso_ms_z


class State:
    def __init__(self, nhosts, token, start_knobs):
        self.lock = threading.Lock()
        self.nhosts = nhosts
        self.token = token
        self.start_knobs = start_knobs
        self.ports = {"discovery": None, "hosts": []}
        self.generation = 0
        self.reset()

    def reset(self):
        with self.lock:
            self.discovery = dict(DEFAULT_DISCOVERY)
            self.hosts = [default_host(i) for i in range(self.nhosts)]
            self.counts = [0] * self.nhosts
            self.log = []
            self.generation += 1  # a request still running from before is not logged after
            self._apply(self.start_knobs)

    def _apply(self, cfg):
        for key, knobs in (cfg.get("hosts") or {}).items():
            i = int(key)
            self.hosts[i].update(knobs)
            self.counts[i] = 0
        if cfg.get("discovery"):
            self.discovery.update(cfg["discovery"])

    def configure(self, cfg):
        with self.lock:
            self._apply(cfg)

    def record(self, entry):
        with self.lock:
            if entry.pop("gen", self.generation) != self.generation:
                return
            entry["t"] = round(time.time(), 3)
            self.log.append(entry)


def code_object(code, host):
    sc = SCENARIOS.get(code, {})
    gs_at = code.find(GS)
    print_view = code if gs_at < 0 else code[:gs_at]
    if code.startswith("01") and len(code) >= 16:
        gtin = code[2:16]
    else:
        gtin = code[:14]
    obj = {
        "cis": code.replace(GS, "") if host["cis_gs"] == "strip" else code,
        "valid": True,
        "printView": print_view,
        "gtin": gtin,
        "groupIds": [15],
        "verified": True,
        "found": True,
        "realizable": True,
        "utilised": True,
        "isBlocked": False,
        "expireDate": "2099-08-16T00:00:00.000Z",
        "productionDate": "2023-08-16T00:00:00.000Z",
        "errorCode": 0,
        "isTracking": False,
        "sold": False,
        "packageType": "UNIT",
        "producerInn": "7731376812",
        "grayZone": False,
    }
    fields = copy.deepcopy(sc.get("fields", {}))
    price = fields.pop("price", None)
    obj.update(fields)
    if price is not None:
        pf = host["price_field"]
        if pf in ("mpr", "both"):
            obj["mpr"] = price
        if pf in ("mrp", "both"):
            obj["mrp"] = price
    for k in ("expireDate", "productionDate"):
        if k in obj:
            obj[k] = fmt_date(obj[k], host["date_style"])
    obj.update(copy.deepcopy(host["extra"]))
    for k in host["omit"]:
        obj.pop(k, None)
    return obj


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "gismt-mock/1"

    def log_message(self, fmt, *args):  # quiet; the log is at /_mock/log
        if self.server.verbose:
            sys.stderr.write("[%s] %s\n" % (self.server.name, fmt % args))

    # -- plumbing ---------------------------------------------------------------------------
    def send_json(self, status, obj, host=None, reason=None):
        body = json.dumps(obj, ensure_ascii=False).encode("utf-8")
        chunked = bool(host and host["chunked"])
        close = bool(host and host["close"])
        self.send_response(status, reason)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if chunked:
            for i in range(0, len(body), 7):  # small chunks on purpose
                part = body[i : i + 7]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.wfile.write(body)
        self.wfile.flush()

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def hang(self):
        time.sleep(self.server.hang_secs)
        self.drop()

    def token_ok(self):
        st = self.server.state
        return st.token is None or self.headers.get("X-API-KEY") == st.token

    # -- dispatch ----------------------------------------------------------------------------
    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def dispatch(self, method):
        path = self.path.split("?", 1)[0].rstrip("/")
        body = self.read_body() if method == "POST" else b""
        if self.server.index is None:
            self.discovery(method, path, body)
        else:
            self.cdn(method, path, body)

    def discovery(self, method, path, body):
        st = self.server.state
        if path.startswith("/_mock/"):
            return self.control(method, path, body)
        d = st.discovery
        entry = {"server": "discovery", "method": method, "path": path, "gen": st.generation}
        if d["down"]:
            entry["status"] = "dropped"
            st.record(entry)
            return self.drop()
        time.sleep(d["latency_ms"] / 1000.0)
        if path != API + "/cdn/info" or method != "GET":
            entry["status"] = 404
            st.record(entry)
            return self.send_json(404, {"code": 404, "description": "not found"})
        if not self.token_ok():
            entry["status"] = 401
            st.record(entry)
            return self.send_json(401, {"code": 401, "description": "Unauthorized"})
        if d["status"]:
            entry["status"] = d["status"]
            st.record(entry)
            return self.send_json(d["status"], {"code": d["status"], "description": "error"})
        hosts = [{"host": h} for h in d["dead_hosts"]]
        hosts += [{"host": "http://127.0.0.1:%d" % p} for p in st.ports["hosts"]]
        entry["status"] = 200
        st.record(entry)
        self.send_json(200, {"code": 0, "description": "ok", "hosts": hosts})

    def control(self, method, path, body):
        st = self.server.state
        if path == "/_mock/config" and method == "POST":
            st.configure(json.loads(body or b"{}"))
            return self.send_json(200, {"ok": True})
        if path == "/_mock/reset" and method == "POST":
            st.reset()
            return self.send_json(200, {"ok": True})
        if path == "/_mock/log":
            with st.lock:
                return self.send_json(200, list(st.log))
        if path == "/_mock/ports":
            return self.send_json(200, st.ports)
        return self.send_json(404, {"error": "unknown control path"})

    def cdn(self, method, path, body):
        st = self.server.state
        i = self.server.index
        h = st.hosts[i]
        entry = {"server": "host%d" % i, "method": method, "path": path, "gen": st.generation}
        if h["down"]:
            entry["status"] = "dropped"
            st.record(entry)
            return self.drop()
        if path == API + "/cdn/health/check" and method == "GET":
            time.sleep(h["health_ms"] / 1000.0)
            if not self.token_ok():
                entry["status"] = 401
                st.record(entry)
                return self.send_json(401, {"code": 401, "description": "Unauthorized"}, h)
            if h["health_status"]:
                entry["status"] = h["health_status"]
                st.record(entry)
                return self.send_json(h["health_status"], {"code": h["health_status"], "description": "error"}, h)
            entry["status"] = 200
            st.record(entry)
            return self.send_json(200, {"code": 0, "description": "ok", "avgTimeMs": 300}, h)
        if path != API + "/codes/check" or method != "POST":
            entry["status"] = 404
            st.record(entry)
            return self.send_json(404, {"code": 404, "description": "not found"}, h)
        try:
            req = json.loads(body)
            codes = req["codes"]
            assert isinstance(codes, list) and all(isinstance(c, str) for c in codes)
        except Exception:  # noqa: BLE001 - a bad request is a 400, whatever broke
            entry["status"] = 400
            st.record(entry)
            return self.send_json(400, {"code": 400, "description": "Bad request"}, h)
        entry["codes"] = codes
        entry["fiscalDriveNumber"] = req.get("fiscalDriveNumber")
        entry["content_type"] = self.headers.get("Content-Type")
        with st.lock:
            st.counts[i] += 1
            n = st.counts[i]
        faulty = h["times"] is None or n <= h["times"]
        time.sleep(h["latency_ms"] / 1000.0)
        if faulty and h["hang"]:
            entry["status"] = "hang"
            st.record(entry)
            return self.hang()
        if not self.token_ok():
            entry["status"] = 401
            st.record(entry)
            return self.send_json(401, {"code": 401, "description": "Unauthorized"}, h)
        if faulty and h["code5000"]:
            entry["status"] = "500/5000"
            st.record(entry)
            return self.send_json(500, BODY_5000, h)
        if faulty and h["status"]:
            s = h["status"]
            entry["status"] = s
            st.record(entry)
            return self.send_json(s, h["body"] if h["body"] is not None else {"code": s, "description": "error"}, h)
        # per-code behaviour of the test contour (Appendix 2, scenarios 11-15)
        for c in codes:
            sc = SCENARIOS.get(c, {})
            if sc.get("delay_ms"):
                time.sleep(sc["delay_ms"] / 1000.0)
            if sc.get("code5000"):
                entry["status"] = "500/5000"
                st.record(entry)
                return self.send_json(500, BODY_5000, h)
            if sc.get("status"):
                s = sc["status"]
                entry["status"] = s
                st.record(entry)
                if s == 203:
                    return self.send_json(203, {"code": 203, "description": "Emergency"}, h)
                return self.send_json(s, {"code": s, "description": "error"}, h)
        ts = int(time.time() * 1000)
        answer = {
            "code": 0,
            "description": "ok",
            "codes": [code_object(c, h) for c in codes],
            "reqId": str(uuid.uuid4()),
            "reqTimestamp": str(ts) if h["ts_string"] else ts,
        }
        entry["status"] = 200
        entry["reqId"] = answer["reqId"]
        entry["reqTimestamp"] = ts
        st.record(entry)
        self.send_json(200, answer, h)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(args):
    start = {"hosts": {}}
    for spec in args.host_knobs or []:
        idx, _, js = spec.partition("=")
        start["hosts"][idx] = json.loads(js)
    if args.discovery_knobs:
        start["discovery"] = json.loads(args.discovery_knobs)
    state = State(args.hosts, args.token, start)
    servers = []
    disc = Server((args.bind, args.port), Handler)
    disc.state, disc.index, disc.name, disc.verbose, disc.hang_secs = state, None, "discovery", args.verbose, 0
    servers.append(disc)
    for i in range(args.hosts):
        port = args.host_ports[i] if args.host_ports and i < len(args.host_ports) else 0
        s = Server((args.bind, port), Handler)
        s.state, s.index, s.name, s.verbose, s.hang_secs = state, i, "host%d" % i, args.verbose, args.hang_secs
        servers.append(s)
        state.ports["hosts"].append(s.server_address[1])
    state.ports["discovery"] = disc.server_address[1]
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    info = json.dumps(state.ports)
    if args.ports_file:
        with open(args.ports_file + ".tmp", "w") as f:
            f.write(info)
        import os

        os.replace(args.ports_file + ".tmp", args.ports_file)
    print("discovery: http://%s:%d  hosts: %s" % (args.bind, state.ports["discovery"], state.ports["hosts"]), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


def main():
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="\n".join(__doc__.split("\n")[2:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--bind", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="discovery port (default: any free port)")
    p.add_argument("--hosts", type=int, default=3, help="number of CDN hosts (default 3)")
    p.add_argument("--host-ports", type=int, nargs="*", help="fixed ports for the CDN hosts")
    p.add_argument("--token", help="the X-API-KEY to accept (others get 401); default: any")
    p.add_argument("--host-knobs", action="append", metavar="I=JSON", help='start knobs of host I: 0=\'{"status":500}\'')
    p.add_argument("--discovery-knobs", metavar="JSON", help="start knobs of the discovery server")
    p.add_argument("--hang-secs", type=float, default=30.0, help="how long a hanging host holds a request (30 s)")
    p.add_argument("--ports-file", help="write {\"discovery\": port, \"hosts\": [...]} here once listening")
    p.add_argument("--list-scenarios", action="store_true", help="print the Appendix-2 codes and exit")
    p.add_argument("-v", "--verbose", action="store_true", help="log every request on stderr")
    args = p.parse_args()
    if args.list_scenarios:
        for code, sc in sorted(SCENARIOS.items(), key=lambda kv: kv[1]["n"]):
            print("%2d  %s" % (sc["n"], code.replace(GS, "<GS>")))
        return
    serve(args)


if __name__ == "__main__":
    main()
