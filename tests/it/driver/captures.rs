//! Every frame of the shared captures (fixtures/captures.tsv): decoded, its meaning checked
//! against captures.md, and re-encoded byte for byte.

use kkt::commands::{info, marking, receipt, report, shift, Request, Response};
use kkt::describe::{describe, Direction};
use kkt::protocol::frame::{self, Parsed};
use kkt::protocol::{DeviceError, ResponseError};
use serde_json::json;

struct Capture {
    name: String,
    kind: Direction,
    command: u8,
    bytes: Vec<u8>,
}

fn captures() -> Vec<Capture> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/captures.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("name\t") && !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            Capture {
                name: c[0].to_string(),
                kind: if c[1] == "request" { Direction::Request } else { Direction::Response },
                command: u8::from_str_radix(c[2].trim_start_matches("0x"), 16).unwrap(),
                bytes: hex::decode(c[3].replace(' ', "")).unwrap(),
            }
        })
        .collect()
}

#[test]
fn every_capture_decodes_and_reencodes_byte_for_byte() {
    let all = captures();
    assert_eq!(all.len(), 28, "captures.md has 28 frames");
    for c in &all {
        let Parsed::Frame { frame, skipped, consumed } = frame::parse(&c.bytes) else {
            panic!("{}: not a frame", c.name)
        };
        assert_eq!((skipped, consumed), (0, c.bytes.len()), "{}", c.name);
        assert_eq!(frame.to_bytes().unwrap(), c.bytes, "{}: re-encoding differs", c.name);
        if c.kind == Direction::Request {
            assert_eq!(frame.code, c.command, "{}", c.name);
        }
        let d = describe(frame, c.kind, Some(c.command), 0);
        assert!(d.data_error.is_none(), "{}: {:?}", c.name, d.data_error);
        // Typed layouts re-encode to the same DATA.
        if let Some(Ok(_)) = kkt::commands::describe_request(frame.code, frame.data) {
            assert_eq!(c.kind, Direction::Request);
        }
    }
}

fn frame_of(name: &str) -> (u8, Vec<u8>) {
    let c = captures().into_iter().find(|c| c.name == name).unwrap();
    let Parsed::Frame { frame, .. } = frame::parse(&c.bytes) else { panic!() };
    (frame.code, frame.data.to_vec())
}

fn json_of(name: &str) -> serde_json::Value {
    let c = captures().into_iter().find(|c| c.name == name).unwrap();
    let Parsed::Frame { frame, .. } = frame::parse(&c.bytes) else { panic!() };
    serde_json::to_value(describe(frame, c.kind, Some(c.command), 0)).unwrap()
}

fn typed_roundtrip<T: Response + PartialEq + std::fmt::Debug>(name: &str) -> T {
    let (code, data) = frame_of(name);
    assert_eq!(code, 0, "{name}: RESULT 0");
    let v = T::decode(&data).unwrap();
    let mut out = Vec::new();
    v.encode(&mut out).unwrap();
    assert_eq!(out, data, "{name}: typed re-encoding differs");
    v
}

#[test]
fn check_mark_request_0x92() {
    let (code, data) = frame_of("seed004_0x92_request");
    assert_eq!(code, 0x92);
    let r = marking::CheckMarkOnline::decode(&data).unwrap();
    assert_eq!(r.planned_status, 1);
    assert_eq!(r.mode, 0);
    assert_eq!(r.quantity.to_string(), "0");
    assert_eq!(r.measure, 0);
    assert_eq!(r.fraction, Some((0, 0)));
    let mut out = Vec::new();
    r.encode(&mut out).unwrap();
    assert_eq!(out, data);
}

#[test]
fn check_mark_response_0x92() {
    let r: marking::CheckMarkOnlineResult = typed_roundtrip("seed004_0x92_response");
    assert_eq!(r.result.0, 0x0F);
    assert!(r.result.checked() && r.result.crypto_ok() && r.result.status_checked() && r.result.status_correct());
    assert!(!r.result.autonomous());
    assert_eq!(r.oism_status(), Some(1));
    let j = json_of("seed004_0x92_response");
    assert_eq!(j["kind"], "response");
    assert_eq!(j["code"], 0);
    assert_eq!(j["crc_ok"], true);
    assert_eq!(j["error"], serde_json::Value::Null);
    assert_eq!(j["fields"]["result"]["raw"], 15);
    assert_eq!(j["fields"]["result"]["status_correct"], true);
    let tlv = j["tlv"].as_array().unwrap();
    let tags: Vec<u64> = tlv.iter().map(|t| t["tag"].as_u64().unwrap()).collect();
    assert_eq!(tags, vec![2114, 2105, 2005, 2109, 2101, 2100]);
    assert_eq!(tlv[0]["value"], "2021-09-29T09:13:28");
    assert_eq!(tlv[1]["value"], 0);
    assert_eq!(tlv[2]["value"], 0x0F);
    assert_eq!(tlv[3]["value"], 1);
    assert_eq!(tlv[4]["value"], "04640078016372gDDJ2VMOqvdNG");
    assert_eq!(tlv[5]["value"], 3);
}

