//! Issue 16's "done when", through `kkt` commands alone: a shop's whole day (open, sales with
//! agents and suppliers, cash in and out, a correction, a lost answer, reading yesterday's receipt
//! from the archive, the settlement report, close) against `kkt emulator` over TCP, each fiscal
//! step and each cash movement journaled, none through a raw command.

use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

use crate::support::http::{Emulator, TempDir, BIN};

fn fixture(name: &str) -> String {
    format!("{}/fixtures/receipts/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

struct Till {
    uri: String,
    dir: TempDir,
}

impl Till {
    fn kkt(&self) -> Command {
        let mut c = Command::new(BIN);
        c.env_remove("KKT_CONFIG")
            .env_remove("KKT_DEVICE")
            .env("HOME", self.dir.path("home"))
            .args(["--device", &self.uri, "--journal"])
            .arg(self.dir.path("journal.sqlite"));
        c
    }

    /// `kkt --json ARGS`, which must succeed: its JSON.
    fn ok(&self, args: &[&str]) -> Value {
        let out = self.kkt().arg("--json").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "kkt {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        json_of(&out)
    }

    /// `kkt --json ARGS`, which must fail with `code`: its error object.
    fn fails(&self, code: i32, args: &[&str]) -> Value {
        let out = self.kkt().arg("--json").args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(code), "kkt {args:?}: {}", String::from_utf8_lossy(&out.stdout));
        json_of(&out)["error"].clone()
    }
}

#[test]
fn a_shops_whole_day_through_kkt_commands() {
    let dir = TempDir::new("cli-day");
    // The first cash in is executed and its answer lost; documents wait for the OFD.
    let scenario = dir.path("scenario.json");
    std::fs::write(&scenario, r#"{"faults": [{"command": 179, "action": "close_after", "times": 1}]}"#).unwrap();
    let emu = Emulator::start(&["--hold-ofd", "--scenario", scenario.to_str().unwrap()]);
    let t = Till { uri: emu.uri.clone(), dir };

    // Yesterday: a shift with one sale, closed.
    t.ok(&["shift", "open", "--cashier", "Иванова А.А.", "--cashier-inn", "500100732259"]);
    let yesterday = t.ok(&["receipt", &fixture("sale.json")]);
    let yesterday_fd = yesterday["fd_number"].as_u64().unwrap();
    t.ok(&["shift", "close"]);
    // The next morning (the register's clock a day and two hours on).
    let now = t.ok(&["datetime", "get"])["datetime"].as_str().unwrap().to_string();
    let now = chrono::NaiveDateTime::parse_from_str(&now, "%Y-%m-%dT%H:%M:%S").unwrap();
    let tomorrow = (now + chrono::TimeDelta::hours(26)).format("%Y-%m-%dT%H:%M").to_string();
    t.ok(&["datetime", "set", &tomorrow]);

    // The OFD has not received yesterday's documents for more than 24 hours: `kkt status` and
    // `kkt ofd status` say so.
    let st = t.ok(&["status"]);
    assert!(st["ofd"]["queue"].as_u64().unwrap() >= 3, "{}", st["ofd"]);
    assert!(st["ofd"]["warnings"][0].as_str().unwrap().contains("hours"), "{}", st["ofd"]);
    let text = t.kkt().arg("status").output().unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains("WARNING"), "{}", String::from_utf8_lossy(&text.stdout));
    let ofd = t.ok(&["ofd", "status"]);
    assert_eq!(ofd["first_unsent"], 1, "{ofd}");
    assert!(ofd["waiting_hours"].as_i64().unwrap() >= 25);

    // Today: open, sales with agents and suppliers, cash in (its answer lost), cash out, a
    // correction, the settlement report, close.
    t.ok(&["shift", "open", "--cashier", "Иванова А.А."]);
    let sale = t.ok(&["receipt", &fixture("requisites.json")]);
    assert_eq!((sale["document"].as_str(), sale["total"].as_str()), (Some("receipt"), Some("2690.00")));
    let cash_in = t.ok(&["cash", "in", "1000.00", "--id", "morning-float"]);
    assert_eq!(cash_in["recovered"], true, "the answer was lost: settled from the counters: {cash_in}");
    assert_eq!(cash_in["amount"], "1000.00");
    // The same id again: the first outcome, nothing sent.
    let again = t.ok(&["cash", "in", "1000.00", "--id", "morning-float"]);
    assert_eq!(
        (again["replayed"].clone(), again["cash_after"].clone()),
        (Value::Bool(true), cash_in["cash_after"].clone())
    );
    // Out more than the drawer holds: the register's refusal with its text.
    let e = t.fails(3, &["cash", "out", "99999.00"]);
    assert_eq!(e["code"], 0x42, "{e}");
    assert!(e["message"].as_str().unwrap().contains("Сумма изъятия больше доступной суммы"), "{e}");
    let out = t.ok(&["cash", "out", "300.00"]);
    assert_eq!(out["operation"], "cash_out");
    let totals = t.ok(&["cash", "totals"]);
    assert_eq!(totals["cash"], out["cash_after"]);
    // A correction: refused by `kkt receipt` (exit 2, naming the field and the command), formed
    // by `kkt correction`.
    let e = t.fails(2, &["receipt", &fixture("correction.json")]);
    assert!(e["message"].as_str().unwrap().contains("correction"), "{e}");
    assert!(e["hint"].as_str().unwrap().contains("kkt correction"), "{e}");
    let corr = t.ok(&["correction", &fixture("correction.json")]);
    assert_eq!(corr["document"], "correction");
    let human = t.kkt().args(["fd", &corr["fd_number"].to_string()]).output().unwrap();
    assert!(String::from_utf8_lossy(&human.stdout).contains("ЧЕК КОРРЕКЦИИ"));
    // Yesterday's receipt from the archive, as it was.
    let y = t.ok(&["fd", &yesterday_fd.to_string()]);
    assert_eq!((y["document"].as_str(), y["fiscal_sign"].clone()), (Some("receipt"), yesterday["fiscal_sign"].clone()));
    assert_eq!(y["items"].as_array().unwrap().len(), 2);
    assert_eq!(y["items"][1]["marking_code"], "0104607028393037215'Wt4q\u{1d}93dGVz");
    assert_eq!(y["ofd_confirmed"], false, "held by the OFD");
    t.ok(&["report", "settlement"]);
    let counters = t.ok(&["report", "shift"]);
    assert_eq!(counters["shift"]["open"], true);
    // The correction brought 1000.00 of cash since.
    let cash = |v: &Value| v.as_str().unwrap().parse::<kkt::receipt::Money>().unwrap().kopecks();
    assert_eq!(cash(&counters["money"]["cash"]), cash(&totals["cash"]) + 100_000);
    let closed = t.ok(&["shift", "close"]);

    // `kkt fd N` for each document type the day formed, and `kkt fd last`.
    let last = t.ok(&["fd", "last"]);
    assert_eq!(
        (last["fd_number"].clone(), last["document"].as_str()),
        (closed["fd_number"].clone(), Some("shift_close"))
    );
    let mut kinds = std::collections::BTreeSet::new();
    for fd in 1..=last["fd_number"].as_u64().unwrap() {
        let d = t.ok(&["fd", &fd.to_string()]);
        kinds.insert(d["document"].as_str().unwrap().to_string());
        assert!(d["fiscal_sign"].as_u64().unwrap() > 0);
    }
    let want: std::collections::BTreeSet<String> =
        ["registration", "shift_open", "receipt", "correction", "settlement_report", "shift_close"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    assert_eq!(kinds, want);
    t.ok(&["fd", "print", &yesterday_fd.to_string()]);
    // The OFD has confirmed nothing (held): its confirmation cannot be printed.
    t.fails(3, &["fd", "ofd-receipt", &yesterday_fd.to_string()]);

    // Each step journaled: every fiscal document and cash movement, none pending.
    let j = t.ok(&["journal", "--limit", "100"]);
    let entries = j.as_array().unwrap();
    assert!(entries.iter().all(|e| e["state"] != "pending"), "{j:#}");
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
        "{j:#}"
    );
    // The lost cash in was sent once: its answer was settled, not repeated.
    let codes = emu.requests();
    assert_eq!(codes.iter().filter(|c| **c == 0xB3).count(), 1, "0xB3 sent once");
}
