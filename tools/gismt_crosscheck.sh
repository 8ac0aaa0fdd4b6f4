#!/usr/bin/env bash
# Cross-check `kkt mark check` against tools/gismt_mock.py (a ГИС МТ written from ЦРПТ's
# methodology, seed 003, alone): the 15 test scenarios of its Appendix 2, the failover table
# (§1.4.3), emergency 203 (§7), the 1.5 s budget (§5), the MRP/ЕМЦ rules (§4 case 7, §6) and
# answer-format variants. One line per case (expected vs got); exit 1 on a mismatch.
#
#   tools/gismt_crosscheck.sh [KKT_BINARY]      (default target/debug/kkt; build it first)
#   CASES=S6,F429 tools/gismt_crosscheck.sh     (only these cases)
# Not part of CI: about 10 s (some cases wait for the 1.5 s budget).
set -euo pipefail
cd "$(dirname "$0")/.."
KKT=${1:-target/debug/kkt}
[ -x "$KKT" ] || { echo "no $KKT: cargo build --bin kkt" >&2; exit 2; }
WORK=$(mktemp -d /tmp/gismt-crosscheck.XXXXXX)
python3 tools/gismt_mock.py --hosts 3 --token crosscheck-token --hang-secs 5 \
    --ports-file "$WORK/ports.json" >"$WORK/mock.log" 2>&1 &
MOCK=$!
trap 'kill $MOCK 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do [ -s "$WORK/ports.json" ] && break; sleep 0.1; done
[ -s "$WORK/ports.json" ] || { echo "the mock did not start:" >&2; cat "$WORK/mock.log" >&2; exit 2; }
KKT="$KKT" WORK="$WORK" CASES="${CASES:-}" python3 - <<'PY'
import json, os, subprocess, sys, tempfile, time, urllib.request

KKT, WORK = os.environ["KKT"], os.environ["WORK"]
ONLY = [c for c in os.environ.get("CASES", "").split(",") if c]
PORTS = json.load(open(os.path.join(WORK, "ports.json")))
BASE = "http://127.0.0.1:%d" % PORTS["discovery"]
TOKEN = "crosscheck-token"
BUDGET = 1.5
SLACK = 0.25  # process start, loopback

def ctl(path, obj=None):
    data = None if obj is None else json.dumps(obj).encode()
    with urllib.request.urlopen(urllib.request.Request(BASE + path, data=data), timeout=5) as r:
        return json.loads(r.read())

def kkt(args, cache, token=TOKEN):
    env = dict(os.environ, KKT_GISMT_URL=BASE, KKT_GISMT_TOKEN=token, KKT_CACHE_DIR=cache)
    for k in ("KKT_DEVICE", "KKT_LM_URL", "KKT_STORE", "KKT_GISMT_TOKEN_FILE"):
        env.pop(k, None)
    t0 = time.monotonic()
    p = subprocess.run([KKT] + args, env=env, capture_output=True, text=True, timeout=30)
    return p, time.monotonic() - t0

def checks(log, host=None):
    return [e for e in log if e["path"].endswith("/codes/check") and (host is None or e["server"] == host)]

# (name, seed reference, code, extra args, mock config, expected, extra assertions)
# expected: allowed, action, reasons (fields that must be among the reasons), source, emergency
S = lambda n: n  # readability
C = {
    1: "0104670540176099215'W9Um<GS>93dGVz", 2: "0104670540176099215LnOjv<GS>93dGVz",
    3: "010462930887704421DzkcYt2<GS>8005177000<GS>93dGVz", 4: "0104670540176099215NN*cM<GS>93dGVz",
    5: "0104602220006549215opFcmK<GS>93dGVz", 6: "0104670540176099215<pGKy<GS>93dGVz",
    7: "010461013628057121/798DM%<GS>8005106000<GS>93dGVz", 8: "04601653035829H;dV)bFACVUdGVz",
    9: "04601653035829H;vE)bFACVUdGVz", 10: "0104670540176099215<pGKy<GS>93DGVz",
    11: "0104670540176099215!pGKy<GS>93dGVz", 12: "0104670540176099215LpGKy<GS>93dGVz",
    13: "0104670540176099215PpGKy<GS>93dGVz", 14: "0104670540176099215MpGKy<GS>93dGVz",
    15: "0104813445003293215TmiV,g<GS>93dGVz",
}
GOOD = "0104670540176099215GoOd1<GS>93dGVz"
SELL = dict(allowed=True, action="sell", source="online", emergency=False)
def REFUSE(*fields): return dict(allowed=False, action="refuse", reasons=list(fields), source="online", emergency=False)
UNCHECKED = dict(allowed=True, action="sell", source="none", emergency=False)
EMERGENCY = dict(allowed=True, action="sell", emergency=True)
OPTIONAL = ["isOwner", "isBlocked", "ogvs", "message", "errorCode", "expireDate", "variableExpirations",
            "productionDate", "productWeight", "prVetDocument", "mpr", "mrp", "smp", "grayZone",
            "innerUnitCount", "soldUnitCount", "eliminationState", "parent", "producerInn"]

