//! One verdict, whatever the entry point: for the same configuration and the same code,
//! `kkt mark check`, `POST /v1/marks/check`, `kkt receipt`, `POST /v1/receipts` and `Kkt::sell`
//! give the same action, source, reasons and notes (table-driven, against the mock ГИС МТ and
//! Local Module and the virtual register). A sale that is refused (or that asks, with nobody to
//! accept) gives the verdict in its error.

use std::path::Path;
use std::sync::Arc;

use crate::support::gismt::*;
use crate::support::http::{Emulator as EmuProcess, Service};
use kkt::checker::store::{default_path, SqliteStore};
use kkt::checker::{Checker, GisMt, GisMtConfig, Lm, LmConfig, Secret, Settings, Strictness};
use kkt::driver::Options;
use kkt::emulator::{EmulatorOptions, VirtualRegister};
use kkt::receipt::{Cashier, Item, Money, Receipt, Taxation, Vat};
use kkt::transport::InProcTransport;
use kkt::{Error, Kkt};
use serde_json::{json, Value};

fn code_of(n: u32) -> &'static str {
    appendix2().into_iter().find(|(k, _, _)| *k == n).unwrap().1
}

/// One configuration of the table.
struct Row {
    name: &'static str,
    gismt: bool,
    lm: bool,
    required: bool,
    ask: bool,
    code: &'static str,
    /// Kopecks.
    price: u64,
    /// The action expected, the source, the rules of the reasons.
    want: (&'static str, &'static str, &'static [&'static str]),
}

fn rows() -> Vec<Row> {
    vec![
        Row {
            name: "no source",
            gismt: false,
            lm: false,
            required: false,
            ask: false,
            code: code_of(2),
            price: 8990,
            want: ("sell", "none", &[]),
        },
        Row {
            name: "no source, a check required",
            gismt: false,
            lm: false,
            required: true,
            ask: false,
            code: code_of(2),
            price: 8990,
            want: ("refuse", "none", &["check_required"]),
        },
        Row {
            name: "ГИС МТ: withdrawn",
            gismt: true,
            lm: false,
            required: false,
            ask: false,
            code: code_of(4),
            price: 8990,
            want: ("refuse", "online", &["sold"]),
        },
        Row {
            name: "ГИС МТ: a block at its MRP",
            gismt: true,
            lm: false,
            required: false,
            ask: false,
            code: code_of(7),
            price: 106000,
            want: ("sell", "online", &[]),
        },
        Row {
            name: "ГИС МТ: a block below its MRP",
            gismt: true,
            lm: false,
            required: false,
            ask: false,
            code: code_of(7),
            price: 99000,
            want: ("refuse", "online", &["price_not_mrp"]),
        },
        Row {
            name: "ГИС МТ, ask: blocked",
            gismt: true,
            lm: false,
            required: false,
            ask: true,
            code: code_of(5),
            price: 8990,
            want: ("ask", "online", &["blocked"]),
        },
        Row {
            name: "the Local Module alone: withdrawn",
            gismt: false,
            lm: true,
            required: false,
            ask: false,
            code: code_of(4),
            price: 8990,
            want: ("refuse", "lm", &["sold"]),
        },
    ]
}

/// The options of `kkt mark check`, `kkt receipt` and `kkt serve` for a row.
fn options(r: &Row, mock: &MockGisMt, lm: &MockLm, token_file: &Path) -> Vec<String> {
    let mut o = Vec::new();
    if r.gismt {
        o.extend([
            "--gismt-url".into(),
            mock.url().to_string(),
            "--gismt-token-file".into(),
            token_file.display().to_string(),
        ]);
    }
    if r.lm {
        o.extend([
            "--lm-url".into(),
            lm.server.url.clone(),
            "--lm-user".into(),
            LM_USER.into(),
            "--lm-password".into(),
            LM_PASSWORD.into(),
        ]);
    }
    if r.required {
        o.extend(["--mark-check".into(), "required".into()]);
    }
    if r.ask {
        o.extend(["--mark-strict".into(), "ask".into()]);
    }
    o
}

