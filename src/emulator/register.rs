//! The register itself, sans-IO: a request frame and the time in, the response frame out.

use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::handlers::{self, Access, Answer, Cx};
use super::scenario::Scenario;
use super::state::*;
use crate::protocol::err;
use crate::protocol::frame::{self, FrameRef, Parsed, RESULT_ERROR, RESULT_OK};
use crate::protocol::types::Decimal;
use crate::session::{SessionState, Violation};

/// How the register starts and behaves (the state file, once written, wins over the first
/// group).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmulatorOptions {
    /// Start with a factory-fresh FN (not registered) instead of a registered one.
    pub factory_fresh: bool,
    /// Register (the default registration) in autonomous mode.
    pub autonomous: bool,
    /// Register with marked goods allowed (default true).
    pub marking: bool,
    /// Register serial number.
    pub serial: String,
    /// FN number.
    pub fn_number: String,
    /// The activation code (16 characters) the ФФД 1.2 commands wait for; `None` = no gate.
    pub activation_code: Option<String>,
    /// Size of the FN's table of saved check results (0xA5 when full).
    pub check_table_size: usize,
    /// Keep sale notifications queued (as if the OISM sent no receipts) instead of
    /// acknowledging them at once.
    pub hold_notifications: bool,
    /// Most items in one receipt (0x3D past it).
    pub max_items: usize,
    /// Register (the default registration) for vending, delivery or one-to-many settlements:
    /// every receipt then carries tags 1009, 1187 and 1036 (0xC9 without them).
    pub settlement_modes: SettlementModes,
    /// Send nothing to the OFD (as without a network): documents stay unconfirmed (0x50, 0x32).
    pub hold_ofd: bool,
    /// The OISM model, timing and faults.
    pub scenario: Scenario,
}

impl Default for EmulatorOptions {
    fn default() -> Self {
        Self {
            factory_fresh: false,
            autonomous: false,
            marking: true,
            serial: "0000000001  ".trim_end().to_string(),
            fn_number: "9999078900000001".into(),
            activation_code: None,
            check_table_size: 16,
            hold_notifications: false,
            max_items: 100,
            settlement_modes: SettlementModes::default(),
            hold_ofd: false,
            scenario: Scenario::default(),
        }
    }
}

/// A response and how long the register would take to give it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The response frame.
    pub bytes: Vec<u8>,
    /// The simulated time (zero unless the scenario asks for realistic timing).
    pub delay: Duration,
}

/// The commands the register answers, gates and refuses (derived from its dispatch table).
pub use super::handlers::{COMMANDS, GATED, REFUSED_LEGACY};

/// Item total: price × quantity in kopecks, rounded half up.
pub fn item_sum(price: u64, quantity: Decimal) -> u64 {
    let scale = 10u128.pow(u32::from(quantity.scale.min(19)));
    let v = (u128::from(price) * u128::from(quantity.mantissa) + scale / 2) / scale;
    u64::try_from(v).unwrap_or(u64::MAX)
}

/// The virtual register: state, options, and the rules.
#[derive(Debug, Clone)]
pub struct Register {
    pub(super) state: RegisterState,
    pub(super) options: EmulatorOptions,
    /// Fiscal documents printed since [`Register::take_paper`] (their text; not part of the
    /// state file).
    pub(super) paper: Vec<String>,
}

fn epoch() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2020, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default()
}

fn default_registration(o: &EmulatorOptions) -> Registration {
    use crate::protocol::values::{OperatingModes, UsageConditions};
    let m = o.settlement_modes;
    let mut modes = if o.autonomous { OperatingModes::AUTONOMOUS } else { OperatingModes::ENCRYPTION };
    if m.automatic() {
        modes |= OperatingModes::AUTOMATIC;
    }
    Registration {
        inn: "7806197274  ".into(),
        registration_number: "0000000000038045    ".into(),
        taxation: 0b0000_0011,
        modes: modes.bits(),
        usage: if o.marking { UsageConditions::MARKING } else { UsageConditions::EMPTY }.bits(),
        user_name: "ООО \"Виртуальная касса\"".into(),
        // One-to-many: registered without address, place and machine number; delivery: without
        // the place; a vending machine: with all three.
        address: if m.one_to_many { String::new() } else { "г. Москва, ул. Тестовая, д. 1".into() },
        place: if m.one_to_many || m.delivery { String::new() } else { "Торговый зал".into() },
        ofd_inn: "7704358518  ".into(),
        automat_number: if m.automat && !m.one_to_many { "00000042".into() } else { String::new() },
        settlement_modes: m,
    }
}