def host_marked(cache, idx):
    p, _ = kkt(["mark", "cdn", "--json"], cache)
    hosts = json.loads(p.stdout)["hosts"]
    url = "http://127.0.0.1:%d" % PORTS["hosts"][idx]
    return any(h["host"] == url and h["unavailable_until_ms"] for h in hosts)

def n_checks(host, n):
    return ("%s got %d /codes/check" % (host, n), lambda log, cache: len(checks(log, host)) == n)
def marked(idx, yes=True):
    return ("host%d %smarked 15 min" % (idx, "" if yes else "not "), lambda log, cache: host_marked(cache, idx) == yes)
def answered_by(host):
    return ("answered by %s" % host, lambda log, cache: [e["server"] for e in checks(log) if e["status"] == 200][-1:] == [host])
def rediscovered():
    return ("/cdn/info asked again", lambda log, cache: sum(e["path"].endswith("/cdn/info") for e in log) >= 2)

CASES = [
    ("S1", "App.2 #1 utilised=false", [C[1]], {}, REFUSE("utilised"), []),
    ("S2", "App.2 #2 realizable=false", [C[2]], {}, REFUSE("realizable"), []),
    ("S3", "App.2 #3 tobacco grayZone", [C[3]], {}, SELL, []),
    ("S3p", "App.2 #3 + price = MRP 1770", [C[3], "--price", "1770.00"], {}, SELL, []),
    ("S4", "App.2 #4 sold=true", [C[4]], {}, REFUSE("sold"), []),
    ("S4d", "App.2 #4 note / §6.1 repeat in receipt", [GOOD, GOOD], {}, dict(allowed=False, action="refuse", reasons=["code"]), []),
    ("S5", "App.2 #5 isBlocked", [C[5]], {}, REFUSE("isBlocked"), []),
    ("S6", "App.2 #6 expired (milk)", [C[6]], {}, REFUSE("expireDate"), []),
    ("S7", "App.2 #7 block MRP, price 1060", [C[7], "--price", "1060.00"], {}, SELL, []),
    ("S7lo", "App.2 #7 block, price 1000", [C[7], "--price", "1000.00"], {}, REFUSE("price"), []),
    ("S7hi", "App.2 #7 block, price 1100", [C[7], "--price", "1100.00"], {}, REFUSE("price"), []),
    ("S8", "App.2 #8 pack MRP 145", [C[8], "--price", "145.00"], {}, SELL, []),
    ("S8x", "App.2 #8 pack, price 150", [C[8], "--price", "150.00"], {}, REFUSE("price"), []),
    ("S9", "App.2 #9 found=false", [C[9]], {}, REFUSE("found"), []),
    ("S10", "App.2 #10 verified=false", [C[10]], {}, REFUSE("verified"), []),
    ("S11", "App.2 #11 504 everywhere", [C[11]], {}, UNCHECKED, [n_checks("host0", 2), n_checks("host1", 2), n_checks("host2", 2), rediscovered(), marked(0, False)]),
    ("S12", "App.2 #12 203", [C[12]], {}, EMERGENCY, []),
    ("S13", "App.2 #13 500 everywhere", [C[13]], {}, UNCHECKED, [n_checks("host0", 2), n_checks("host1", 2), n_checks("host2", 2), rediscovered(), marked(0, False)]),
    ("S14", "App.2 #14 2 s delay", [C[14]], {}, UNCHECKED, []),
    ("S15", "App.2 #15 500/5000", [C[15]], {}, UNCHECKED, [n_checks("host0", 2), marked(0, False)]),
    # §1.4.1 ranking
    ("R1", "§1.4.1 fastest health check first", [GOOD], {"pre": {"hosts": {"0": {"health_ms": 120}, "1": {"health_ms": 5}, "2": {"health_ms": 60}}}}, SELL, [answered_by("host1")]),
    # §1.4.3 failover table (host0 is the best host)
    ("F400", "§1.4.3 4xx: no repeat", [GOOD], {"hosts": {"0": {"status": 400}}}, dict(allowed=False), [n_checks("host0", 1), n_checks("host1", 0)]),
    ("F404", "§1.4.3 4xx (404): no repeat", [GOOD], {"hosts": {"0": {"status": 404}}}, dict(allowed=False), [n_checks("host0", 1), n_checks("host1", 0)]),
    ("F401", "§1.4.3 401: no repeat, token error", [GOOD], {"hosts": {"0": {"status": 401}}}, "error:token", [n_checks("host0", 1), n_checks("host1", 0)]),
    ("F429a", "§1.4.3 429 once: repeat ok", [GOOD], {"hosts": {"0": {"status": 429, "times": 1}}}, SELL, [n_checks("host0", 2), marked(0, False)]),
    ("F429b", "§1.4.3 429 twice: mark, next host", [GOOD], {"hosts": {"0": {"status": 429, "times": 2}}}, SELL, [n_checks("host0", 2), answered_by("host1"), marked(0)]),
    ("F500a", "§1.4.3 5xx once: repeat ok", [GOOD], {"hosts": {"0": {"status": 503, "times": 1}}}, SELL, [n_checks("host0", 2), marked(0, False)]),
    ("F500b", "§1.4.3 5xx twice: mark, next host", [GOOD], {"hosts": {"0": {"status": 502, "times": 2}}}, SELL, [answered_by("host1"), marked(0)]),
    ("F5000", "§1.4.3 5000 twice: sell unchecked", [GOOD], {"hosts": {"0": {"code5000": True}}}, UNCHECKED, [n_checks("host0", 2), n_checks("host1", 0), marked(0, False)]),
    ("F5000a", "§1.4.3 5000 once: repeat ok", [GOOD], {"hosts": {"0": {"code5000": True, "times": 1}}}, SELL, [n_checks("host0", 2)]),
    ("F203", "§7 203 on /codes/check", [GOOD], {"hosts": {"0": {"status": 203, "body": {"code": 203, "description": "Emergency"}}}}, EMERGENCY, []),
    ("F203c", "§7 203 for one code; the next check: still off (3 days after the last 203)", [C[4]], "after-203", EMERGENCY, []),
    ("F203i", "§7 203 on /cdn/info", [GOOD], {"pre": {"discovery": {"status": 203}}}, EMERGENCY, []),
    ("F203h", "§7 203 on /cdn/health/check", [GOOD], {"pre": {"hosts": {"0": {"health_status": 203}, "1": {"health_status": 203}, "2": {"health_status": 203}}}}, EMERGENCY, []),
    ("Fdown", "§1.4.3 all hosts down", [GOOD], {"hosts": {"0": {"down": True}, "1": {"down": True}, "2": {"down": True}}}, UNCHECKED, [rediscovered()]),
    ("Fdead", "§1.4.3 dead best host: next host", [GOOD], "dead-first", SELL, [answered_by("host0")]),
    ("Fhang", "§1.4.3/§5 best host hangs, 1.5 s", [GOOD], {"hosts": {"0": {"hang": True}}}, dict(allowed=True, action="sell"), []),
    ("Fslow", "§5 every host 2 s late", [GOOD], {"hosts": {"0": {"latency_ms": 2000}, "1": {"latency_ms": 2000}, "2": {"latency_ms": 2000}}}, UNCHECKED, []),
    ("Fcache", "§1.4.2 /cdn/info down: cached hosts", [GOOD], "info-down-after-warm", SELL, []),
    # §4 case 7 / §6.3: MRP and ЕМЦ
    ("P1", "§4.7 MRP from code, no mpr field", [C[7], "--price", "1000.00"], {"hosts": {"0": {"price_field": "none"}}}, REFUSE("price"), []),
    ("P2", "§4.7 mrp spelling", [C[7], "--price", "1060.00"], {"hosts": {"0": {"price_field": "mrp"}}}, SELL, []),
    ("P3", "§4.7 both spellings", [C[7], "--price", "1000.00"], {"hosts": {"0": {"price_field": "both"}}}, REFUSE("price"), []),
    ("P4", "§6.3 MRP below smp", [C[8], "--price", "145.00"], {"hosts": {"0": {"extra": {"smp": 15000}}}}, REFUSE("smp"), []),
    # answer format variants a real service may send
    ("V1", "all optional fields absent", [GOOD], {"hosts": {"0": {"omit": OPTIONAL}}}, SELL, []),
    ("V1e", "optional absent, expired milk", [C[6]], {"hosts": {"0": {"omit": [f for f in OPTIONAL if f != "expireDate"]}}}, REFUSE("expireDate"), []),
    ("V2", "expireDate without ms", [C[6]], {"hosts": {"0": {"date_style": "no_ms"}}}, REFUSE("expireDate"), []),
    ("V3", "expireDate with +03:00", [C[6]], {"hosts": {"0": {"date_style": "offset"}}}, REFUSE("expireDate"), []),
    ("V4", "expireDate '… UTC' (seed format)", [C[6]], {"hosts": {"0": {"date_style": "space_utc"}}}, REFUSE("expireDate"), []),
    ("V5", "chunked body", [C[4]], {"hosts": {"0": {"chunked": True}}}, REFUSE("sold"), []),
    ("V6", "Connection: close", [C[4], C[5]], {"hosts": {"0": {"close": True}}}, REFUSE("sold"), []),
    ("V7", "cis keeps GS", [C[4]], {"hosts": {"0": {"cis_gs": "keep"}}}, REFUSE("sold"), []),
    ("V8", "unknown/new fields", [GOOD], {"hosts": {"0": {"extra": {"eliminationState": 1, "isOwner": True, "variableExpirations": {"1": "2099-01-01T00:00:00.000Z"}, "productWeight": 950.5, "prVetDocument": "x", "newField": {"a": [1]}}}}}, SELL, []),
    ("V9", "reqTimestamp as string", [GOOD], {"hosts": {"0": {"ts_string": True}}}, SELL, []),
    ("V10", "packageType SET, unknown group", [GOOD], {"hosts": {"0": {"extra": {"packageType": "SET", "groupIds": [99]}}}}, SELL, []),
]

