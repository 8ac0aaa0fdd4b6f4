//! The virtual register through its real TCP interface (`kkt emulator --listen`), driven by a
//! host written on the core codec: a whole business day, each rule's error code, faults, and
//! the state surviving a kill between any two commands.

use crate::support::emulator::*;
use kkt::commands::{info, marking, receipt, report, settings, shift, Request};
use kkt::protocol::frame;
use kkt::protocol::values::{Measure, PlannedStatus, TaxationSystems};
use kkt::protocol::Decimal;

fn check_online() -> marking::CheckMarkOnline {
    marking::CheckMarkOnline {
        planned_status: PlannedStatus::PIECE_SOLD,
        mode: 0,
        quantity: Decimal::integer(1),
        measure: Measure::PIECE,
        fraction: None,
    }
}

#[test]
fn a_whole_business_day_then_the_next() {
    let emu = Emulator::tcp(&[]);
    let st = emu.call(&info::GetStatus).unwrap();
    assert_eq!(st.fn_phase, 3, "registered: fiscal mode");
    assert_eq!(emu.call(&settings::GetFnFormat).unwrap(), settings::FnFormat { ffd: 4, ffd_supported: 4 });
    let first_fd = emu.call(&info::GetFnStatus).unwrap().last_fd_number;

    // The day on one persistent connection, checking the answers that carry data.
    let mut c = emu.connect();
    let day = business_day();
    let mut answers = Vec::new();
    for (code, data) in &day {
        let a = c.raw(*code, data).unwrap_or_else(|e| panic!("command {code:#04X}: error {e:#04X}"));
        answers.push((*code, a));
    }
    let of = |code: u8| answers.iter().filter(move |(c, _)| *c == code).map(|(_, a)| a.clone());
    let opened = <shift::ShiftReport as kkt::commands::Response>::decode(&of(0x22).next().unwrap()).unwrap();
    assert_eq!(opened.shift_number, 1);
    assert_eq!(opened.fd_number, first_fd + 1);
    let local = <marking::CheckMarkLocalResult as kkt::commands::Response>::decode(&of(0x91).next().unwrap()).unwrap();
    assert_eq!((local.result, local.reason), (0, 2), "44-char tail, key FFD0 not in the FN");
    let online =
        <marking::CheckMarkOnlineResult as kkt::commands::Response>::decode(&of(0x92).next().unwrap()).unwrap();
    assert_eq!(online.result.0, 0x0F, "checked, crypto ok, status checked and correct");
    assert_eq!(online.oism_status(), Some(1));
    let tags: Vec<u16> = online.tlv.0.iter().map(|n| n.tag).collect();
    assert_eq!(tags, vec![2114, 2105, 2005, 2109, 2101, 2100]);
    assert_eq!(online.tlv.raw(2101), Some(&b"04640078016372gDDJ2VMOqvdNG"[..]));
    assert_eq!(online.tlv.raw(2100), Some(&[3][..]));
    let receipts: Vec<receipt::ReceiptResult> = answers
        .iter()
        .filter(|(c, _)| matches!(c, 0x24 | 0x26))
        .map(|(_, a)| <receipt::ReceiptResult as kkt::commands::Response>::decode(a).unwrap())
        .collect();
    assert_eq!(receipts.iter().map(|r| r.receipt_number).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
    assert!(receipts.windows(2).all(|w| w[1].fd_number == w[0].fd_number + 1));
    assert!(receipts.iter().all(|r| r.shift_number == 1));
    let signs: std::collections::HashSet<u32> = receipts.iter().map(|r| r.fiscal_sign).collect();
    assert_eq!(signs.len(), 4, "a fiscal sign per document");
    let closed = <shift::ShiftReport as kkt::commands::Response>::decode(&of(0x2A).next().unwrap()).unwrap();
    assert_eq!(closed.shift_number, 1);
    assert_eq!(closed.fd_number, first_fd + 1 + 4 + 1 + 1, "shift open, 4 receipts, settlement report, close");
    drop(c);

    let p = emu.call(&shift::GetShiftParams).unwrap();
    assert_eq!(p, shift::ShiftParams { open: false, shift_number: 1, receipt_number: 4 });

    // The next day: move the register's clock a day on, open shift 2.
    let now = emu.call(&info::GetDateTime).unwrap().datetime;
    let tomorrow = now + chrono::TimeDelta::days(1);
    emu.call(&info::SetDateTime(info::DateTime { datetime: tomorrow })).unwrap();
    assert_eq!(emu.call(&info::GetDateTime).unwrap().datetime.date(), tomorrow.date());
    emu.call(&shift::BeginShiftOpen::default()).unwrap();
    let second = emu.call(&shift::OpenShift).unwrap();
    assert_eq!(second.shift_number, 2);
    let fs = emu.call(&info::GetFnStatus).unwrap();
    assert_eq!(fs.shift_open, 1);
    assert_eq!(fs.last_fd_number, second.fd_number);
    assert_eq!(fs.last_document_datetime.date(), tomorrow.date());
}

/// A register with an open shift and an open receipt.
fn with_receipt(emu: &Emulator) {
    emu.call(&shift::BeginShiftOpen::default()).unwrap();
    emu.call(&shift::OpenShift).unwrap();
    emu.call(&receipt::OpenReceipt::default()).unwrap();
}

fn marked_item_tlv_without(tag: u16) -> Vec<u8> {
    let (_, data) = req(&receipt::MarkedItem::piece("Молоко", 8990, 2, 4, 33, SEED_CODE));
    let list = kkt::commands::TlvList::parse(&data).unwrap();
    kkt::protocol::tlv::encode_list(&list.0.into_iter().filter(|n| n.tag != tag).collect::<Vec<_>>())
}

fn check_and_keep(emu: &Emulator, code: &str) {
    emu.call(&marking::CheckMarkLocal::new(code)).unwrap();
    emu.call(&check_online()).unwrap();
    emu.call(&marking::KeepMarkCheck { keep: true }).unwrap();
}

#[test]
fn every_violation_gets_its_code() {
    let emu = Emulator::tcp(&["--check-table-size", "2"]);
    // Frames and commands.
    let mut bad = Vec::new();
    frame::encode(0x01, &[], &mut bad).unwrap();
    *bad.last_mut().unwrap() ^= 0x55;
    assert_eq!(result_of(&emu.connect().send(&bad)), Err(0x25), "bad CRC");
    assert_eq!(emu.raw(0x11, b"text"), Err(0x26), "unknown command");
    assert_eq!(emu.raw(0x2B, b""), Err(0x26), "a ФФД 1.05 command");
    assert_eq!(emu.raw(0x21, &[1, 1]), Err(0x27), "wrong parameter length");
    assert_eq!(emu.raw(0x24, &[1, 0, 0]), Err(0x27), "0x24 too short");
    // No receipt without an open shift; no open without begin.
    assert_eq!(emu.call(&receipt::OpenReceipt::default()).unwrap_err(), 0x02);
    assert_eq!(emu.call(&shift::OpenShift).unwrap_err(), 0x02);
    with_receipt(&emu);
    assert_eq!(emu.call(&shift::BeginShiftOpen::default()).unwrap_err(), 0x02, "shift already open");
    // Receipt order.
    assert_eq!(
        emu.call(&receipt::FormReceipt { operation: kkt::protocol::values::Operation::SELL, total: 0 }).unwrap_err(),
        0x29,
        "form before payment"
    );
    assert_eq!(emu.call(&receipt::OpenReceipt::default()).unwrap_err(), 0x29, "second receipt");
    // Marked items, Appendix 2 order.
    assert_eq!(emu.call(&check_online()).unwrap_err(), 0xA3, "0x92 before 0x91");
    assert_eq!(emu.call(&marking::KeepMarkCheck { keep: true }).unwrap_err(), 0xA3, "0x94 before 0x91");
    let piece = receipt::MarkedItem::piece("Молоко", 8990, 2, 4, 33, SEED_CODE);
    assert_eq!(emu.call(&piece).unwrap_err(), 0xAE, "0x97 before any check");
    emu.call(&marking::CheckMarkLocal::new(SEED_CODE)).unwrap();
    assert_eq!(emu.call(&marking::CheckMarkLocal::new(SEED_CODE)).unwrap_err(), 0xA3, "second 0x91");
    assert_eq!(emu.call(&piece).unwrap_err(), 0xA3, "0x97 with the check unfinished");
    emu.call(&check_online()).unwrap();
    emu.call(&marking::KeepMarkCheck { keep: true }).unwrap();
    assert_eq!(emu.raw(0x97, &marked_item_tlv_without(2000)), Err(0xC1), "no code (2000)");
    assert_eq!(emu.raw(0x97, &marked_item_tlv_without(2110)), Err(0xC2), "no assigned status (2110)");
    let mut two = piece.clone();
    two.quantity = Decimal::integer(2);
    let (code, data) = {
        // Bypass the client-side check to see the register's answer.
        let mut d = Vec::new();
        let mut ok = piece.clone();
        ok.encode(&mut d).unwrap();
        let list = kkt::commands::TlvList::parse(&d).unwrap();
        let mut nodes = list.0;
        for n in &mut nodes {
            if n.tag == 1023 {
                *n = kkt::protocol::TlvNode::raw(1023, vec![0, 2]);
            }
        }
        ok.quantity = two.quantity;
        (0x97, kkt::protocol::tlv::encode_list(&nodes))
    };
    assert_eq!(emu.raw(code, &data), Err(0xC3), "piece goods with quantity 2");
    emu.call(&piece).unwrap();
    check_and_keep(&emu, SEED_CODE);
    assert_eq!(emu.call(&piece).unwrap_err(), 0xDF, "the same code twice in one receipt");
    // The check table (size 2 here): one saved result left from above, one more fills it.
    check_and_keep(&emu, "0104600439931256215Bd;cj,\u{1d}93dGVz");
    assert_eq!(emu.call(&marking::CheckMarkLocal::new("0104600439931256215Xy;zz,\u{1d}93abcd")).unwrap_err(), 0xA5);
    emu.call(&marking::ClearMarkChecks).unwrap();
    // Items after payment data; payments not equal to the total; non-cash over the total.
    emu.call(&bread()).unwrap();
    emu.call(&cash(100)).unwrap();
    assert_eq!(emu.call(&bread()).unwrap_err(), 0x5A, "item after payment");
    assert_eq!(
        emu.call(&receipt::FormReceipt { operation: kkt::protocol::values::Operation::SELL, total: 8990 + 9100 })
            .unwrap_err(),
        0x39
    );
    emu.raw(0x10, &[]).unwrap();
    emu.call(&receipt::OpenReceipt::default()).unwrap();
    emu.call(&bread()).unwrap();
    emu.call(&receipt::Payment {
        taxation: Some(kkt::protocol::values::Taxation::OSN),
        electronic: Some(10000),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(
        emu.call(&receipt::FormReceipt { operation: kkt::protocol::values::Operation::SELL, total: 9100 }).unwrap_err(),
        0x3A
    );
    emu.raw(0x10, &[]).unwrap();
    // A taxation system the register is not registered for.
    emu.call(&receipt::OpenReceipt::default()).unwrap();
    emu.call(&bread()).unwrap();
    let patent = receipt::Payment {
        taxation: Some(kkt::protocol::values::Taxation::PATENT),
        cash: Some(9100),
        ..Default::default()
    };
    assert_eq!(emu.call(&patent).unwrap_err(), 0x57);
    emu.raw(0x10, &[]).unwrap();
    // A shift longer than 24 hours.
    let now = emu.call(&info::GetDateTime).unwrap().datetime;
    emu.call(&info::SetDateTime(info::DateTime { datetime: now + chrono::TimeDelta::hours(25) })).unwrap();
    assert_eq!(emu.call(&receipt::OpenReceipt::default()).unwrap_err(), 0x16);
    // Closing the FN with the shift open.
    assert_eq!(emu.call(&report::BeginFnClose).unwrap_err(), 0x02);
    emu.call(&shift::BeginShiftClose::default()).unwrap();
    emu.call(&shift::CloseShift).unwrap();
    // Registration of an already registered FN.
    let first = kkt::commands::registration::BeginRegistration { report_type: 0 };
    assert_eq!(emu.call(&first).unwrap_err(), 0x02);
}

#[test]
fn autonomous_mode_refuses_0x92() {
    let emu = Emulator::tcp(&["--autonomous"]);
    with_receipt(&emu);
    let local = emu.call(&marking::CheckMarkLocal::new(SEED_CODE)).unwrap();
    assert_eq!(local.result, 0);
    assert_eq!(emu.call(&check_online()).unwrap_err(), 0xC8);
    let kept = emu.call(&marking::KeepMarkCheck { keep: true }).unwrap();
    assert!(kept.result.autonomous());
    emu.call(&receipt::MarkedItem::piece("Молоко", 8990, 2, 4, 33, SEED_CODE)).unwrap();
}

#[test]
fn oism_scenario_and_activation_gate() {
    let dir = std::env::temp_dir().join(format!("kkt-emu-scn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let scn = dir.join("s.toml");
    std::fs::write(
        &scn,
        r#"
[[codes]]
match = "0104600439931256*"
status = "incorrect"
[[codes]]
match = "04640078016372gDDJ2VMOqvdNG"
status = "unreachable"
"#,
    )
    .unwrap();
    let emu = Emulator::tcp(&["--scenario", scn.to_str().unwrap(), "--activation-code", "ABCDEF0123456789"]);
    emu.call(&shift::BeginShiftOpen::default()).unwrap();
    emu.call(&shift::OpenShift).unwrap();
    emu.call(&receipt::OpenReceipt::default()).unwrap();
    assert_eq!(emu.call(&bread()).unwrap_err(), 0xDD, "ФФД 1.2 commands wait for the code");
    let wrong = settings::EnterActivationCode { code: *b"0000000000000000" };
    assert_eq!(emu.call(&wrong).unwrap_err(), 0xDD);
    let bad_format = settings::EnterActivationCode { code: [0xFF; 16] };
    assert_eq!(emu.call(&bad_format).unwrap_err(), 0xDE);
    emu.call(&settings::EnterActivationCode { code: *b"ABCDEF0123456789" }).unwrap();
    emu.call(&marking::CheckMarkLocal::new("0104600439931256215Bd;cj,\u{1d}93dGVz")).unwrap();
    let r = emu.call(&check_online()).unwrap();
    assert_eq!(r.oism_status(), Some(2), "incorrect by the scenario");
    assert!(!r.result.status_correct() && r.result.status_checked());
    emu.call(&marking::KeepMarkCheck { keep: false }).unwrap();
    emu.call(&marking::CheckMarkLocal::new(SEED_CODE)).unwrap();
    assert_eq!(emu.call(&check_online()).unwrap_err(), 0xCC, "OISM unreachable");
    let kept = emu.call(&marking::KeepMarkCheck { keep: true }).unwrap();
    assert!(!kept.result.status_checked());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn state_survives_a_kill_between_any_two_commands() {
    let dir = std::env::temp_dir().join(format!("kkt-emu-state-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("register.json");
    let _ = std::fs::remove_file(&state);
    let args = ["--state", state.to_str().unwrap()];
    let mut emu = Emulator::tcp(&args);
    let first_fd = emu.call(&info::GetFnStatus).unwrap().last_fd_number;
    for (code, data) in business_day() {
        emu.kill();
        emu = Emulator::tcp(&args);
        emu.raw(code, &data).unwrap_or_else(|e| panic!("after restart, command {code:#04X}: error {e:#04X}"));
    }
    emu.kill();
    let emu = Emulator::tcp(&args);
    let fs = emu.call(&info::GetFnStatus).unwrap();
    assert_eq!(fs.last_fd_number, first_fd + 7);
    assert_eq!(fs.shift_open, 0);
    assert_eq!(emu.call(&shift::GetShiftParams).unwrap().receipt_number, 4);
    drop(emu);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn faults_close_corrupt_and_drop() {
    let dir = std::env::temp_dir().join(format!("kkt-emu-fault-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let scn = dir.join("f.json");
    std::fs::write(
        &scn,
        r#"{"faults": [
            {"command": 1, "action": "close_before"},
            {"command": 32, "action": "close_after"},
            {"command": 4, "action": "corrupt"},
            {"command": 115, "action": "drop", "byte": 0}
        ]}"#,
    )
    .unwrap();
    let emu = Emulator::tcp(&["--scenario", scn.to_str().unwrap()]);
    let mut f = Vec::new();
    frame::encode(0x01, &[], &mut f).unwrap();
    let mut c = emu.connect();
    std::io::Write::write_all(&mut c.0, &f).unwrap();
    let mut rest = Vec::new();
    assert_eq!(std::io::Read::read_to_end(&mut c.0, &mut rest).unwrap(), 0, "closed without an answer");
    assert!(emu.call(&info::GetStatus).is_ok(), "the fault fires once");
    // close_after: 0x20 runs but is not answered.
    let mut f = Vec::new();
    frame::encode(0x20, &[], &mut f).unwrap();
    let mut c = emu.connect();
    std::io::Write::write_all(&mut c.0, &f).unwrap();
    assert_eq!(std::io::Read::read_to_end(&mut c.0, &mut rest).unwrap(), 0);
    // corrupt: the last byte flipped, so the CRC no longer matches; the next 0x04 is clean.
    let mut f = Vec::new();
    frame::encode(0x04, &[], &mut f).unwrap();
    let mut c = emu.connect();
    std::io::Write::write_all(&mut c.0, &f).unwrap();
    c.0.shutdown(std::net::Shutdown::Write).unwrap();
    let mut resp = Vec::new();
    std::io::Read::read_to_end(&mut c.0, &mut resp).unwrap();
    assert!(matches!(frame::parse(&resp), frame::Parsed::Invalid { error: frame::FrameError::BadCrc { .. }, .. }));
    assert_eq!(emu.call(&info::GetModel).unwrap().text, "Terminal-FA");
    // drop: the first byte (B6) is missing, so no frame can be read from what comes.
    let mut f = Vec::new();
    frame::encode(0x73, &[], &mut f).unwrap();
    let mut c = emu.connect();
    std::io::Write::write_all(&mut c.0, &f).unwrap();
    c.0.shutdown(std::net::Shutdown::Write).unwrap();
    let mut resp = Vec::new();
    std::io::Read::read_to_end(&mut c.0, &mut resp).unwrap();
    assert_eq!(resp[0], 0x29, "B6 dropped");
    assert!(matches!(frame::parse(&resp), frame::Parsed::Incomplete { .. }));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn registration_from_factory_fresh_then_fn_close() {
    use kkt::commands::registration::{BeginRegistration, FormRegistration, RegistrationData};
    use kkt::protocol::values::{OperatingModes, UsageConditions};
    let emu = Emulator::tcp(&["--factory-fresh"]);
    assert_eq!(emu.call(&info::GetStatus).unwrap().fn_phase, 1, "ready for registration");
    assert_eq!(emu.call(&settings::GetFnFormat).unwrap().ffd, 0);
    assert_eq!(emu.call(&shift::BeginShiftOpen::default()).unwrap_err(), 0x02, "no shift before registration");
    assert_eq!(emu.call(&BeginRegistration { report_type: 2 }).unwrap_err(), 0x02, "re-registration of a fresh FN");
    let data = RegistrationData {
        user_name: "ООО Ромашка".into(),
        address: "Москва, Тверская, 1".into(),
        place: "Магазин".into(),
        cashier: "Петров П.П.".into(),
        ofd_inn: Some("7704358518".into()),
        usage: UsageConditions::MARKING,
        modes: OperatingModes::ENCRYPTION,
        ..Default::default()
    };
    let form = FormRegistration {
        inn: "7806197274".into(),
        registration_number: "0000000001002937".into(),
        taxation: TaxationSystems::GENERAL,
        reasons: None,
    };
    // ФФД 1.2 with marking needs the OISM and key-update hosts first.
    emu.call(&BeginRegistration { report_type: 0 }).unwrap();
    emu.call(&data).unwrap();
    assert_eq!(emu.call(&form).unwrap_err(), 0x32);
    emu.raw(0x10, &[]).unwrap();
    emu.call(&settings::SetOismHost(settings::OismHost::new("127.0.0.1", 21701, 30))).unwrap();
    emu.call(&settings::SetKeyUpdateHost(settings::KeyUpdateHost::new("127.0.0.1", 31101))).unwrap();
    assert_eq!(emu.call(&settings::GetOismHost).unwrap(), settings::OismHost::new("127.0.0.1", 21701, 30));
    assert_eq!(emu.call(&form).unwrap_err(), 0x02, "0xE3 without 0xE1");
    emu.call(&BeginRegistration { report_type: 0 }).unwrap();
    assert_eq!(emu.call(&form).unwrap_err(), 0x32, "0xE3 without the 0xE2 data");
    emu.call(&data).unwrap();
    let done = emu.call(&form).unwrap();
    assert_eq!(done.fd_number, 1);
    let reg = emu.call(&info::GetRegistration).unwrap();
    assert_eq!(
        (reg.inn.as_str(), reg.registration_number.as_str(), reg.taxation.bits()),
        ("7806197274", "0000000001002937", 1)
    );
    assert_eq!(emu.call(&settings::GetFnFormat).unwrap().ffd, 4);
    let found = emu.call(&kkt::commands::archive::FindDocument { fd_number: 1 }).unwrap();
    assert_eq!(found.document.document_type(), 1);
    assert_eq!(found.document.header().unwrap().fiscal_sign, done.fiscal_sign);
    // Close the FN: 0x14, 0x17 (the captured data), 0x15.
    emu.call(&report::BeginFnClose).unwrap();
    let data_0x17 =
        hex::decode("FD03140088A2A0ADAEA22088A2A0AD2088A2A0ADAEA2A8E7B3040C00202020202020202020202020").unwrap();
    emu.raw(0x17, &data_0x17).unwrap();
    let closed = emu.call(&report::FormFnClose).unwrap();
    assert_eq!(closed.fd_number, 2);
    assert_eq!(emu.call(&info::GetStatus).unwrap().fn_phase, 7, "post-fiscal");
    assert_eq!(emu.call(&shift::BeginShiftOpen::default()).unwrap_err(), 0xF5, "the FN is closed");
    emu.call(&report::BeginSettlementReport).unwrap();
    assert_eq!(emu.call(&report::FormSettlementReport).unwrap().fd_number, 3, "reports still possible");
}

#[test]
fn archive_cash_and_information_commands() {
    use kkt::commands::{archive, cash};
    let emu = Emulator::tcp(&[]);
    let mut c = emu.connect();
    for (code, data) in business_day() {
        c.raw(code, &data).unwrap();
    }
    drop(c);
    let last = emu.call(&info::GetFnStatus).unwrap().last_fd_number;
    // The last receipt (the correction) comes before the settlement report and the shift close.
    let found = emu.call(&archive::FindDocument { fd_number: last - 2 }).unwrap();
    match found.document {
        archive::ArchiveDocument::CorrectionReceipt(r) => assert_eq!((r.operation.code(), r.total), (1, 9100)),
        other => panic!("not a correction receipt: {other:?}"),
    }
    let tlv = emu.call(&archive::ReadDocumentAsTlv { fd_number: last - 2 }).unwrap();
    assert_eq!(tlv.tlv.raw(1040), Some(&(last - 2).to_le_bytes()[..]));
    assert_eq!(tlv.tlv.raw(1054), Some(&[1][..]));
    assert_eq!(emu.call(&archive::FindDocument { fd_number: last + 1 }).unwrap_err(), 0x08);
    // Cash: the day's cash receipts: +9100, -9100 (return), +9100 (correction).
    assert_eq!(emu.call(&cash::GetCashTotals).unwrap(), cash::CashTotals { cash: 9100, electronic: 18090 });
    assert_eq!(emu.call(&cash::CashIn { amount: 500 }).unwrap_err(), 0x43, "cash in needs an open shift");
    emu.call(&shift::BeginShiftOpen::default()).unwrap();
    emu.call(&shift::OpenShift).unwrap();
    emu.call(&cash::CashIn { amount: 500 }).unwrap();
    assert_eq!(emu.call(&cash::CashOut { amount: 10_000 }).unwrap_err(), 0x42, "more than the drawer holds");
    emu.call(&cash::CashOut { amount: 9600 }).unwrap();
    assert_eq!(emu.call(&cash::GetCashTotals).unwrap(), cash::CashTotals { cash: 0, electronic: 0 });
    // Information commands.
    assert_eq!(emu.call(&info::GetSerial).unwrap().serial, "0000000001");
    assert_eq!(emu.call(&info::GetFnSerial).unwrap().text, "9999078900000001");
    assert!(!emu.call(&info::GetFirmwareVersion).unwrap().text.is_empty());
    assert!(emu.call(&info::GetFnValidity).unwrap().valid_until > chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap());
    assert!(emu.call(&info::GetFnErrors).is_ok());
    assert!(emu.call(&info::GetConfigVersion).is_ok());
    assert_eq!(emu.call(&marking::GetFnMemory).unwrap().notifications_percent, Some(0));
    assert_eq!(emu.call(&marking::GetNotificationState).unwrap().queue, 0);
    let ms = emu.call(&marking::GetMarkingStatus).unwrap();
    assert_eq!((ms.check_state, ms.kept_results), (1, 0));
    assert!(!emu.call(&settings::GetServiceParams).unwrap().text.is_empty());
}