impl Register {
    /// A register as the options say (registered by default, with one registration report
    /// formed at `now`).
    pub fn new(options: EmulatorOptions, now: NaiveDateTime) -> Self {
        let key = hex::encode_upper(Sha256::digest(format!("kkt-emulator:{}:{}", options.serial, options.fn_number)));
        let mut state = RegisterState {
            serial: options.serial.clone(),
            fn_number: options.fn_number.clone(),
            key: key[..32].to_string(),
            clock_offset_s: 0,
            phase: FnPhase::Setup,
            ffd: 0,
            registration: None,
            registration_draft: None,
            session: SessionState::new(),
            shift_number: 0,
            receipts_in_shift: 0,
            last_fd: 0,
            last_document_at: epoch(),
            receipt: None,
            mark: None,
            check_table: Vec::new(),
            notifications: Vec::new(),
            last_notification: 0,
            documents: Vec::new(),
            cash: 0,
            oism_host: (String::new(), 0, 0),
            ofd: super::state::default_ofd(),
            key_host: (String::new(), 0),
            activated: false,
            electronic: 0,
            printer: Printer::default(),
            tlv_cursor: None,
            network: Default::default(),
            print_settings: Default::default(),
            control: Default::default(),
        };
        if !options.factory_fresh {
            state.oism_host = ("82.202.183.18".into(), 21701, 30);
            state.key_host = ("test.okp.atlas-kard.ru".into(), 31101);
            let reg = default_registration(&options);
            state.session.set_autonomous(reg.autonomous());
            state.registration = Some(reg);
            state.phase = FnPhase::Fiscal;
            state.ffd = 4;
        }
        let mut r = Register { state, options, paper: Vec::new() };
        if !r.options.factory_fresh {
            r.add_document(doc_type::REGISTRATION, now, 0, 0);
            let tlv = r.registration_tlv();
            if let Some(d) = r.state.documents.last_mut() {
                d.tlv = tlv;
            }
        }
        r
    }

    /// A register with a saved state.
    pub fn from_state(state: RegisterState, options: EmulatorOptions) -> Self {
        Register { state, options, paper: Vec::new() }
    }

    /// The state (what the `--state` file holds).
    pub fn state(&self) -> &RegisterState {
        &self.state
    }

    /// The options.
    pub fn options(&self) -> &EmulatorOptions {
        &self.options
    }

    /// The device's clock at host time `now`.
    pub fn device_time(&self, now: NaiveDateTime) -> NaiveDateTime {
        now + TimeDelta::seconds(self.state.clock_offset_s)
    }

    /// Answers raw request bytes: a frame that does not parse (bad CRC, bad LEN, garbage,
    /// incomplete) is answered 0x25.
    pub fn handle_bytes(&mut self, bytes: &[u8], now: NaiveDateTime) -> Reply {
        match frame::parse(bytes) {
            Parsed::Frame { frame, skipped: 0, consumed } if consumed == bytes.len() => self.handle_timed(frame, now),
            _ => Reply { bytes: error_frame(err::BAD_FRAME), delay: Duration::ZERO },
        }
    }

    /// Answers one request frame (response frame bytes).
    pub fn handle(&mut self, request: FrameRef<'_>, now: NaiveDateTime) -> Vec<u8> {
        self.handle_timed(request, now).bytes
    }

    /// Answers one request frame, with the time a real register would take.
    pub fn handle_timed(&mut self, request: FrameRef<'_>, now: NaiveDateTime) -> Reply {
        let t = self.device_time(now);
        let mut extra = Duration::ZERO;
        let answer = self.execute(request.code, request.data, t, &mut extra);
        let bytes = match &answer {
            Ok(data) => {
                let mut out = Vec::with_capacity(data.len() + 7);
                if frame::encode(RESULT_OK, data, &mut out).is_err() {
                    error_frame(err::BAD_PARAMETER)
                } else {
                    out
                }
            }
            Err(code) => error_frame(*code),
        };
        let delay = match &self.options.scenario.timing {
            None => Duration::ZERO,
            Some(timing) => {
                let wire = request.data.len() + frame::OVERHEAD + 1 + bytes.len();
                timing.line(wire) + timing.latency(request.code) + extra
            }
        };
        tracing::debug!(command = format_args!("{:#04X}", request.code), result = ?answer.as_ref().map(|d| d.len()).map_err(|c| format!("{c:#04X}")), "emulator");
        Reply { bytes, delay }
    }

    pub(super) fn timing(&self) -> Option<&super::scenario::Timing> {
        self.options.scenario.timing.as_ref()
    }

    pub(super) fn autonomous(&self) -> bool {
        self.state.registration.as_ref().is_some_and(Registration::autonomous)
    }

    pub(super) fn need_fiscal(&self) -> Result<(), u8> {
        match self.state.phase {
            FnPhase::Fiscal => Ok(()),
            FnPhase::Setup => Err(err::WRONG_FN_STATE),
            FnPhase::PostFiscal => Err(err::FN_CLOSED),
        }
    }

