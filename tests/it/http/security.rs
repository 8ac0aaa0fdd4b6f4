//! The bearer token, the refusal to listen beyond loopback without one, and a request log that
//! holds neither tokens nor customers' contacts.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::support::http::*;
use serde_json::json;

const TOKEN: &str = "s3cr3t-token-0123456789abcdef";

#[test]
fn a_token_guards_every_v1_endpoint() {
    let svc = Service::start("emulator", |c| c.token = Some(TOKEN.into()));
    let anonymous = svc.client.clone();
    let wrong = svc.client.clone().with_token("s3cr3t-token-0123456789abcdeF");
    let right = svc.client.clone().with_token(TOKEN);
    for c in [&anonymous, &wrong] {
        assert_error(&c.get("/v1/status", "/v1/status"), 401, "unauthorized", "Bearer");
        assert_error(&c.post("/v1/shift/open", ""), 401, "unauthorized", "Bearer");
        assert_error(&c.get("/v1/journal", "/v1/journal"), 401, "unauthorized", "Bearer");
        assert_error(&c.post("/v1/receipts", &fixture("sale.json", None)), 401, "unauthorized", "Bearer");
    }
    assert_eq!(right.get("/v1/status", "/v1/status").status, 200);
    assert_eq!(right.post("/v1/shift/open", "").status, 200);
    // Nothing the refused requests asked for happened: one shift open, by the right client.
    let j = right.get("/v1/journal", "/v1/journal");
    assert_eq!(j.body["entries"].as_array().unwrap().len(), 1, "{}", j.body);
    // The description is public.
    assert_eq!(anonymous.raw("GET", "/openapi.json", None).status, 200);
}

fn kkt() -> Command {
    let mut c = Command::new(BIN);
    c.env_remove("KKT_SERVE_TOKEN")
        .env_remove("KKT_SERVE_TOKEN_FILE")
        .env_remove("KKT_DEVICE")
        .env_remove("KKT_CONFIG")
        .env_remove("KKT_GISMT_TOKEN")
        .env("HOME", std::env::temp_dir())
        .env("KKT_STATE_DIR", crate::support::state_dir());
    c
}

#[test]
fn listening_beyond_loopback_without_a_token_is_refused() {
    let dir = TempDir::new("refuse");
    let journal = dir.path("j.sqlite");
    let out = kkt()
        .args(["--device", "emulator", "--journal"])
        .arg(&journal)
        .args(["serve", "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("token") && err.contains("0.0.0.0"), "{err}");
    assert!(out.stdout.is_empty(), "nothing listened: {}", String::from_utf8_lossy(&out.stdout));

    let out = kkt()
        .args(["--json", "--device", "emulator", "--journal"])
        .arg(&journal)
        .args(["serve", "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "input");

    // A token too short to be one.
    let short = dir.path("token");
    std::fs::write(&short, "abc\n").unwrap();
    let out = kkt()
        .args(["--device", "emulator", "--journal"])
        .arg(&journal)
        .args(["serve", "--listen", "127.0.0.1:0", "--token-file"])
        .arg(&short)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("shorter"));
}

#[test]
fn the_request_log_holds_no_token_and_no_contact() {
    let dir = TempDir::new("log");
    let log = dir.path("serve.log");
    let mut child = kkt()
        .env("KKT_SERVE_TOKEN", TOKEN)
        .args(["-vvv", "--device", "emulator", "--log-file"])
        .arg(&log)
        .arg("--journal")
        .arg(dir.path("journal.sqlite"))
        .args(["serve", "--listen", "127.0.0.1:0", "--no-mark-check"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.trim().to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "{line}");
    let c = Client::new(base.clone()).with_token(TOKEN);
    assert_eq!(c.post("/v1/shift/open", "").status, 200);
    let mut sale: serde_json::Value = serde_json::from_str(&fixture("sale.json", Some("log-1"))).unwrap();
    sale["customer"] = json!({"contact": "customer@example.org", "name": "Петров Пётр Петрович", "inn": "7707083893"});
    let a = c.post("/v1/receipts", &sale.to_string());
    assert_eq!(a.status, 200, "{}", a.body);
    let denied = Client::new(base).with_token("wrong-token-but-long-enough-1234");
    assert_eq!(denied.raw("GET", "/v1/journal?pending=true", None).status, 401);
    let _ = child.kill();
    let _ = child.wait();

    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("POST /v1/receipts 200"), "the request is logged:\n{text}");
    assert!(text.contains("GET /v1/journal 401"), "{text}");
    assert!(text.contains("kkt::frames"), "the frames are logged at -vvv");
    for secret in [TOKEN, "wrong-token", "Bearer", "customer@example.org", "Петров", "7707083893", "pending=true"]
    {
        assert!(!text.contains(secret), "{secret:?} is in the log:\n{text}");
    }
    // Nor in the frames' hex.
    for personal in ["customer@example.org", "7707083893"] {
        let hex = hex::encode_upper(personal);
        assert!(!text.to_uppercase().contains(&hex), "{personal:?} is in the frame log as {hex}");
    }
}