#[test]
fn find_fd_request_0x30() {
    let (code, data) = frame_of("v0105_0x30_request");
    assert_eq!((code, data), (0x30, vec![1, 0, 0, 0]));
}

#[test]
fn status_0x01() {
    let s: info::Status = typed_roundtrip("kitpos_status_response");
    assert_eq!(s.serial, "550101006105");
    assert_eq!(s.datetime.to_string(), "2023-01-21 18:01:00");
    assert_eq!((s.critical_errors, s.printer_status, s.fn_present, s.fn_phase.code()), (0, 0, 1, 3));
    assert_eq!(s.extra, vec![0], "one trailing byte more than v01.05 documents");
}

#[test]
fn model_0x04() {
    let m: info::Text = typed_roundtrip("kitpos_model_response");
    assert_eq!(m.text, "Terminal-FA");
}

#[test]
fn fn_status_0x08() {
    let s: info::FnStatus = typed_roundtrip("kitpos_fn_status_response");
    assert_eq!(s.phase, 3);
    assert_eq!(s.shift_open, 1);
    assert_eq!(s.warnings, 8);
    assert_eq!(s.last_document_datetime.to_string(), "2022-04-18 12:41:00");
    assert_eq!(s.fn_number, "9999078902003867");
    assert_eq!(s.last_fd_number, 10);
}

#[test]
fn registration_0x0a() {
    let r: info::Registration = typed_roundtrip("kitpos_registration_response");
    assert_eq!(r.registration_number, "0000000000038045");
    assert_eq!(r.inn, "7806197274");
    assert_eq!((r.modes.bits(), r.taxation.bits(), r.agent.bits()), (0x0C, 0x04, 0x40));
}

#[test]
fn ofd_status_0x50() {
    let s: info::OfdExchangeStatus = typed_roundtrip("kitpos_ofd_status_response");
    assert_eq!((s.status, s.read_state, s.queue_len, s.first_document), (2, 0, 10, 1));
    assert_eq!(s.first_document_datetime.to_string(), "2022-03-28 09:41:00");
}

#[test]
fn datetime_0x72_0x73() {
    let (code, data) = frame_of("kitpos_set_datetime_response");
    assert_eq!((code, data.len()), (0, 0));
    let d: info::DateTime = typed_roundtrip("kitpos_get_datetime_response");
    assert_eq!(d.datetime.to_string(), "2023-01-24 14:46:00");
    let j = json_of("kitpos_get_datetime_response");
    // The answer is one TLV (tag 30000): issue 17 shows the tags of every TLV body.
    assert_eq!(j["tlv"][0]["tag"], 30000, "{j}");
    assert_eq!(j["tlv"][0]["value"], "2023-01-24T14:46:00", "{j}");
    assert_eq!(j["fields"], json!({"datetime": "2023-01-24T14:46:00"}));
}

#[test]
fn error_responses() {
    for (name, code) in [("kitpos_error_e0_response", 0xE0), ("kitpos_error_02_response", 0x02)] {
        let c = captures().into_iter().find(|c| c.name == name).unwrap();
        let Parsed::Frame { frame, .. } = frame::parse(&c.bytes) else { panic!() };
        assert_eq!(frame.response(), Err(ResponseError::Device(DeviceError::new(code))));
        let j = json_of(name);
        assert_eq!(j["error"]["code"], code);
        assert!(!j["error"]["text_ru"].as_str().unwrap().is_empty());
        assert!(!j["error"]["text_en"].as_str().unwrap().is_empty());
    }
}

