//! Several legal entities on one till (an ООО and an ИП): `[[marking.entity]]` with its own token
//! source; a check or a receipt names the entity by INN (`--inn`, `seller_inn`, by default the
//! register's registration INN); one shared sold-codes store judges repeats per entity.

use crate::support::gismt::*;
use crate::support::http::Emulator as EmuProcess;
use serde_json::{json, Value};

/// The emulator's registration INN: the ООО, the first entity.
const OOO: &str = "7806197274";
/// An individual entrepreneur selling through the same till.
const IP: &str = "500100732259";

fn code_of(n: u32) -> &'static str {
    appendix2().into_iter().find(|(k, _, _)| *k == n).unwrap().1
}

struct Till {
    mock: MockGisMt,
    auth: MockAuth,
    dir: std::path::PathBuf,
    config: std::path::PathBuf,
}

fn till() -> Till {
    let mock = MockGisMt::start(1);
    let auth = mock_auth(mock.backend.clone());
    let dir = temp_dir("entities");
    let (sign_ooo, _) = fake_signer(&dir, "ooo");
    let (sign_ip, _) = fake_signer(&dir, "ip");
    let config = dir.join("kkt.toml");
    std::fs::write(
        &config,
        format!(
            "[marking]\ninn = \"{OOO}\"\nsign_command = \"{sign_ooo}\"\nauth_url = \"{}\"\n\n[[marking.entity]]\ninn = \"{IP}\"\nsign_command = \"{sign_ip}\"\n",
            auth.server.url
        ),
    )
    .unwrap();
    Till { mock, auth, dir, config }
}

fn kkt(t: &Till) -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("kkt").unwrap();
    for v in [
        "KKT_DEVICE",
        "KKT_STORE",
        "KKT_LM_URL",
        "KKT_MARK_STRICT",
        "KKT_MARK_CHECK",
        "KKT_GISMT_TOKEN",
        "KKT_GISMT_TOKEN_FILE",
        "KKT_SIGN_COMMAND",
        "KKT_TSPIOT_URL",
        "KKT_GISMT_AUTH_URL",
    ] {
        c.env_remove(v);
    }
    c.env("KKT_CACHE_DIR", &t.dir)
        .env("HOME", &t.dir)
        .env("KKT_CONFIG", &t.config)
        .env("KKT_GISMT_URL", t.mock.url())
        .env("KKT_JOURNAL", t.dir.join("journal.sqlite"));
    c
}

fn line(out: &[u8]) -> Value {
    serde_json::from_str(String::from_utf8_lossy(out).lines().next().unwrap()).unwrap()
}

fn token_of(t: &Till, who: &str) -> String {
    let signed = t.auth.signed.lock().unwrap().clone();
    let i = signed.iter().position(|(w, _)| w == who).unwrap_or_else(|| panic!("{who} never signed: {signed:?}"));
    t.auth.issued.lock().unwrap()[i].clone()
}

fn check(t: &Till, inn: Option<&str>, code: &str, price: &str) -> (Option<i32>, Value) {
    let mut c = kkt(t);
    c.args(["--json", "mark", "check", "--price", price]);
    if let Some(i) = inn {
        c.args(["--inn", i]);
    }
    let out = c.arg(code).output().unwrap();
    (out.status.code(), line(&out.stdout))
}

