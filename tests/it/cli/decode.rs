//! `kkt decode` as a user runs it.

use assert_cmd::Command;
use predicates::prelude::*;

fn kkt() -> Command {
    Command::cargo_bin("kkt").unwrap()
}

const REQ_92: &str = "B6 29 00 26 92 D3 07 01 00 01 36 08 01 00 00 FF 03 02 00 00 00 3C 08 01 00 00 0D 05 04 00 00 00 00 00 0E 05 04 00 00 00 00 00 ED A2";
const RESP_92: &str = "B6 29 00 3D 00 0F 42 08 04 00 38 2E 54 61 39 08 01 00 00 D5 07 01 00 0F 3D 08 01 00 01 35 08 1B 00 30 34 36 34 30 30 37 38 30 31 36 33 37 32 67 44 44 4A 32 56 4D 4F 71 76 64 4E 47 34 08 01 00 03 B3 02";

#[test]
fn request_human() {
    kkt().args(["decode", REQ_92]).assert().success().stdout(
        predicate::str::contains("request 0x92")
            .and(predicate::str::contains("Выполнить проверку текущего КМ в ОИСМ"))
            .and(predicate::str::contains("planned_status: 1")),
    );
}

#[test]
fn response_json_has_the_fields_the_issue_names() {
    let out = kkt().args(["decode", "--json", "--response", "--command", "0x92", RESP_92]).output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kind"], "response");
    assert_eq!(v["code"], 0);
    assert_eq!(v["crc_ok"], true);
    assert!(v["name"].as_str().unwrap().contains("ОИСМ"));
    assert_eq!(v["error"], serde_json::Value::Null);
    assert_eq!(v["fields"]["result"]["checked"], true);
    assert_eq!(v["tlv"][4]["name"], "Product identifier");
    assert_eq!(v["tlv"][4]["value"], "04640078016372gDDJ2VMOqvdNG");
}

#[test]
fn a_log_with_request_and_response_uses_the_request_code() {
    let log = format!("12:00:01.100 > {REQ_92}\n12:00:02.300 < {RESP_92}\n");
    let out = kkt().args(["decode", "--json"]).write_stdin(log).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["kind"], "request");
    assert_eq!(lines[1]["kind"], "response");
    assert_eq!(lines[1]["command"], 0x92);
    assert_eq!(lines[1]["fields"]["result"]["raw"], 15);
}

#[test]
fn a_windows_log_crlf_or_utf16_decodes_the_same() {
    let crlf = format!("12:00:01.100 > {REQ_92}\r\n12:00:02.300 < {RESP_92}\r\n");
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(crlf.encode_utf16().flat_map(u16::to_le_bytes));
    for input in [crlf.clone().into_bytes(), utf16] {
        let out = kkt().args(["decode", "--json"]).write_stdin(input).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let lines: Vec<serde_json::Value> =
            String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 2);
        assert_eq!((lines[0]["kind"].as_str(), lines[1]["kind"].as_str()), (Some("request"), Some("response")));
        assert_eq!(lines[1]["fields"]["result"]["raw"], 15);
    }
    // The human text keeps its Cyrillic (UTF-8 bytes when piped; a Windows console gets them as
    // Unicode), never `?` for a letter.
    let out = kkt().args(["decode"]).write_stdin(crlf).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Выполнить проверку текущего КМ в ОИСМ"), "{text}");
    assert!(!text.contains('?'), "{text}");
}

#[test]
fn several_frames_and_garbage() {
    kkt()
        .args(["decode", "00 FF", "B6290001018CEF", "B62900010429BF"])
        .assert()
        .success()
        .stdout(predicate::str::contains("2 garbage bytes skipped").and(predicate::str::contains("request 0x04")));
}

#[test]
fn device_error_response() {
    kkt()
        .args(["decode", "--response", "--command", "0x21", "B629000201E0BF24"])
        .assert()
        .success()
        .stdout(predicate::str::contains("refused").and(predicate::str::contains("error 0xE0")));
}