def compare(exp, out):
    """-> (ok, got-string)."""
    if not isinstance(out, dict):
        return False, "no verdict"
    got = "allowed=%s action=%s reasons=%s source=%s emergency=%s tag1265=%s" % (
        out.get("allowed"), out.get("action"), [r.get("field") for r in out.get("reasons") or []],
        out.get("source"), out.get("emergency"), "yes" if out.get("tag1265") else "no")
    for k in ("allowed", "action", "source", "emergency"):
        if k in exp and out.get(k) != exp[k]:
            return False, got
    fields = [r.get("field") for r in out.get("reasons") or []] + [r.get("rule") for r in out.get("reasons") or []]
    for f in exp.get("reasons", []):
        if f not in fields and not (f == "price" and ("mrp" in fields or "mpr" in fields)):
            return False, got
    if exp.get("source") == "online" and not (out.get("tag1265") and out.get("req_id")):
        return False, got + " (no reqId/tag1265)"
    return True, got

def expect_str(exp):
    if isinstance(exp, str):
        return exp
    return " ".join("%s=%s" % (k, v) for k, v in exp.items())

fails = 0
print("%-7s %-38s %-46s %s" % ("case", "seed", "expected", "got"))
for name, ref, args, cfg, exp, extra in CASES:
    if ONLY and name not in ONLY:
        continue
    cache = tempfile.mkdtemp(dir=WORK)
    ctl("/_mock/reset", {})
    if cfg == "dead-first":
        ctl("/_mock/config", {"discovery": {"dead_hosts": ["http://127.0.0.1:9"]}})
        # the dead host is not reachable for the health check either, so it ranks last
    if isinstance(cfg, dict) and "pre" in cfg:
        ctl("/_mock/config", cfg.pop("pre"))  # before discovery: health checks, /cdn/info
    kkt(["mark", "cdn", "--refresh", "--json"], cache)  # warm the CDN cache (§1.4.2)
    if cfg == "after-203":
        kkt(["mark", "check", "--json", "--no-store", C[12]], cache)  # scenario 12 first
    if cfg == "info-down-after-warm":
        ctl("/_mock/config", {"discovery": {"down": True}})
        # and make the cache stale enough to be refreshed? the methodology: keep using it
    elif isinstance(cfg, dict):
        ctl("/_mock/config", cfg)
    p, dt = kkt(["mark", "check", "--json", "--no-store"] + args, cache)
    log = ctl("/_mock/log")
    try:
        outs = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
        if len(outs) == 1 and isinstance(outs[0], list):
            outs = outs[0]
    except ValueError:
        outs = []
    out = outs[0] if outs else None
    if exp == "error:token":
        text = (p.stdout + p.stderr).lower()
        ok = p.returncode != 0 and ("token" in text or "401" in text)
        got = "rc=%d %s" % (p.returncode, (p.stdout.strip() or p.stderr.strip())[:90])
    else:
        if name == "S4d" and len(outs) == 2:
            out = outs[1]
        ok, got = compare(exp, out)
        if out is None:
            got = "rc=%d %s" % (p.returncode, (p.stdout.strip() or p.stderr.strip())[:120])
    for what, test in extra:
        if not test(log, cache):
            ok = False
            got += " [FAILED: %s; /codes/check: %s]" % (what, " ".join("%s:%s" % (e["server"], e["status"]) for e in checks(log)))
    if dt > BUDGET + SLACK:
        ok = False
        got += " [%.2f s > budget]" % dt
    got += " (%.2f s)" % dt
    fails += not ok
    print("%-7s %-38s %-46s %s %s" % (name, ref, expect_str(exp), "ok  " if ok else "FAIL", got), flush=True)
print("%d mismatches" % fails)
sys.exit(1 if fails else 0)
PY
