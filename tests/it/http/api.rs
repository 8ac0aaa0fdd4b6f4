//! `kkt serve` endpoint by endpoint against the virtual register, every answer checked against
//! the committed OpenAPI document; bad input is 400 naming the field, with nothing sent.

use crate::support::http::*;
use serde_json::{json, Value};

#[test]
fn a_day_through_every_endpoint() {
    let svc = Service::emulator();
    let c = &svc.client;

    let st = c.get("/v1/status", "/v1/status");
    assert_eq!(st.status, 200, "{}", st.body);
    assert_eq!(st.body["shift"]["open"], false);
    let first_fd = st.body["fn"]["last_fd_number"].as_u64().unwrap();

    // No shift yet: a receipt is out of order (409), and nothing is formed.
    let a = c.post("/v1/receipts", &fixture("sale.json", None));
    assert_error(&a, 409, "sequence", "open a shift");

    let a = c.post("/v1/shift/open", r#"{"cashier": {"name": "Иванова А.А.", "inn": "500100732259"}}"#);
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["shift_number"], 1);
    assert_error(&c.post("/v1/shift/open", ""), 409, "sequence", "already open");

    // A sale with a marked item, a refund, a correction.
    let sale = c.post("/v1/receipts", &fixture("sale.json", None));
    assert_eq!(sale.status, 200, "{}", sale.body);
    assert_eq!(sale.body["total"], "180.90");
    assert_eq!(sale.body["change"], "19.10");
    assert_eq!(sale.body["replayed"], false);
    assert_eq!(sale.body["marks"][0]["tag2106"]["status_correct"], true);
    let refund = c.post("/v1/receipts", &fixture("refund.json", Some("refund-1")));
    assert_eq!(refund.status, 200, "{}", refund.body);
    assert_eq!(refund.body["id"], "refund-1");
    let corr = c.post("/v1/corrections", &fixture("correction.json", Some("corr-1")));
    assert_eq!(corr.status, 200, "{}", corr.body);
    assert_eq!(corr.body["total"], "1000.00");
    // A correction to /v1/receipts, a plain receipt to /v1/corrections: 400.
    assert_error(&c.post("/v1/receipts", &fixture("correction.json", None)), 400, "input", "correction");
    assert_error(&c.post("/v1/corrections", &fixture("sale.json", None)), 400, "input", "correction");

    // The same id twice: the same document, nothing sent the second time.
    let one = c.post("/v1/receipts", &fixture("sale.json", Some("till-1-0001")));
    let two = c.post("/v1/receipts", &fixture("sale.json", Some("till-1-0001")));
    assert_eq!((one.status, two.status), (200, 200), "{} {}", one.body, two.body);
    for k in
        ["fd_number", "fiscal_sign", "receipt_number", "shift_number", "datetime", "total", "change", "journal_seq"]
    {
        assert_eq!(one.body[k], two.body[k], "{k}");
    }
    assert_eq!((one.body["replayed"].clone(), two.body["replayed"].clone()), (json!(false), json!(true)));
    // The same id with other content: 409, nothing formed.
    let other = fixture("refund.json", Some("till-1-0001"));
    assert_error(&c.post("/v1/receipts", &other), 409, "id_reused", "till-1-0001");

    // The outcome by id.
    let o = c.get("/v1/receipts/{id}", "/v1/receipts/till-1-0001");
    assert_eq!(o.status, 200, "{}", o.body);
    assert_eq!(o.body["state"], "formed");
    assert_eq!(o.body["document"]["fd_number"], one.body["fd_number"]);
    assert_eq!(o.body["document"]["fiscal_sign"], one.body["fiscal_sign"]);
    assert_error(&c.get("/v1/receipts/{id}", "/v1/receipts/never-sent"), 404, "not_found", "never-sent");

    // Marking codes: a verdict per code, and no check left pending in the FN.
    let m = c.post(
        "/v1/marks/check",
        &json!({"codes": [SEED_CODE, {"code": SEED_CODE, "planned_status": "piece_returned"}]}).to_string(),
    );
    assert_eq!(m.status, 200, "{}", m.body);
    assert_eq!(m.body["verdicts"].as_array().unwrap().len(), 2);
    assert_eq!(m.body["verdicts"][0]["code"], SEED_CODE);
    assert_eq!(m.body["verdicts"][0]["action"], "sell");
    let st = c.get("/v1/status", "/v1/status");
    assert_eq!(st.body["session"]["mark"], "idle");
    assert_eq!(st.body["marking"]["kept_results"], 0, "{}", st.body["marking"]);

    let r = c.post("/v1/reports/settlement", "{}");
    assert_eq!(r.status, 200, "{}", r.body);

    // The journal: nothing pending; every document formed is there.
    let j = c.get("/v1/journal", "/v1/journal?pending=true");
    assert_eq!(j.status, 200, "{}", j.body);
    assert_eq!(j.body["entries"], json!([]));
    let j = c.get("/v1/journal", "/v1/journal?limit=100");
    let formed: Vec<&Value> = j.body["entries"].as_array().unwrap().iter().filter(|e| e["state"] == "formed").collect();
    let rec = c.post("/v1/recover", "");
    assert_eq!(rec.status, 200, "{}", rec.body);
    assert_eq!(rec.body["pending"], json!([]));

    let a = c.post("/v1/shift/close", "{}");
    assert_eq!(a.status, 200, "{}", a.body);
    let st = c.get("/v1/status", "/v1/status");
    assert_eq!(st.body["shift"]["open"], false);
    let last_fd = st.body["fn"]["last_fd_number"].as_u64().unwrap();
    // shift open, sale, refund, correction, sale with id, report are journaled; close too.
    assert_eq!(formed.len(), 6, "{:#}", j.body);
    assert_eq!(last_fd - first_fd, 7, "one document per formed request, none twice");

    // Unknown paths and methods: the error body too.
    let a = c.raw("GET", "/v2/status", None);
    assert_eq!((a.status, a.body["error"]["kind"].as_str()), (404, Some("not_found")));
    let a = c.raw("DELETE", "/v1/receipts", None);
    assert_eq!((a.status, a.body["error"]["kind"].as_str()), (405, Some("method_not_allowed")));
}