#[test]
fn each_entity_checks_with_its_own_token_and_its_own_sold_codes() {
    let t = till();
    // The ИП's check: its own signer, its own token.
    let (code, v) = check(&t, Some(IP), code_of(7), "1060.00");
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["inn"], IP);
    assert_eq!(t.mock.keys(), vec![token_of(&t, "ip")]);
    // The ООО's (named, then by default: the first entity).
    let (_, v) = check(&t, Some(OOO), code_of(7), "1060.00");
    assert_eq!(v["inn"], OOO);
    let (_, v) = check(&t, None, code_of(7), "1060.00");
    assert_eq!(v["inn"], OOO);
    let keys = t.mock.keys();
    assert_eq!(keys[1..], [token_of(&t, "ooo"), token_of(&t, "ooo")], "the ООО's token, obtained once");
    assert_eq!(t.auth.issued.lock().unwrap().len(), 2, "one token per entity");
    // A code the ООО sold is no repeat for the ИП, and one for the ООО.
    kkt(&t).args(["mark", "record", "sold", "--inn", OOO, "--receipt", "FN 1 FD 5", code_of(7)]).assert().success();
    let (code, v) = check(&t, Some(IP), code_of(7), "1060.00");
    assert_eq!((code, v["allowed"].as_bool()), (Some(0), Some(true)), "{v}");
    let (code, v) = check(&t, Some(OOO), code_of(7), "1060.00");
    assert_eq!(code, Some(6));
    assert_eq!(v["reasons"][0]["field"], "store", "{v}");
    // The history names the entity.
    let out = kkt(&t).args(["--json", "mark", "history", code_of(7)]).output().unwrap();
    let h = line(&out.stdout);
    assert_eq!(h["events"][0]["inn"], OOO, "{h}");
    let inns: Vec<&str> = h["checks"].as_array().unwrap().iter().map(|c| c["inn"].as_str().unwrap()).collect();
    assert_eq!(inns, vec![IP, OOO, OOO, IP, OOO], "every verdict kept, with its entity");
    // An INN that is no entity of this till: refused before anything is sent.
    let before = t.mock.total_checks();
    let out = kkt(&t).args(["mark", "check", "--inn", "7702345678", code_of(7)]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("7702345678") && err.contains(IP) && err.contains(OOO), "{err}");
    assert_eq!(t.mock.total_checks(), before);
}

fn receipt(code: &str, seller: Option<&str>) -> String {
    let mut r = json!({"operation": "sell", "taxation": "osn", "payments": {"cash": "1060.00"},
                       "items": [{"name": "Сигареты", "price": "1060.00", "quantity": "1", "vat": "vat20",
                                  "payment_method": "full_payment", "payment_object": "marked_commodity", "marking_code": code}]});
    if let Some(s) = seller {
        r["seller_inn"] = s.into();
    }
    r.to_string()
}

fn sell(t: &Till, emu: &str, code: &str, seller: Option<&str>) -> (Option<i32>, Value) {
    let out =
        kkt(t).args(["--device", emu, "--json", "receipt", "-"]).write_stdin(receipt(code, seller)).output().unwrap();
    (out.status.code(), serde_json::from_slice(&out.stdout).unwrap())
}

#[test]
fn a_receipt_names_its_seller_and_a_sale_is_judged_per_entity() {
    let t = till();
    let emu = EmuProcess::start(&[]);
    kkt(&t).args(["--device", &emu.uri, "shift", "open"]).assert().success();
    // The ИП sells the block: checked with the ИП's token, recorded as the ИП's sale.
    let (code, v) = sell(&t, &emu.uri, code_of(7), Some(IP));
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(t.mock.keys(), vec![token_of(&t, "ip")]);
    // The same code again by the ИП: a repeat. By the ООО (the register's registration INN, the
    // default seller): not its repeat.
    let (code, v) = sell(&t, &emu.uri, code_of(7), Some(IP));
    assert_eq!(code, Some(6), "{v}");
    assert_eq!(v["error"]["verdict"]["reasons"][0]["field"], "store");
    assert_eq!(v["error"]["verdict"]["inn"], IP);
    let (code, v) = sell(&t, &emu.uri, code_of(7), None);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(t.mock.keys().last(), Some(&token_of(&t, "ooo")), "the register's INN chose the ООО");
    let out = kkt(&t).args(["--json", "mark", "history", code_of(7)]).output().unwrap();
    let h = line(&out.stdout);
    let sales: Vec<(&str, &str)> = h["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["inn"].as_str().unwrap(), e["state"].as_str().unwrap()))
        .collect();
    assert_eq!(sales, vec![(IP, "sold"), (OOO, "sold")]);
    // A seller_inn that is no entity of the till: refused before the receipt is opened.
    let before = emu.requests().len();
    let (code, v) = sell(&t, &emu.uri, code_of(2), Some("7702345678"));
    assert_eq!(code, Some(2), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("seller_inn"), "{v}");
    assert!(!emu.requests()[before..].contains(&0x23), "no receipt opened");
}