#[test]
fn requests_without_data() {
    for (name, code, data) in [
        ("kitpos_status_request", 0x01, &[][..]),
        ("kitpos_model_request", 0x04, &[]),
        ("kitpos_fn_status_request", 0x08, &[]),
        ("kitpos_registration_request", 0x0A, &[]),
        ("kitpos_cancel_request", 0x10, &[]),
        ("kitpos_shift_params_request", 0x20, &[]),
        ("kitpos_begin_shift_open_request", 0x21, &[1]),
        ("kitpos_open_shift_request", 0x22, &[]),
        ("kitpos_begin_shift_close_request", 0x29, &[1]),
        ("kitpos_close_shift_request", 0x2A, &[]),
        ("kitpos_ofd_status_request", 0x50, &[]),
        ("kitpos_get_datetime_request", 0x73, &[]),
        ("kitpos_begin_fn_close_request", 0x14, &[]),
        ("kitpos_fn_close_request", 0x15, &[]),
    ] {
        assert_eq!(frame_of(name), (code, data.to_vec()), "{name}");
        let j = json_of(name);
        assert_eq!(j["kind"], "request");
        assert!(j["name"].as_str().is_some(), "{name}: command has a name");
    }
    assert!(json_of("kitpos_fn_close_request")["name"].as_str().unwrap().contains("Сформировать отчет о закрытии ФН"));
}

fn request_roundtrip<T: Request + std::fmt::Debug>(name: &str) -> T {
    let (code, data) = frame_of(name);
    assert_eq!(code, T::CODE, "{name}");
    let v = T::decode(&data).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut out = Vec::new();
    v.encode(&mut out).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(hex::encode_upper(&out), hex::encode_upper(&data), "{name}: typed re-encoding differs");
    v
}

#[test]
fn fn_close_data_0x17() {
    let d: report::FnCloseData = request_roundtrip("kitpos_fn_close_data_request");
    assert_eq!(d.0.cashier.as_deref(), Some("Иванов Иван Иванович"));
    assert_eq!(d.0.cashier_inn.as_deref(), Some("            "));
    assert!(d.0.extra.0.is_empty());
    let j = json_of("kitpos_fn_close_data_request");
    assert_eq!(j["fields"]["cashier"], "Иванов Иван Иванович");
    assert_eq!(j["data_error"], serde_json::Value::Null);
}

#[test]
fn shift_and_fn_close_requests() {
    assert_eq!(request_roundtrip::<shift::BeginShiftOpen>("kitpos_begin_shift_open_request").no_print, Some(true));
    assert_eq!(request_roundtrip::<shift::BeginShiftClose>("kitpos_begin_shift_close_request").no_print, Some(true));
    request_roundtrip::<shift::OpenShift>("kitpos_open_shift_request");
    request_roundtrip::<shift::CloseShift>("kitpos_close_shift_request");
    request_roundtrip::<shift::GetShiftParams>("kitpos_shift_params_request");
    request_roundtrip::<report::BeginFnClose>("kitpos_begin_fn_close_request");
    request_roundtrip::<report::FormFnClose>("kitpos_fn_close_request");
}

#[test]
fn item_0x96_from_registrator() {
    let item: receipt::UnmarkedItem = request_roundtrip("registrator_0x96_request");
    assert_eq!(item.name, "Сок апельсиновый");
    assert_eq!(item.price, 15000);
    assert_eq!(item.quantity.to_string(), "1");
    assert_eq!((item.payment_method.code(), item.item_type.code(), item.vat.code()), (4, 1, 1));
    assert_eq!(item.measure, None);
    let d = &item.details;
    for (name, v) in [
        ("barcode", &item.barcode),
        ("customs", &d.customs_declaration),
        ("country", &d.country),
        ("additional", &d.additional),
        ("transfer operator", &d.agent.transfer_operator_name),
        ("transfer address", &d.agent.transfer_operator_address),
        ("supplier name", &d.agent.supplier_name),
    ] {
        assert_eq!(v.as_deref(), Some(""), "zero-length {name}");
    }
    assert_eq!(d.agent.transfer_operator_inns, vec![String::new()]);
    assert_eq!(d.agent.supplier_phones, vec![String::new()]);
    assert_eq!(d.agent.transfer_operator_phones, vec!["9209999999"]);
    assert_eq!(d.agent.operation.as_deref(), Some("перевод денежных средств"));
    assert_eq!(d.agent.agent_phones, vec!["8888888888"]);
    assert_eq!(d.agent.acceptance_operator_phones, vec!["9999999999"]);
    assert_eq!(d.agent.supplier_inn.as_deref(), Some("7740000076  "));
    assert_eq!((d.excise, d.agent.agent_type.map(|a| a.code())), (Some(0), Some(0)));
    assert_eq!(d.industry.len(), 1);
    assert_eq!(d.industry[0].authority, 0, "1262 is one BYTE");
    assert!(item.extra.0.is_empty(), "every tag typed");
    let j = json_of("registrator_0x96_request");
    assert_eq!(j["fields"]["name"], "Сок апельсиновый");
    assert_eq!(j["fields"]["price"], 15000);
    assert_eq!(j["fields"]["industry"][0]["authority"], 0);
}