fn cli(cache: &Path) -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("kkt").unwrap();
    for v in [
        "KKT_DEVICE",
        "KKT_STORE",
        "KKT_LM_URL",
        "KKT_LM_USER",
        "KKT_LM_PASSWORD",
        "KKT_MARK_STRICT",
        "KKT_MARK_CHECK",
        "KKT_GISMT_TOKEN",
        "KKT_GISMT_TOKEN_FILE",
        "KKT_GISMT_URL",
        "KKT_CONFIG",
        "KKT_SIGN_COMMAND",
        "KKT_TSPIOT_URL",
    ] {
        c.env_remove(v);
    }
    c.env("KKT_CACHE_DIR", cache).env("HOME", cache).env("KKT_JOURNAL", cache.join("journal.sqlite"));
    c
}

fn rub(k: u64) -> String {
    format!("{}.{:02}", k / 100, k % 100)
}

fn receipt_json(r: &Row) -> Value {
    json!({"operation": "sell", "taxation": "osn", "payments": {"cash": rub(r.price)},
           "items": [{"name": "Товар", "price": rub(r.price), "quantity": "1", "vat": "vat20",
                      "payment_method": "full_payment", "payment_object": "marked_commodity", "marking_code": r.code}]})
}

/// What must be the same: the action, whether allowed, the source, the emergency, every reason
/// (rule, field, both texts) and every note.
fn essence(v: &Value) -> Value {
    json!({"action": v["action"], "allowed": v["allowed"], "source": v["source"], "emergency": v["emergency"],
           "reasons": v["reasons"], "notes": v["notes"]})
}

/// The verdict of a sale: a sold item's mark (its notes; no reasons), or the refusal's verdict.
fn sale_essence(ok: Option<&Value>, err: Option<&Value>) -> Value {
    match (ok, err) {
        (Some(m), _) => {
            json!({"action": "sell", "allowed": true, "source": m["source"], "emergency": m["emergency"].as_bool().unwrap_or(false),
                               "reasons": [], "notes": m["notes"]})
        }
        (None, Some(e)) => essence(&e["verdict"]),
        _ => panic!("neither a document nor an error"),
    }
}

fn rust_sell(r: &Row, mock: &MockGisMt, lm: &MockLm, dir: &Path) -> Value {
    let settings = Settings {
        strictness: if r.ask { Strictness::Ask } else { Strictness::Deny },
        require_check: r.required,
        ..Settings::default()
    };
    let gismt =
        r.gismt.then(|| Arc::new(GisMt::new(GisMtConfig::new(mock.url(), Some(Secret::new(TOKEN)), dir)).unwrap()));
    let lm = r.lm.then(|| {
        let mut c = LmConfig::new(lm.server.url.clone());
        c.user = Some(LM_USER.into());
        c.password = Some(Secret::new(LM_PASSWORD));
        Lm::new(c).unwrap()
    });
    let checker = Checker::new(gismt, lm, settings)
        .with_cache_dir(dir)
        .with_store(Box::new(SqliteStore::open(&default_path(dir)).unwrap()));
    let reg = VirtualRegister::new(EmulatorOptions::default());
    let mut kkt = Kkt::with_transport(InProcTransport::new(Arc::new(reg)), Options::fast()).unwrap();
    kkt.set_mark_checker(Some(Arc::new(checker)));
    kkt.open_shift(&Cashier::new("Иванова А.А.")).unwrap();
    let mut receipt = Receipt::sell(Taxation::OSN);
    receipt.items.push(Item::marked("Товар", Money::from_kopecks(r.price), Vat::VAT20, r.code));
    receipt.payments.cash = Money::from_kopecks(r.price);
    match kkt.sell(&receipt) {
        Ok(doc) => {
            let m = serde_json::to_value(&doc.marks[0]).unwrap();
            sale_essence(Some(&json!({"source": m["source"], "notes": m["notes"]})), None)
        }
        Err(Error::MarkRefused(e)) => essence(&serde_json::to_value(&e.verdict).unwrap()),
        Err(e) => panic!("{}: {e}", r.name),
    }
}