    pub(super) fn need_marking(&self) -> Result<(), u8> {
        self.need_fiscal()?;
        if self.state.registration.as_ref().is_some_and(Registration::marking) {
            Ok(())
        } else {
            Err(err::MARKING_NOT_ALLOWED)
        }
    }

    /// The session after `step` (the order rules), or the rule's error code; the session
    /// itself moves on only when the handler stores the result.
    pub(super) fn order(
        &self,
        step: impl FnOnce(&mut SessionState) -> Result<(), Violation>,
    ) -> Result<SessionState, u8> {
        let mut next = self.state.session.clone();
        step(&mut next).map_err(|v| {
            tracing::debug!("order: {v}");
            v.code
        })?;
        Ok(next)
    }

    pub(super) fn fiscal_sign(&self, number: u32, doc_type: u8, t: NaiveDateTime, content: &[u8]) -> u32 {
        let mut h = Sha256::new();
        h.update(self.state.key.as_bytes());
        h.update(number.to_le_bytes());
        h.update([doc_type]);
        h.update(t.format("%Y%m%d%H%M").to_string().as_bytes());
        h.update(content);
        let d = h.finalize();
        u32::from_le_bytes([d[0], d[1], d[2], d[3]])
    }

    /// Forms a fiscal document of type `doc_type` ([`doc_type`]) in the archive.
    pub(super) fn add_document(&mut self, doc_type: u8, t: NaiveDateTime, operation: u8, total: u64) -> DocumentRecord {
        let number = self.state.last_fd + 1;
        let content = format!("{}:{}:{}:{}", self.state.shift_number, self.state.receipts_in_shift, operation, total);
        let rec = DocumentRecord {
            number,
            doc_type,
            datetime: t,
            fiscal_sign: self.fiscal_sign(number, doc_type, t, content.as_bytes()),
            shift: self.state.shift_number,
            receipt: if doc_type::is_receipt(doc_type) { self.state.receipts_in_shift } else { 0 },
            operation,
            total,
            reason: 0,
            tlv: Vec::new(),
            ofd_confirmed: !self.options.hold_ofd,
        };
        self.state.last_fd = number;
        self.state.last_document_at = t;
        self.state.documents.push(rec.clone());
        rec
    }

    /// The registration report's TLVs as the FN keeps them (0x3B, 0x3A): the user, the
    /// settlement address, place and vending machine number, the INN, the registration number,
    /// the taxation systems and the operating modes.
    pub(super) fn registration_tlv(&self) -> Vec<u8> {
        use crate::protocol::{tag, TlvWriter};
        let Some(reg) = &self.state.registration else { return Vec::new() };
        let mut w = TlvWriter::new();
        let built = (|| {
            w.string(tag::USER_NAME, &reg.user_name)?
                .string(tag::USER_INN, &reg.inn)?
                .string(tag::REGISTRATION_NUMBER, &reg.registration_number)?
                .string(tag::SETTLEMENT_ADDRESS, &reg.address)?
                .string(tag::SETTLEMENT_PLACE, &reg.place)?;
            if !reg.automat_number.is_empty() {
                w.string(tag::VENDING_MACHINE_NUMBER, &reg.automat_number)?;
            }
            w.byte(tag::TAXATION_SYSTEMS, reg.taxation)?
                .byte(tag::AUTOMATIC_MODE_FLAG, u8::from(reg.settlement_modes.automatic()))?
                .byte(tag::SERVICE_OPERATING_MODE, reg.modes)?
                .byte(tag::SERVICE_USAGE_CONDITIONS, reg.usage)?;
            Ok::<_, crate::protocol::tlv::TagValueError>(())
        })();
        if built.is_err() {
            return Vec::new();
        }
        w.into_bytes()
    }

    /// The text of what was printed since the last call: the fiscal documents, and the lines,
    /// QR codes, barcodes and cuts of the free printing after `printed_before` (a value of
    /// `printer.printed_total`).
    pub fn take_paper(&mut self, printed_before: u64) -> Vec<String> {
        let mut out = std::mem::take(&mut self.paper);
        out.extend(self.state.printer.since(printed_before));
        out
    }

    pub(super) fn check_clock(&self, t: NaiveDateTime) -> Result<(), u8> {
        if t < self.state.last_document_at {
            Err(err::BAD_DATETIME)
        } else {
            Ok(())
        }
    }

    pub(super) fn registrations_done(&self) -> u8 {
        self.state.documents.iter().filter(|d| d.doc_type == doc_type::REREGISTRATION).count().min(255) as u8
    }

