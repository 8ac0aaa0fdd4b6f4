//! Issue 16's "done when" through HTTP alone: a shop's whole day (open, sales with agents and
//! suppliers, cash in and out, a correction, a lost answer, reading the previous shift's receipt
//! from the archive, the settlement report, close) against `kkt emulator` over TCP, every answer
//! checked against the OpenAPI document, each fiscal step and cash movement journaled.

use serde_json::{json, Value};

use crate::support::http::*;

#[test]
fn a_shops_whole_day_through_http() {
    let dir = TempDir::new("http-day");
    // The first cash in and the first receipt are executed and their answers lost.
    let scenario = dir.path("scenario.json");
    std::fs::write(
        &scenario,
        r#"{"faults": [{"command": 179, "action": "close_after", "times": 1},
                       {"command": 36, "action": "close_after", "times": 1}]}"#,
    )
    .unwrap();
    let emu = Emulator::start(&["--scenario", scenario.to_str().unwrap()]);
    let svc = Service::start(&emu.uri, |_| {});
    let c = &svc.client;

    // The previous shift: a sale whose answer is lost (reconciled from the archive), closed.
    assert_eq!(c.post("/v1/shift/open", r#"{"cashier": {"name": "Иванова А.А."}}"#).status, 200);
    let earlier = c.post("/v1/receipts", &fixture("sale.json", Some("prev-1")));
    assert_eq!(earlier.status, 200, "{}", earlier.body);
    assert_eq!(earlier.body["recovered"], true, "the lost answer rebuilt from the FN archive");
    assert_eq!(c.post("/v1/shift/close", "{}").status, 200);

    // Today.
    assert_eq!(c.post("/v1/shift/open", "{}").status, 200);
    let sale = c.post("/v1/receipts", &fixture("requisites.json", Some("today-1")));
    assert_eq!(sale.status, 200, "{}", sale.body);
    assert_eq!((sale.body["document"].as_str(), sale.body["total"].as_str()), (Some("receipt"), Some("2690.00")));
    assert_eq!(sale.body["defaults"], json!([]));
    // Cash in, its answer lost: settled once from the counters; the same id again is replayed.
    let before = c.get("/v1/cash", "/v1/cash");
    assert_eq!(before.status, 200, "{}", before.body);
    let cash_in = c.post("/v1/cash/in", r#"{"amount": "1000.00", "id": "float-1"}"#);
    assert_eq!(cash_in.status, 200, "{}", cash_in.body);
    assert_eq!(
        (cash_in.body["recovered"].clone(), cash_in.body["cash_before"].clone()),
        (json!(true), before.body["cash"].clone())
    );
    let again = c.post("/v1/cash/in", r#"{"amount": "1000.00", "id": "float-1"}"#);
    assert_eq!(
        (again.body["replayed"].clone(), again.body["journal_seq"].clone()),
        (json!(true), cash_in.body["journal_seq"].clone())
    );
    assert_error(&c.post("/v1/cash/in", r#"{"amount": "999.00", "id": "float-1"}"#), 409, "id_reused", "float-1");
    // Out more than the drawer holds: the register's 0x42 and its text.
    let over = c.post("/v1/cash/out", r#"{"amount": "99999.00"}"#);
    assert_error(&over, 502, "device", "Сумма изъятия больше доступной суммы");
    assert_eq!(over.body["error"]["code"], 0x42);
    let out = c.post("/v1/cash/out", r#"{"amount": 250.5}"#);
    assert_eq!(out.status, 200, "{}", out.body);
    assert_eq!(out.body["amount"], "250.50");
    let totals = c.get("/v1/cash", "/v1/cash");
    assert_eq!(totals.body["cash"], out.body["cash_after"]);
    assert_error(&c.post("/v1/cash/in", r#"{"amount": "1.005"}"#), 400, "input", "amount");
    // A correction: only at /v1/corrections, answered as one.
    assert_error(&c.post("/v1/receipts", &fixture("correction.json", None)), 400, "input", "correction");
    let corr = c.post("/v1/corrections", &fixture("correction.json", Some("corr-1")));
    assert_eq!((corr.status, corr.body["document"].as_str()), (200, Some("correction")), "{}", corr.body);
    // The previous shift's receipt from the archive, as it was; today's with every requisite.
    let fd = earlier.body["fd_number"].as_u64().unwrap();
    let d = c.get("/v1/documents/{fd}", &format!("/v1/documents/{fd}"));
    assert_eq!(d.status, 200, "{}", d.body);
    assert_eq!(
        (d.body["document"].as_str(), d.body["fiscal_sign"].clone()),
        (Some("receipt"), earlier.body["fiscal_sign"].clone())
    );
    assert_eq!(d.body["items"][1]["payment_object"], "marked_commodity");
    let t = c.get("/v1/documents/{fd}", &format!("/v1/documents/{}", sale.body["fd_number"]));
    assert_eq!(t.body["items"][0]["agent"]["type"], "bank_paying_agent", "{}", t.body);
    assert_eq!(t.body["items"][0]["supplier"]["inn"], "7707049388");
    assert_eq!(t.body["industry_requisites"][0]["foiv_id"], 30);
    assert_error(&c.get("/v1/documents/{fd}", "/v1/documents/0"), 400, "input", "fd");
    assert_error(&c.get("/v1/documents/{fd}", "/v1/documents/9999"), 502, "device", "0x08");
    // The OFD, printing, the shift's counters, the settlement report, close.
    let ofd = c.get("/v1/ofd", "/v1/ofd");
    assert_eq!((ofd.status, ofd.body["queue"].clone()), (200, json!(0)), "{}", ofd.body);
    let p = c.post("/v1/print", r#"{"text": "Спасибо за покупку!\nЖдём вас снова", "cut": true}"#);
    assert_eq!((p.status, p.body["lines"].clone()), (200, json!(2)), "{}", p.body);
    assert_eq!(c.post("/v1/print", r#"{"qr": "https://example.ru/r/1"}"#).status, 200);
    assert_error(&c.post("/v1/print", r#"{"qr": "x", "text": "y"}"#), 400, "input", "exactly one");
    let counters = c.get("/v1/reports/shift", "/v1/reports/shift");
    assert_eq!(
        (counters.body["shift"]["open"].clone(), counters.body["money"]["cash"].clone()),
        (json!(true), c.get("/v1/cash", "/v1/cash").body["cash"].clone())
    );
    assert_eq!(c.post("/v1/reports/settlement", "{}").status, 200);
    let closed = c.post("/v1/shift/close", "{}");
    assert_eq!(closed.status, 200, "{}", closed.body);
    let last = c.get("/v1/documents/{fd}", "/v1/documents/last");
    assert_eq!(
        (last.body["fd_number"].clone(), last.body["document"].as_str()),
        (closed.body["fd_number"].clone(), Some("shift_close"))
    );
    let st = c.get("/v1/status", "/v1/status");
    assert!(st.body["ofd"]["warnings"].as_array().unwrap().is_empty());

    // Each step journaled, none pending; the lost answers were sent once.
    let j = c.get("/v1/journal", "/v1/journal?limit=100");
    let entries = j.body["entries"].as_array().unwrap();
    let ops: Vec<(&str, &str)> =
        entries.iter().rev().map(|e| (e["operation"].as_str().unwrap(), e["state"].as_str().unwrap())).collect();
    assert_eq!(
        ops,
        [
            ("open_shift", "formed"),
            ("sell", "formed"),
            ("close_shift", "formed"),
            ("open_shift", "formed"),
            ("sell", "formed"),
            ("cash_in", "formed"),
            ("cash_out", "not_formed"),
            ("cash_out", "formed"),
            ("correction_sell", "formed"),
            ("settlement_report", "formed"),
            ("close_shift", "formed"),
        ],
        "{:#}",
        j.body
    );
    let cash_entry: &Value = entries.iter().find(|e| e["operation"] == "cash_in").unwrap();
    assert_eq!(cash_entry["id"], "float-1");
    assert!(cash_entry["cash_after"].as_u64().unwrap() == cash_entry["cash_before"].as_u64().unwrap() + 100_000);
    let codes = emu.requests();
    assert_eq!(codes.iter().filter(|c| **c == 0xB3).count(), 1, "0xB3 sent once");
    assert_eq!(codes.iter().filter(|c| **c == 0x24).count(), 2, "each receipt's 0x24 once");
}