#[test]
fn cp866_text_and_unknown_command() {
    // 0xAB is not a command of either document; its TLV 1030 holds cp866 «Тест».
    let mut data = vec![0x06, 0x04, 0x04, 0x00, 0x92, 0xA5, 0xE1, 0xE2];
    let mut frame = Vec::new();
    kkt::protocol::frame::encode(0xAB, &data, &mut frame).unwrap();
    data.clear();
    let out = kkt().args(["decode", "--json", &hex::encode(&frame)]).output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["name"], serde_json::Value::Null);
    assert_eq!(v["tlv"][0]["value"], "Тест");
}

#[test]
fn malformed_frames_say_what_and_where() {
    kkt()
        .args(["decode", "B629000201E0BF25"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("CRC").and(predicate::str::contains("byte 0")));
    kkt()
        .args(["decode", "AA BB B6 29 00 00"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("LEN = 0").and(predicate::str::contains("byte 2")));
    kkt().args(["decode", "B6 29 00 05 30 01"]).assert().code(2).stderr(predicate::str::contains("more bytes needed"));
    kkt().args(["decode", "hello"]).assert().code(2);
    kkt()
        .args(["decode", "--json", "B6 29 0"])
        .assert()
        .code(2)
        .stdout(predicate::str::contains("\"error\"").and(predicate::str::contains("odd number")));
}

/// A 0x30 answer built from a real register's data (a receipt, FD 3, 16.00 RUB).
const RESP_30_RECEIPT: &str = "B629001600030016031C092F03000000ECC57C690140060000006892";

#[test]
fn found_document_0x30_human_and_json() {
    kkt().args(["decode", "--response", "--command", "0x30", RESP_30_RECEIPT]).assert().success().stdout(
        predicate::str::contains("response to 0x30")
            .and(predicate::str::contains("Найти ФД по номеру"))
            .and(predicate::str::contains("document_type: 3"))
            .and(predicate::str::contains("kind: \"receipt\""))
            .and(predicate::str::contains("total: 1600")),
    );
    let out = kkt().args(["decode", "--json", "--response", "--command", "0x30", RESP_30_RECEIPT]).output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["data_error"], serde_json::Value::Null);
    assert_eq!(v["fields"]["document"]["fd_number"], 3);
    assert_eq!(v["fields"]["document"]["datetime"], "2022-03-28T09:47:00");
}

/// The v01.05 example of 0x64 (without the stray 0x64 byte the text prints after «Hello») in a
/// frame.
const REQ_64: &str =
    "B6 29 00 1C 64 3F 9C 07 00 00 00 48 65 6C 6C 6F 3F 9C 0C 00 08 01 31 32 33 34 35 36 37 38 39 30 FB 0E";

#[test]
fn print_buffer_lines_0x64_show_their_fields() {
    let data = hex::decode("3F9C0700000048656C6C6F3F9C0C00080131323334353637383930").unwrap();
    let mut frame = Vec::new();
    kkt::protocol::frame::encode(0x64, &data, &mut frame).unwrap();
    assert_eq!(hex::encode_upper(&frame), REQ_64.replace(' ', ""), "the fixture is a valid frame");
    let out = kkt().args(["decode", "--json", REQ_64]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kind"], "request");
    assert_eq!(v["crc_ok"], true);
    assert!(v["name"].as_str().unwrap().starts_with("Записать в буфер печати форматированную строку символов"));
    assert_eq!(v["error"], serde_json::Value::Null);
    assert_eq!(
        v["fields"]["lines"],
        serde_json::json!([
            {"attributes": 0, "alignment": 0, "text": "Hello"},
            {"attributes": 8, "alignment": 1, "text": "1234567890"},
        ])
    );
    kkt()
        .args(["decode", REQ_64])
        .assert()
        .success()
        .stdout(predicate::str::contains("request 0x64").and(predicate::str::contains("1234567890")));
}