#[test]
fn bad_input_is_400_naming_the_field_and_nothing_is_sent() {
    let svc = Service::emulator();
    let c = &svc.client;
    assert_eq!(c.post("/v1/shift/open", "").status, 200);
    let before = c.get("/v1/status", "/v1/status").body["fn"]["last_fd_number"].clone();
    let sale: Value = serde_json::from_str(&fixture("sale.json", None)).unwrap();
    let with = |f: &dyn Fn(&mut Value)| {
        let mut v = sale.clone();
        f(&mut v);
        v.to_string()
    };
    let cases: Vec<(&str, String, &str)> = vec![
        ("bad JSON", "{\"operation\": \"sell\",".into(), "receipt"),
        ("not an object", "[1, 2]".into(), "receipt"),
        ("trailing garbage", format!("{} x", sale), "receipt"),
        ("unknown field", with(&|v| v["colour"] = json!("red")), "colour"),
        ("unknown item field", with(&|v| v["items"][0]["weight"] = json!(1)), "items[0]"),
        ("wrong type", with(&|v| v["items"] = json!("bread")), "items"),
        ("wrong type in an item", with(&|v| v["items"][1]["quantity"] = json!(true)), "items[1].quantity"),
        ("an unknown enumeration value", with(&|v| v["taxation"] = json!("none")), "taxation"),
        ("too precise", with(&|v| v["items"][0]["price"] = json!("45.505")), "items[0].price"),
        ("a float exponent", with(&|_| ()).replace("\"45.50\"", "4.55e1"), "items[0].price"),
        ("a negative amount", with(&|v| v["payments"]["cash"] = json!("-1")), "payments.cash"),
        ("not covered", with(&|v| v["payments"]["cash"] = json!("10")), "payments"),
        ("no items", with(&|v| v["items"] = json!([])), "items"),
        ("a long name", with(&|v| v["items"][0]["name"] = json!("x".repeat(129))), "items[0].name"),
        ("a bad INN", with(&|v| v["cashier"]["inn"] = json!("123")), "cashier.inn"),
        ("an empty id", with(&|v| v["id"] = json!("")), "id"),
        ("a missing field", with(&|v| drop(v.as_object_mut().unwrap().remove("payments"))), "payments"),
    ];
    for (what, body, field) in &cases {
        let a = c.post("/v1/receipts", body);
        assert_eq!(a.status, 400, "{what}: {}", a.body);
        assert_eq!(a.body["error"]["kind"], "input", "{what}");
        let m = a.body["error"]["message"].as_str().unwrap();
        assert!(m.contains(field), "{what}: {field:?} not named in {m:?}");
        assert!(!a.body["error"]["hint"].as_str().unwrap().is_empty(), "{what}: {}", a.body);
    }
    let others: Vec<(&str, &str, &str)> = vec![
        ("/v1/shift/close", r#"{"cashier": {"name": "А", "age": 3}}"#, "cashier"),
        ("/v1/shift/close", r#"{"cashier": "Иванова"}"#, "cashier"),
        ("/v1/reports/settlement", r#"{"print": false}"#, "print"),
        ("/v1/recover", "nonsense", "body"),
        ("/v1/marks/check", r#"{"codes": []}"#, "codes"),
        ("/v1/marks/check", r#"{"code": "x"}"#, "code"),
        ("/v1/marks/check", r#"{"codes": [{"code": "x", "planned_status": "stolen"}]}"#, "codes[0].planned_status"),
        ("/v1/marks/check", r#"{"codes": [{"code": "x", "quantity": "-1"}]}"#, "codes[0].quantity"),
        ("/v1/corrections", r#"{"correction": {"date": "yesterday"}}"#, "correction"),
    ];
    for (path, body, field) in others {
        let a = c.post(path, body);
        assert_eq!(a.status, 400, "{path} {body}: {}", a.body);
        let m = a.body["error"]["message"].as_str().unwrap();
        assert!(m.contains(field), "{path}: {field:?} not named in {m:?}");
    }
    for q in ["pending=maybe", "limit=0", "limit=x", "colour=red"] {
        let a = c.get("/v1/journal", &format!("/v1/journal?{q}"));
        assert_eq!((a.status, a.body["error"]["kind"].as_str()), (400, Some("input")), "{q}: {}", a.body);
    }
    // A body over the limit is refused from its Content-Length, before it is read.
    let (status, body) = raw_exchange(
        &c.base,
        "POST /v1/receipts HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 2097152\r\nConnection: close\r\n\r\n",
    );
    check_against_openapi("POST", "/v1/receipts", status, &body);
    assert_eq!((status, body["error"]["kind"].as_str()), (413, Some("too_large")), "{body}");

    // Nothing reached the register as a document; nothing was journaled.
    let st = c.get("/v1/status", "/v1/status");
    assert_eq!(st.body["fn"]["last_fd_number"], before);
    assert_eq!(st.body["fn"]["current_document"], 0);
    let j = c.get("/v1/journal", "/v1/journal");
    assert_eq!(j.body["entries"].as_array().unwrap().len(), 1, "only the shift open: {}", j.body);
}

/// Sends `head` on a new connection and reads one answer (status and JSON body).
#[test]
fn a_device_refusal_is_502_with_its_code() {
    // A register without marked goods refuses 0x91 with its own error code.
    let emu = Emulator::start(&["--no-marking"]);
    let svc = Service::start(&emu.uri, |_| {});
    let c = &svc.client;
    let a = c.post("/v1/marks/check", &json!({"codes": [SEED_CODE]}).to_string());
    assert_eq!(a.status, 502, "{}", a.body);
    assert_eq!(a.body["error"]["kind"], "device");
    let code = a.body["error"]["code"].as_u64().expect("the register's code");
    assert!(code > 0);
    assert!(a.body["error"]["message"].as_str().unwrap().contains(&format!("{code:#04X}")), "{}", a.body);
    assert!(!a.body["error"]["hint"].as_str().unwrap().is_empty());
}

#[test]
fn a_code_the_register_refuses_gets_its_own_verdict() {
    // The FN refuses one code itself (0xCE, product code not recognised: the example scenario's
    // rule); the other code of the same request is still checked.
    let emu = Emulator::start(&["--scenario", concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/emulator/scenario.toml")]);
    let svc = Service::start(&emu.uri, |_| {});
    let c = &svc.client;
    let refused = "0104601234567893215abcde\u{1d}93dGVz";
    let a = c.post("/v1/marks/check", &json!({"codes": [SEED_CODE, refused]}).to_string());
    assert_eq!(a.status, 200, "{}", a.body);
    let v = &a.body["verdicts"];
    assert_eq!(v[0]["action"], "sell", "{}", v[0]);
    assert!(v[0]["register"].is_object());
    assert_eq!(v[1]["action"], "refuse", "{}", v[1]);
    assert_eq!(v[1]["allowed"], false);
    assert!(v[1]["register"].is_null());
    assert_eq!(v[1]["register_error"]["code"], 0xCE);
    assert_eq!(v[1]["register_error"]["command"], 0x91);
    assert_eq!(v[1]["reasons"][0]["rule"], "device_refused");
    assert!(v[1]["reasons"][0]["message"].as_str().unwrap().contains("0xCE"), "{}", v[1]);
    // Nothing is left under check in the FN.
    let st = c.get("/v1/status", "/v1/status");
    assert_eq!(st.body["session"]["mark"], "idle");
    assert_eq!(st.body["marking"]["kept_results"], 0);
}

#[test]
fn the_served_document_is_the_committed_one() {
    let svc = Service::emulator();
    let a = svc.client.raw("GET", "/openapi.json", None);
    assert_eq!(a.status, 200);
    assert_eq!(&a.body, openapi());
    assert_eq!(a.body["openapi"], "3.1.0");
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/protocol/openapi.json")).unwrap();
    // Served byte for byte as committed.
    let served = ureq::get(&format!("{}/openapi.json", svc.client.base)).call().unwrap().into_string().unwrap();
    assert_eq!(served, committed);
}

/// The endpoints the service routes (src/server/mod.rs), each with its method.
const ENDPOINTS: &[(&str, &str)] = &[
    ("get", "/v1/status"),
    ("post", "/v1/shift/open"),
    ("post", "/v1/shift/close"),
    ("post", "/v1/reports/settlement"),
    ("post", "/v1/receipts"),
    ("get", "/v1/receipts/{id}"),
    ("post", "/v1/corrections"),
    ("post", "/v1/marks/check"),
    ("get", "/v1/journal"),
    ("post", "/v1/recover"),
    ("post", "/v1/cash/in"),
    ("post", "/v1/cash/out"),
    ("get", "/v1/cash"),
    ("get", "/v1/documents/{fd}"),
    ("get", "/v1/ofd"),
    ("get", "/v1/reports/shift"),
    ("post", "/v1/print"),
    ("get", "/openapi.json"),
];

#[test]
fn the_document_describes_every_endpoint_and_only_those() {
    let doc = openapi();
    let mut described: Vec<(String, String)> = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            described.push((method.clone(), path.clone()));
            // Every error answer is the error body.
            for (status, r) in op["responses"].as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    let r = r["$ref"].as_str().expect("a shared error response");
                    let name = r.rsplit('/').next().unwrap();
                    assert_eq!(
                        doc["components"]["responses"][name]["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/Error"
                    );
                }
            }
        }
    }
    described.sort();
    let mut routed: Vec<(String, String)> = ENDPOINTS.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    routed.sort();
    assert_eq!(described, routed);
    // Every endpoint answers at its path and method (not 404/405), whatever the state.
    let svc = Service::emulator();
    for (method, path) in ENDPOINTS {
        let p = path.replace("{id}", "some-id");
        let body = (*method == "post").then_some("{}");
        let a = svc.client.raw(&method.to_uppercase(), &p, body);
        assert!(a.status != 405, "{method} {path}: {}", a.body);
        assert!(a.status != 404 || a.body["error"]["message"].as_str().unwrap().contains("some-id"), "{method} {path}");
    }
}

#[test]
fn the_receipt_schema_is_the_receipt_json_schema() {
    let doc = openapi();
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/protocol/receipt.schema.json")).unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    let defs = schema["$defs"].as_object().cloned().unwrap_or_default();
    let name =
        |k: &str| format!("Receipt{}", k.split('_').map(|p| p[..1].to_uppercase() + &p[1..]).collect::<String>());
    let rewrite = |v: &Value| -> Value {
        let mut t = v.to_string();
        for k in defs.keys() {
            t = t.replace(&format!("\"#/$defs/{k}\""), &format!("\"#/components/schemas/{}\"", name(k)));
        }
        serde_json::from_str(&t).unwrap()
    };
    let mut top = schema.clone();
    for k in ["$schema", "$id", "$defs"] {
        top.as_object_mut().unwrap().remove(k);
    }
    let hint = "protocol/openapi.json is out of date: run python3 tools/gen_openapi.py";
    assert_eq!(doc["components"]["schemas"]["Receipt"], rewrite(&top), "{hint}");
    for (k, v) in &defs {
        assert_eq!(doc["components"]["schemas"][name(k)], rewrite(v), "{hint}");
    }
    // The documented example is a receipt the service takes.
    let example = &doc["paths"]["/v1/receipts"]["post"]["requestBody"]["content"]["application/json"]["example"];
    assert!(validator("/components/schemas/Receipt").is_valid(example));
    let r = kkt::receipt::Receipt::from_json(&example.to_string()).unwrap();
    r.validate().unwrap();
    // Every fixture is a valid request body for its endpoint.
    for (f, schema) in [("sale.json", "Receipt"), ("refund.json", "Receipt"), ("correction.json", "CorrectionReceipt")]
    {
        let v: Value = serde_json::from_str(&fixture(f, Some("x"))).unwrap();
        assert!(validator(&format!("/components/schemas/{schema}")).is_valid(&v), "{f}");
    }
    let sale: Value = serde_json::from_str(&fixture("sale.json", None)).unwrap();
    assert!(!validator("/components/schemas/CorrectionReceipt").is_valid(&sale));
}

#[test]
fn a_receipt_whose_answer_is_lost_is_pending_then_recovered() {
    let dir = TempDir::new("lost");
    let state = dir.path("register.json");
    let scenario = dir.path("scenario.toml");
    // The register forms the receipt, then its answer never comes.
    std::fs::write(&scenario, "[[faults]]\ncommand = 0x24\naction = \"delay\"\ndelay_ms = 600000\ntimes = 1\n")
        .unwrap();
    let args = ["--state", state.to_str().unwrap(), "--scenario", scenario.to_str().unwrap()];
    let emu = Emulator::start(&args);
    let listen = emu.uri.trim_start_matches("tcp://").to_string();
    let svc = Service::start(&emu.uri, |_| {});
    let c = svc.client.clone();
    assert_eq!(c.post("/v1/shift/open", "").status, 200);
    let fd_before = c.get("/v1/status", "/v1/status").body["fn"]["last_fd_number"].as_u64().unwrap();

    let sale = fixture("sale.json", Some("lost-1"));
    let pos = {
        let (c, sale) = (c.clone(), sale.clone());
        std::thread::spawn(move || c.post("/v1/receipts", &sale))
    };
    // Once the register has answered 0x24 into the void (the document is formed and saved), it
    // loses power.
    let mut seen = false;
    for _ in 0..3000 {
        let text = emu.log_text();
        let answered = text.rfind("<- ").is_some_and(|i| text[i..].contains("-> "));
        if request_codes(&text).last() == Some(&0x24) && answered {
            seen = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(seen, "0x24 never reached the register:\n{}", emu.log_text());
    emu.kill();
    let a = pos.join().unwrap();
    assert_eq!((a.status, a.body["error"]["kind"].as_str()), (504, Some("unknown_outcome")), "{}", a.body);

    // The journal says pending; the same id cannot be settled while the register is away.
    let o = c.get("/v1/receipts/{id}", "/v1/receipts/lost-1");
    assert_eq!(o.body["state"], "pending", "{}", o.body);
    assert_eq!(c.get("/v1/journal", "/v1/journal?pending=true").body["entries"].as_array().unwrap().len(), 1);
    let again = c.post("/v1/receipts", &sale);
    assert_error(&again, 409, "pending", "lost-1");
    assert!(again.body["error"]["hint"].as_str().unwrap().contains("/v1/recover"));

    // The register is back (same state, same address): recovery finds the document.
    let _emu = Emulator::start_at(&listen, &["--state", state.to_str().unwrap()]);
    let r = c.post("/v1/recover", "");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["pending"], json!([]));
    assert_eq!(r.body["settled"][0]["state"], "formed", "{}", r.body);
    let fd = r.body["settled"][0]["document"]["fd_number"].as_u64().unwrap();
    assert_eq!(fd, fd_before + 1);
    let o = c.get("/v1/receipts/{id}", "/v1/receipts/lost-1");
    assert_eq!((o.body["state"].as_str(), o.body["document"]["fd_number"].as_u64()), (Some("formed"), Some(fd)));
    // The POS repeats its request: the same document, nothing formed again.
    let again = c.post("/v1/receipts", &sale);
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!((again.body["fd_number"].as_u64(), &again.body["replayed"]), (Some(fd), &json!(true)));
    let st = c.get("/v1/status", "/v1/status");
    assert_eq!(st.body["fn"]["last_fd_number"].as_u64().unwrap(), fd);
}
