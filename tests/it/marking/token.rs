//! The ГИС МТ token by signing (seed 003 §1.1): `kkt mark token get|status`, the checker's use
//! and renewal of it, with a fake signer script and a mock /auth/permissive-access written from
//! the methodology (the request is checked: POST, JSON, `data` the Base64 of signed random data).

use std::path::Path;

use crate::support::gismt::*;
use assert_cmd::Command;
use serde_json::Value;

fn kkt(mock: &MockGisMt, auth: &MockAuth, cache: &Path, signer: &str) -> Command {
    let mut c = Command::cargo_bin("kkt").unwrap();
    for v in [
        "KKT_DEVICE",
        "KKT_STORE",
        "KKT_LM_URL",
        "KKT_MARK_STRICT",
        "KKT_MARK_CHECK",
        "KKT_GISMT_TOKEN",
        "KKT_GISMT_TOKEN_FILE",
        "KKT_CONFIG",
        "KKT_TSPIOT_URL",
    ] {
        c.env_remove(v);
    }
    c.env("KKT_CACHE_DIR", cache)
        .env("KKT_GISMT_URL", mock.url())
        .env("KKT_GISMT_AUTH_URL", &auth.server.url)
        .env("KKT_SIGN_COMMAND", signer)
        .env("HOME", cache);
    c
}

fn code_of(n: u32) -> &'static str {
    appendix2().into_iter().find(|(k, _, _)| *k == n).unwrap().1
}

fn json_line(out: &[u8]) -> Value {
    serde_json::from_str(String::from_utf8_lossy(out).lines().next().unwrap_or("null")).unwrap()
}