    /// The registration and re-registration reports, in order (0x3B numbers them from 1).
    pub(super) fn registration_reports(&self) -> Vec<&DocumentRecord> {
        self.state.documents.iter().filter(|d| doc_type::is_registration(d.doc_type)).collect()
    }

    pub(super) fn notification_percent(&self) -> u8 {
        (self.state.notifications.len() * 100 / 1000).min(100) as u8
    }

    /// Answers command `code` with DATA `data` as `handlers::TABLE` says: by the handler of
    /// its typed request, or refused.
    fn execute(&mut self, code: u8, data: &[u8], t: NaiveDateTime, extra: &mut Duration) -> Answer {
        let run = match handlers::entry(code).map(|e| e.access) {
            Some(Access::Answered(run)) => run,
            Some(Access::Gated(run)) => {
                if self.options.activation_code.is_some() && !self.state.activated {
                    return Err(err::ACTIVATION_REQUIRED);
                }
                run
            }
            Some(Access::Legacy | Access::NotModelled) | None => return Err(err::UNKNOWN_COMMAND),
        };
        let mut cx = Cx { t, extra: Duration::ZERO };
        let answer = run(self, data, &mut cx);
        *extra += cx.extra;
        answer
    }
}

/// An error response frame: RESULT 1 and the code.
pub fn error_frame(code: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(8);
    // One data byte always fits a frame.
    let _ = frame::encode(RESULT_ERROR, &[code], &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::{self, archive, printer, receipt, Request, Response};
    use crate::emulator::scenario::Timing;
    use crate::protocol::values::{OperatingModes, Operation, Taxation};
    use crate::protocol::{cmd, tag};

    fn t0() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 3, 2).unwrap().and_hms_opt(9, 30, 0).unwrap()
    }

    fn call(r: &mut Register, code: u8, data: &[u8]) -> Result<Vec<u8>, u8> {
        let mut f = Vec::new();
        frame::encode(code, data, &mut f).unwrap();
        let out = r.handle_bytes(&f, t0()).bytes;
        let Parsed::Frame { frame, .. } = frame::parse(&out) else { panic!("response is a frame") };
        match frame.response() {
            Ok(d) => Ok(d.to_vec()),
            Err(crate::protocol::ResponseError::Device(e)) => Err(e.code),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn frames_that_do_not_parse_are_0x25() {
        let mut r = Register::new(EmulatorOptions::default(), t0());
        for bad in [&b"\xB6\x29\x00\x01\x01\x8C\xEE"[..], b"\xB6\x29\x00", b"hello", b""] {
            assert_eq!(r.handle_bytes(bad, t0()).bytes, error_frame(err::BAD_FRAME), "{bad:02X?}");
        }
        assert_eq!(call(&mut r, 0x11, &[]), Err(err::UNKNOWN_COMMAND));
    }

    fn send<R: Request>(r: &mut Register, req: &R) -> Result<Vec<u8>, u8> {
        let mut data = Vec::new();
        req.encode(&mut data).unwrap();
        call(r, R::CODE, &data)
    }

    fn line(attributes: u8, alignment: u8, text: &str) -> Printed {
        Printed::Line { attributes, alignment, text: text.into() }
    }

    #[test]
    fn printing_0x61_0x62_0x63_0x69() {
        let mut r = Register::new(EmulatorOptions::default(), t0());
        let l = printer::PrintLine { attributes: printer::font::TALL, alignment: 1, text: "Тест".into() };
        assert_eq!(send(&mut r, &l), Ok(Vec::new()), "printed: no status byte");
        assert_eq!(send(&mut r, &printer::Cut { partial: Some(1) }), Ok(Vec::new()));
        assert_eq!(send(&mut r, &printer::PrintQr { text: "t=20260302".into() }), Ok(Vec::new()));
        let ean = printer::PrintBarcode { barcode_type: 0, text: "4601234567893".into() };
        assert_eq!(send(&mut r, &ean), Ok(Vec::new()));
        assert_eq!(
            r.state().printer.printed,
            [
                line(0x10, 1, "Тест"),
                Printed::Cut { partial: true },
                Printed::Qr { text: "t=20260302".into() },
                Printed::Barcode { barcode_type: 0, text: "4601234567893".into() },
            ]
        );
        // Checked through the typed decode: nothing is printed on a refusal.
        assert_eq!(call(&mut r, cmd::PRINT_TEXT, &[0x01, 0, b'x']), Err(err::BAD_PARAMETER), "undefined attribute bit");
        assert_eq!(call(&mut r, cmd::PRINT_TEXT, &[0]), Err(err::BAD_LENGTH), "no alignment");
        assert_eq!(call(&mut r, cmd::CUT_PAPER, &[0, 0]), Err(err::BAD_LENGTH));
        assert_eq!(call(&mut r, cmd::PRINT_QR, b"12345"), Err(err::BAD_PARAMETER), "QR text under 6 characters");
        assert_eq!(call(&mut r, cmd::PRINT_BARCODE, b"\x00123A"), Err(err::BAD_PARAMETER), "EAN13 of a letter");
        assert_eq!(r.state().printer.printed.len(), 4);
        // The list is bounded.
        for i in 0..PRINTED_KEEP + 5 {
            send(&mut r, &printer::PrintLine::new(&i.to_string())).unwrap();
        }
        let printed = &r.state().printer.printed;
        assert_eq!(printed.len(), PRINTED_KEEP);
        assert_eq!(printed.last(), Some(&line(0, 0, &(PRINTED_KEEP + 4).to_string())));
    }

    #[test]
    fn print_buffer_0x64_0x65_and_the_receipt() {
        let mut r = Register::new(EmulatorOptions::default(), t0());
        // The v01.05 example (without its stray byte): «Hello», then «1234567890» centred, extended.
        let example = hex::decode("3F9C0700000048656C6C6F3F9C0C00080131323334353637383930").unwrap();
        assert_eq!(call(&mut r, cmd::PRINT_BUFFER_WRITE, &example), Ok(Vec::new()));
        let more = printer::WriteFormattedLines::new(vec![printer::FormattedLine::new(0x80, 2, "Итого")]);
        assert_eq!(send(&mut r, &more), Ok(Vec::new()));
        assert_eq!(r.state().printer.buffer.len(), 3);
        assert!(r.state().printer.printed.is_empty(), "0x64 only fills the buffer");
        assert_eq!(send(&mut r, &printer::PrintBuffer), Ok(Vec::new()));
        assert_eq!(
            r.state().printer.printed,
            [line(0, 0, "Hello"), line(0x08, 1, "1234567890"), line(0x80, 2, "Итого")]
        );
        assert!(r.state().printer.buffer.is_empty(), "0x65 empties the buffer");
        assert_eq!(send(&mut r, &printer::PrintBuffer), Ok(Vec::new()), "an empty buffer prints nothing");
        assert_eq!(r.state().printer.printed.len(), 3);
        // Bad lines: 0x5C; more than 255 lines in the buffer: 0x5D.
        assert_eq!(
            call(&mut r, cmd::PRINT_BUFFER_WRITE, &hex::decode("3F9C0200 0003".replace(' ', "")).unwrap()),
            Err(err::BAD_PRINT_LINES)
        );
        assert_eq!(call(&mut r, cmd::PRINT_BUFFER_WRITE, &example[..10]), Err(err::BAD_PRINT_LINES), "a cut TLV");
        assert_eq!(call(&mut r, cmd::PRINT_BUFFER_WRITE, &[]), Err(err::BAD_PRINT_LINES), "no line");
        let lines = printer::WriteFormattedLines::new(vec![printer::FormattedLine::new(0, 0, ""); 85]);
        for _ in 0..3 {
            assert_eq!(send(&mut r, &lines), Ok(Vec::new()));
        }
        assert_eq!(r.state().printer.buffer.len(), 255);
        assert_eq!(call(&mut r, cmd::PRINT_BUFFER_WRITE, &example), Err(err::PRINT_BUFFER_FULL));
        assert_eq!(r.state().printer.buffer.len(), 255, "nothing added");
        send(&mut r, &printer::PrintBuffer).unwrap();

        // Lines left in the buffer go into the next receipt (0x24), which empties it.
        call(&mut r, cmd::BEGIN_SHIFT_OPEN, &[]).unwrap();
        call(&mut r, cmd::OPEN_SHIFT, &[]).unwrap();
        call(&mut r, cmd::BEGIN_RECEIPT, &[]).unwrap();
        assert_eq!(call(&mut r, cmd::PRINT_BUFFER_WRITE, &example), Ok(Vec::new()));
        let item = receipt::UnmarkedItem::new("Чай", 15_000, Decimal::integer(1), 1, 1, 1);
        send(&mut r, &item).unwrap();
        send(&mut r, &receipt::Payment { taxation: Some(Taxation::OSN), cash: Some(15_000), ..Default::default() })
            .unwrap();
        assert_eq!(r.state().printer.printed.len(), PRINTED_KEEP);
        assert_eq!(r.state().printer.buffer.len(), 2);
        send(&mut r, &receipt::FormReceipt { operation: Operation::SELL, total: 15_000 }).unwrap();
        assert!(r.state().printer.buffer.is_empty(), "the receipt empties the buffer");
        let printed = &r.state().printer.printed;
        assert_eq!(printed[PRINTED_KEEP - 2..], [line(0, 0, "Hello"), line(0x08, 1, "1234567890")]);
        // The printer survives a restart.
        let json = serde_json::to_string(r.state()).unwrap();
        assert_eq!(&serde_json::from_str::<RegisterState>(&json).unwrap(), r.state());
    }

    #[test]
    fn ffd_105_commands_are_unknown_to_a_ffd_12_register() {
        let mut r = Register::new(EmulatorOptions::default(), t0());
        for &code in REFUSED_LEGACY {
            assert!(!COMMANDS.contains(&code));
            assert!(crate::protocol::command_info(code).is_some());
            assert_eq!(call(&mut r, code, &[]), Err(err::UNKNOWN_COMMAND), "{code:#04x}");
        }
        let cashier = commands::shift::CashierData::new("Иванов", None);
        assert_eq!(send(&mut r, &cashier), Err(err::UNKNOWN_COMMAND));
        assert_eq!(send(&mut r, &commands::settings::ResetMockFn::default()), Err(err::UNKNOWN_COMMAND));
        assert_eq!(r.state().phase, FnPhase::Fiscal, "0x40 resets nothing");
    }

    #[test]
    fn fiscal_signs_are_deterministic_per_device() {
        let a = Register::new(EmulatorOptions::default(), t0());
        let b = Register::new(EmulatorOptions::default(), t0());
        let c = Register::new(EmulatorOptions { serial: "0000000002".into(), ..EmulatorOptions::default() }, t0());
        let sign = |r: &Register| r.state().documents[0].fiscal_sign;
        assert_eq!(sign(&a), sign(&b));
        assert_ne!(sign(&a), sign(&c));
        assert_eq!(a.fiscal_sign(1, doc_type::RECEIPT, t0(), b"x"), a.fiscal_sign(1, doc_type::RECEIPT, t0(), b"x"));
        assert_ne!(a.fiscal_sign(1, doc_type::RECEIPT, t0(), b"x"), a.fiscal_sign(1, doc_type::RECEIPT, t0(), b"y"));
    }

    #[test]
    fn timing_is_computed_not_slept() {
        let mut r = Register::new(EmulatorOptions::default(), t0());
        let mut f = Vec::new();
        frame::encode(cmd::BEGIN_SHIFT_OPEN, &[1], &mut f).unwrap();
        assert_eq!(r.handle_bytes(&f, t0()).delay, Duration::ZERO, "instant by default");
        let scenario = Scenario { timing: Some(Timing::default()), ..Scenario::default() };
        let mut r = Register::new(EmulatorOptions { scenario, ..EmulatorOptions::default() }, t0());
        let d = r.handle_bytes(&f, t0()).delay;
        // 15 s key update + 50 ms document step + 15 bytes at 115200 baud.
        assert_eq!(d, Duration::from_millis(15_050) + Duration::from_micros(15 * 10 * 1_000_000 / 115_200));
        let mut auto = Register::new(
            EmulatorOptions {
                autonomous: true,
                scenario: Scenario { timing: Some(Timing::default()), ..Scenario::default() },
                ..EmulatorOptions::default()
            },
            t0(),
        );
        assert!(auto.handle_bytes(&f, t0()).delay < Duration::from_secs(1), "no key update in autonomous mode");
    }

    #[test]
    fn item_sums_round_half_up() {
        assert_eq!(item_sum(4550, Decimal::integer(2)), 9100);
        assert_eq!(item_sum(9999, Decimal::new(1234, 3)), 12339);
        assert_eq!(item_sum(3, Decimal::new(5, 1)), 2);
        assert_eq!(item_sum(u64::MAX, Decimal::integer(2)), u64::MAX);
    }

    #[test]
    fn state_roundtrips_through_json() {
        let mut r = Register::new(EmulatorOptions::default(), t0());
        call(&mut r, cmd::BEGIN_SHIFT_OPEN, &[]).unwrap();
        call(&mut r, cmd::OPEN_SHIFT, &[]).unwrap();
        call(&mut r, cmd::BEGIN_RECEIPT, &[]).unwrap();
        let json = serde_json::to_string(r.state()).unwrap();
        let back: RegisterState = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, r.state());
        let mut again = Register::from_state(back, EmulatorOptions::default());
        assert_eq!(call(&mut again, cmd::BEGIN_RECEIPT, &[]), Err(err::RECEIPT_ORDER), "the open receipt survived");
    }

    /// A state file written by the version before the session's states became an enum (a
    /// receipt open, an item in it, a code checked by the FN) loads, is written back byte for
    /// byte, and the receipt goes on.
    #[test]
    fn state_files_of_the_earlier_version_load() {
        let text = include_str!("../../fixtures/emulator/state-v1.json");
        let file: serde_json::Value = serde_json::from_str(text).unwrap();
        let state: RegisterState = serde_json::from_value(file["state"].clone()).unwrap();
        let mut r = Register::from_state(state, EmulatorOptions::default());
        let again = serde_json::to_string_pretty(&serde_json::json!({ "version": 1, "state": r.state() })).unwrap();
        assert_eq!(again + "\n", text);
        assert_eq!(r.state().session.mark(), crate::session::MarkStep::Checked);
        // 0x92: a piece sold (2003 = 1), mode 0, quantity 1, measure 0 (piece).
        let mut online = crate::protocol::TlvWriter::new();
        online
            .byte(tag::PLANNED_ITEM_STATUS, 1)
            .unwrap()
            .byte(tag::MARKING_CODE_PROCESSING_MODE, 0)
            .unwrap()
            .fvln(tag::QUANTITY, Decimal::integer(1))
            .unwrap()
            .byte(tag::QUANTITY_MEASURE, 0)
            .unwrap();
        call(&mut r, cmd::CHECK_MARK_ONLINE, online.as_bytes()).unwrap();
        send(&mut r, &commands::marking::KeepMarkCheck { keep: true }).unwrap();
        assert_eq!(call(&mut r, cmd::BEGIN_RECEIPT, &[]), Err(err::RECEIPT_ORDER), "the open receipt survived");
        send(&mut r, &receipt::Payment { taxation: Some(Taxation::OSN), cash: Some(15_000), ..Default::default() })
            .unwrap();
        send(&mut r, &receipt::FormReceipt { operation: Operation::SELL, total: 15_000 }).unwrap();
        let open = crate::session::State::ShiftOpen { opened_at: Some(t0()), document: None };
        assert_eq!(r.state().session.state(), open);
    }

    fn sell_without(r: &mut Register, requisites: Option<receipt::ReceiptRequisites>) -> Result<Vec<u8>, u8> {
        call(r, cmd::BEGIN_RECEIPT, &[]).unwrap();
        send(r, &receipt::UnmarkedItem::new("Вода", 5_000, Decimal::integer(1), 1, 4, 1)).unwrap();
        if let Some(q) = requisites {
            send(r, &q).unwrap();
        }
        send(r, &receipt::Payment { taxation: Some(Taxation::OSN), cash: Some(5_000), ..Default::default() }).unwrap();
        send(r, &receipt::FormReceipt { operation: Operation::SELL, total: 5_000 })
    }

    #[test]
    fn vending_delivery_and_one_to_many_need_1009_1187_1036() {
        for modes in ["automat", "delivery", "one_to_many"] {
            let settlement_modes = SettlementModes::parse(modes).unwrap();
            let mut r = Register::new(EmulatorOptions { settlement_modes, ..Default::default() }, t0());
            call(&mut r, cmd::BEGIN_SHIFT_OPEN, &[]).unwrap();
            call(&mut r, cmd::OPEN_SHIFT, &[]).unwrap();
            assert_eq!(sell_without(&mut r, None), Err(err::ADDRESS_PLACE_MISSING), "{modes}");
            call(&mut r, cmd::CANCEL_DOCUMENT, &[]).unwrap();
            let two = receipt::ReceiptRequisites {
                address: Some("Москва".into()),
                place: Some("Вокзал".into()),
                ..Default::default()
            };
            assert_eq!(sell_without(&mut r, Some(two.clone())), Err(err::ADDRESS_PLACE_MISSING), "{modes}");
            call(&mut r, cmd::CANCEL_DOCUMENT, &[]).unwrap();
            let all = receipt::ReceiptRequisites { automat_number: Some("42".into()), ..two };
            assert!(sell_without(&mut r, Some(all)).is_ok(), "{modes}");
            // 0x0A says automatic mode for an automat and for one-to-many.
            let reg =
                crate::commands::info::Registration::decode(&call(&mut r, cmd::REGISTRATION_PARAMS, &[]).unwrap())
                    .unwrap();
            assert_eq!(reg.modes.contains(OperatingModes::AUTOMATIC), modes != "delivery", "{modes}");
            // The registration report (0x3B) holds what was registered.
            let tlv = crate::commands::TlvList::parse(
                &send(&mut r, &archive::ReadRegistrationTlv { report_number: 1 }).unwrap(),
            )
            .unwrap();
            let text = |t| tlv.raw(t).map(|v| crate::protocol::types::decode_cp866(v).into_owned());
            match modes {
                "automat" => assert_eq!(text(tag::VENDING_MACHINE_NUMBER).as_deref(), Some("00000042")),
                "delivery" => assert_eq!(text(tag::SETTLEMENT_PLACE).as_deref(), Some("")),
                _ => assert_eq!(text(tag::SETTLEMENT_ADDRESS).as_deref(), Some("")),
            }
            assert_eq!(send(&mut r, &archive::ReadRegistrationTlv { report_number: 2 }), Err(err::NOT_IN_ARCHIVE));
        }
        // A shop register needs none of them.
        let mut r = Register::new(EmulatorOptions::default(), t0());
        call(&mut r, cmd::BEGIN_SHIFT_OPEN, &[]).unwrap();
        call(&mut r, cmd::OPEN_SHIFT, &[]).unwrap();
        assert!(sell_without(&mut r, None).is_ok());
    }

    #[test]
    fn the_ofd_queue_and_the_archive_commands() {
        let mut r = Register::new(EmulatorOptions { hold_ofd: true, ..Default::default() }, t0());
        call(&mut r, cmd::BEGIN_SHIFT_OPEN, &[]).unwrap();
        call(&mut r, cmd::OPEN_SHIFT, &[]).unwrap();
        let sold = receipt::ReceiptResult::decode(&sell_without(&mut r, None).unwrap()).unwrap();
        let st =
            crate::commands::info::OfdExchangeStatus::decode(&call(&mut r, cmd::OFD_STATUS, &[]).unwrap()).unwrap();
        assert_eq!((st.queue_len, st.first_document), (3, 1), "registration, shift open, receipt wait");
        let n = archive::UnconfirmedCount::decode(&send(&mut r, &archive::GetUnconfirmedCount).unwrap()).unwrap();
        assert_eq!(n.count, 3);
        let found = archive::FoundDocument::decode(
            &send(&mut r, &archive::FindDocument { fd_number: sold.fd_number }).unwrap(),
        )
        .unwrap();
        assert_eq!(found.ofd_confirmed, 0);
        assert_eq!(
            send(&mut r, &archive::PrintOfdConfirmation { fd_number: sold.fd_number }),
            Err(err::NOT_IN_ARCHIVE)
        );
        // 0x39 prints a copy; 0x35/0x36 give the document TLV by TLV, then 0x08.
        send(&mut r, &archive::PrintDocument { fd_number: sold.fd_number }).unwrap();
        assert!(matches!(r.state().printer.printed.first(), Some(Printed::Line { text, .. }) if text == "КОПИЯ"));
        let whole = send(&mut r, &archive::ReadDocumentAsTlv { fd_number: sold.fd_number }).unwrap();
        let info = archive::DocumentTlvInfo::decode(
            &send(&mut r, &archive::RequestDocumentTlv { fd_number: sold.fd_number }).unwrap(),
        )
        .unwrap();
        assert_eq!((info.document_type, usize::from(info.length)), (3, whole.len()));
        let mut got = Vec::new();
        while got.len() < whole.len() {
            got.extend(send(&mut r, &archive::ReadDocumentTlv).unwrap());
        }
        assert_eq!(got, whole);
        assert_eq!(send(&mut r, &archive::ReadDocumentTlv), Err(err::NOT_IN_ARCHIVE));
        // Tag 1077: the fiscal sign of 0x24, big-endian in its last four bytes.
        let tlv = crate::commands::TlvList::parse(&whole).unwrap();
        let fp = tlv.raw(tag::DOCUMENT_FISCAL_SIGN).unwrap();
        assert_eq!(u32::from_be_bytes([fp[2], fp[3], fp[4], fp[5]]), sold.fiscal_sign);
        // Without hold_ofd everything is confirmed at once.
        let mut r = Register::new(EmulatorOptions::default(), t0());
        let st =
            crate::commands::info::OfdExchangeStatus::decode(&call(&mut r, cmd::OFD_STATUS, &[]).unwrap()).unwrap();
        assert_eq!(st.queue_len, 0);
        let c =
            archive::OfdConfirmation::decode(&send(&mut r, &archive::PrintOfdConfirmation { fd_number: 1 }).unwrap())
                .unwrap();
        assert_eq!(c.fd_number, 1);
    }

    #[test]
    fn queries_are_decoded_too() {
        let mut r = Register::new(EmulatorOptions::default(), t0());
        assert!(call(&mut r, cmd::FN_STATUS, &[]).is_ok());
        assert_eq!(call(&mut r, cmd::FN_STATUS, &[0]), Err(err::BAD_LENGTH), "a stray byte is the driver's mistake");
    }

    #[test]
    fn vat_rates_of_2025_are_refused_before_2025() {
        let old = NaiveDate::from_ymd_opt(2024, 6, 1).unwrap().and_hms_opt(10, 0, 0).unwrap();
        let r = Register::new(EmulatorOptions::default(), old);
        assert_eq!(r.check_vat(7, old), Err(err::VAT_FROM_2025));
        assert_eq!(r.check_vat(1, old), Ok(()));
        assert_eq!(r.check_vat(10, t0()), Ok(()));
        assert_eq!(r.check_vat(11, t0()), Err(err::TAX_NOT_APPLICABLE));
    }
}