#[test]
fn the_same_code_gets_the_same_verdict_from_every_entry_point() {
    let mock = MockGisMt::start(1);
    let lm = mock_lm();
    lm.codes.lock().unwrap().insert(code_of(4).to_string(), json!({"sold": true}));
    let top = temp_dir("entry");
    let token_file = top.join("token");
    std::fs::write(&token_file, TOKEN).unwrap();
    println!("\n| configuration | entry point | action | source | reasons |");
    println!("|---|---|---|---|---|");
    for (n, r) in rows().iter().enumerate() {
        let opts = options(r, &mock, &lm, &token_file);
        let dir = |what: &str| {
            let d = top.join(format!("{n}-{what}"));
            std::fs::create_dir_all(&d).unwrap();
            d
        };
        let mut seen: Vec<(&str, Value)> = Vec::new();
        // kkt mark check
        let out = cli(&dir("check"))
            .args(["--json", "mark", "check", "--price", &rub(r.price), r.code])
            .args(&opts)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{}: {e}: {}", r.name, String::from_utf8_lossy(&out.stderr)));
        seen.push(("kkt mark check", essence(&v)));
        // kkt receipt (the sale through the journal), on its own virtual register
        let emu = EmuProcess::start(&[]);
        let d = dir("receipt");
        cli(&d).args(["--device", &emu.uri, "shift", "open"]).assert().success();
        let out = cli(&d)
            .args(["--device", &emu.uri, "--json", "receipt"])
            .args(&opts)
            .arg("-")
            .write_stdin(receipt_json(r).to_string())
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{}: {e}: {}", r.name, String::from_utf8_lossy(&out.stderr)));
        let refused = v.get("error").is_some();
        assert_eq!(out.status.code(), Some(if refused { 6 } else { 0 }), "{}: {v}", r.name);
        seen.push(("kkt receipt", sale_essence(v["marks"].get(0), v.get("error"))));
        // kkt serve: POST /v1/marks/check, then POST /v1/receipts
        let emu2 = EmuProcess::start(&[]);
        let svc = Service::start(&emu2.uri, |o| o.extra = opts.clone());
        let c = &svc.client;
        assert_eq!(c.post("/v1/shift/open", "").status, 200);
        let a = c.post("/v1/marks/check", &json!({"codes": [{"code": r.code, "price": rub(r.price)}]}).to_string());
        assert_eq!(a.status, 200, "{}: {}", r.name, a.body);
        seen.push(("POST /v1/marks/check", essence(&a.body["verdicts"][0])));
        let a = c.post("/v1/receipts", &receipt_json(r).to_string());
        assert!(matches!(a.status, 200 | 422), "{}: {}", r.name, a.body);
        if a.status == 422 {
            assert_eq!(a.body["error"]["kind"], "mark_refused");
        }
        seen.push(("POST /v1/receipts", sale_essence(a.body["marks"].get(0), a.body.get("error"))));
        // Kkt::sell with the same configuration in Rust
        seen.push(("Kkt::sell", rust_sell(r, &mock, &lm, &dir("rust"))));
        let (action, source, rules) = r.want;
        for (entry, v) in &seen {
            let got: Vec<&str> = v["reasons"].as_array().unwrap().iter().map(|x| x["rule"].as_str().unwrap()).collect();
            println!(
                "| {} | {entry} | {} | {} | {} |",
                r.name,
                v["action"].as_str().unwrap(),
                v["source"].as_str().unwrap(),
                got.join(", ")
            );
            assert_eq!(v["action"], action, "{} / {entry}: {v}", r.name);
            assert_eq!(v["source"], source, "{} / {entry}: {v}", r.name);
            // A sold item's mark shows no reasons: its verdict had none.
            assert_eq!(got, rules, "{} / {entry}: {v}", r.name);
            assert_eq!(v, &seen[0].1, "{} / {entry} differs from kkt mark check", r.name);
        }
    }
}

#[test]
fn a_check_required_by_the_environment_or_the_config_file() {
    let dir = temp_dir("required");
    let code = code_of(2);
    let out = cli(&dir).args(["--json", "mark", "check", code]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["allowed"].as_bool(), v["source"].as_str()), (Some(true), Some("none")));
    assert!(v["notes"][0].as_str().unwrap().contains("no check source configured"), "{v}");
    let out = cli(&dir).env("KKT_MARK_CHECK", "required").args(["--json", "mark", "check", code]).output().unwrap();
    assert_eq!(out.status.code(), Some(6));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["reasons"][0]["rule"], "check_required");
    assert!(v["reasons"][0]["message_ru"].as_str().unwrap().contains("обязательна"), "{v}");
    let cfg = dir.join("kkt.toml");
    std::fs::write(&cfg, "[marking]\nrequire_check = true\n").unwrap();
    let out = cli(&dir).env("KKT_CONFIG", &cfg).args(["--json", "mark", "check", code]).output().unwrap();
    assert_eq!(out.status.code(), Some(6));
    // The option wins over the file.
    let out = cli(&dir)
        .env("KKT_CONFIG", &cfg)
        .args(["--json", "mark", "check", "--mark-check", "optional", code])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}