#[test]
fn a_token_obtained_by_signing_is_kept_private_used_and_renewed_after_a_401() {
    let mock = MockGisMt::start(1);
    let auth = mock_auth(mock.backend.clone());
    let dir = temp_dir("token");
    let (signer, runs) = fake_signer(&dir, "ooo");
    let log = dir.join("kkt.log");
    // `kkt mark token get`: the signer signs random data, ГИС МТ answers the token.
    let out = kkt(&mock, &auth, &dir, &signer)
        .args(["-vvv", "--log-file"])
        .arg(&log)
        .args(["--json", "mark", "token", "get"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json_line(&out.stdout);
    assert_eq!(v["token"], "obtained");
    let left = v["seconds_left"].as_i64().unwrap();
    assert!((35_990..=36_000).contains(&left), "{v}");
    assert_eq!(auth.issued.lock().unwrap().len(), 1);
    assert!(auth.refused.lock().unwrap().is_empty(), "{:?}", auth.refused.lock().unwrap());
    assert_eq!(auth.signed.lock().unwrap()[0].0, "ooo");
    let token = auth.issued.lock().unwrap()[0].clone();
    // Kept with its expiry in a private file of the cache directory; never printed nor logged.
    let file = dir.join("gismt-token.json");
    let kept: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(kept["access_token"], token.as_str());
    assert!(kept["expires_at_ms"].as_i64().unwrap() > kept["obtained_at_ms"].as_i64().unwrap() + 35_000_000);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let printed = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!printed.contains(&token), "the token is not printed");
    // `kkt mark token status`: where it comes from, the time left.
    let out = kkt(&mock, &auth, &dir, &signer).args(["--json", "mark", "token", "status"]).output().unwrap();
    let v = json_line(&out.stdout);
    assert_eq!((v["source"].as_str(), v["valid"].as_bool()), (Some("sign_command"), Some(true)), "{v}");
    assert!(v["seconds_left"].as_i64().unwrap() > 35_000);
    let out = kkt(&mock, &auth, &dir, &signer).args(["mark", "token", "status"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(" s left"), "{}", String::from_utf8_lossy(&out.stdout));
    // A check uses it: the signer does not run again.
    let out = kkt(&mock, &auth, &dir, &signer)
        .args(["-vvv", "--log-file"])
        .arg(&log)
        .args(["--json", "mark", "check", code_of(4)])
        .output()
        .unwrap();
    assert_eq!(json_line(&out.stdout)["source"], "online", "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(mock.keys(), vec![token.clone()]);
    assert_eq!(signer_runs(&runs), 1);
    // ГИС МТ refuses it now (401): a new one is obtained once, and the check goes through.
    mock.revoke(&token);
    let out = kkt(&mock, &auth, &dir, &signer)
        .args(["-vvv", "--log-file"])
        .arg(&log)
        .args(["--json", "mark", "check", code_of(4)])
        .output()
        .unwrap();
    let v = json_line(&out.stdout);
    assert_eq!(v["source"], "online", "{v}");
    assert_eq!(v["reasons"][0]["field"], "sold");
    let renewed = auth.issued.lock().unwrap()[1].clone();
    assert_ne!(renewed, token);
    assert_eq!(mock.keys(), vec![token.clone(), renewed.clone()], "the first check, then the one after the 401");
    assert_eq!(signer_runs(&runs), 2, "one renewal");
    let kept: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(kept["access_token"], renewed.as_str());
    // Neither token ever reached the log.
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("token obtained by signing"), "the renewal is logged, not the token");
    assert!(!logged.contains(&token) && !logged.contains(&renewed), "the token is never logged");
}

#[test]
fn a_token_is_renewed_before_it_expires() {
    let mock = MockGisMt::start(1);
    let auth = mock_auth(mock.backend.clone());
    let dir = temp_dir("token-renew");
    let (signer, runs) = fake_signer(&dir, "renew");
    // A short-lived token: 100 s.
    auth.expires_in.store(100, std::sync::atomic::Ordering::Relaxed);
    kkt(&mock, &auth, &dir, &signer).args(["mark", "token", "get"]).assert().success();
    let out = kkt(&mock, &auth, &dir, &signer).args(["--json", "mark", "token", "status"]).output().unwrap();
    let left = json_line(&out.stdout)["seconds_left"].as_i64().unwrap();
    assert!((90..=100).contains(&left), "{left}");
    auth.expires_in.store(36_000, std::sync::atomic::Ordering::Relaxed);
    // Its last fifth of life: still valid, due for renewal.
    let file = dir.join("gismt-token.json");
    let mut kept: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let now = kkt::checker::gismt::now_ms();
    kept["obtained_at_ms"] = (now - 90_000).into();
    kept["expires_at_ms"] = (now + 10_000).into();
    std::fs::write(&file, kept.to_string()).unwrap();
    let first = auth.issued.lock().unwrap()[0].clone();
    let out = kkt(&mock, &auth, &dir, &signer).args(["--json", "mark", "check", code_of(7)]).output().unwrap();
    assert_eq!(json_line(&out.stdout)["source"], "online");
    assert_eq!(mock.keys(), vec![first], "the check used the valid token, not waiting for the signer");
    assert_eq!(signer_runs(&runs), 2, "renewed in the background before it expired");
    let kept: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(kept["access_token"], auth.issued.lock().unwrap()[1].as_str());
    assert!(kept["expires_at_ms"].as_i64().unwrap() > now + 35_000_000);
}

#[test]
fn a_failing_signer_is_a_clear_error_naming_the_command_and_its_status() {
    let mock = MockGisMt::start(1);
    let auth = mock_auth(mock.backend.clone());
    let dir = temp_dir("token-fail");
    let bad = "echo 'no certificate for 7701234567' >&2; exit 3";
    let out = kkt(&mock, &auth, &dir, bad).args(["mark", "token", "get"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("`{bad}`")) && err.contains("exit status 3") && err.contains("no certificate"),
        "{err}"
    );
    assert!(auth.signed.lock().unwrap().is_empty(), "nothing was posted");
    // In a check: the verdict says so (a token error refuses, as a bad token does).
    let out = kkt(&mock, &auth, &dir, bad).args(["--json", "mark", "check", code_of(7)]).output().unwrap();
    assert_eq!(out.status.code(), Some(6));
    let v = json_line(&out.stdout);
    assert_eq!(v["reasons"][0]["field"], "token", "{v}");
    assert!(v["reasons"][0]["message"].as_str().unwrap().contains("exit status 3"), "{v}");
    assert_eq!(mock.total_checks(), 0);
    // A signer that prints no signature.
    let out = kkt(&mock, &auth, &dir, "cat >/dev/null; echo").args(["mark", "token", "get"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no Base64 signature"));
    // A signature ГИС МТ refuses.
    let out = kkt(&mock, &auth, &dir, "cat >/dev/null; echo AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .args(["mark", "token", "get"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("HTTP 403") && err.contains("the signature is not valid"), "{err}");
}

#[test]
fn a_renewed_token_refused_again_is_not_renewed_twice() {
    let mock = MockGisMt::start(1);
    let auth = mock_auth(mock.backend.clone());
    let dir = temp_dir("token-twice");
    let (signer, runs) = fake_signer(&dir, "twice");
    // The auth host issues tokens this contour does not accept (a sandbox token in production).
    auth.accept_issued.store(false, std::sync::atomic::Ordering::Relaxed);
    let out = kkt(&mock, &auth, &dir, &signer).args(["--json", "mark", "check", code_of(7)]).output().unwrap();
    assert_eq!(out.status.code(), Some(6));
    let v = json_line(&out.stdout);
    assert_eq!(v["reasons"][0]["field"], "token", "{v}");
    assert!(v["reasons"][0]["message"].as_str().unwrap().contains("401"), "{v}");
    assert_eq!(signer_runs(&runs), 2, "the first token, and one renewal after its 401");
    // Discovery (/cdn/info) refused both: no /codes/check was accepted.
    assert_eq!(mock.total_checks(), 0);
}
