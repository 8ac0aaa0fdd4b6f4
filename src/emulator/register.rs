//! The register itself, sans-IO: a request frame and the time in, the response frame out.

use std::time::Duration;

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeDelta};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::scenario::{OismStatus, Scenario};
use super::state::*;
use crate::commands::{
    self, archive, cash, document, info, marking, network, printer, receipt, registration, report, settings, shift,
    DecodeError, DecodeErrorKind, Request, Response,
};
use crate::marking::{local_check, MarkingCode};
use crate::protocol::frame::{self, FrameRef, Parsed, RESULT_ERROR, RESULT_OK};
use crate::protocol::types::Decimal;
use crate::protocol::values::CurrentDocument;
use crate::protocol::TlvWriter;
use crate::session::{DocKind, MarkStep, SessionState, ShiftState};

/// How the register starts and behaves (the state file, once written, wins over the first
/// group).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Options {
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
    /// The OISM model, timing and faults.
    pub scenario: Scenario,
}

impl Default for Options {
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

/// Device error codes the register answers (texts in protocol/errors.tsv).
mod err {
    pub const FN_STATE: u8 = 0x02;
    pub const DATETIME: u8 = 0x07;
    pub const STRUCTURE: u8 = 0x25;
    pub const UNKNOWN: u8 = 0x26;
    pub const LENGTH: u8 = 0x27;
    pub const VALUE: u8 = 0x28;
    pub const NO_DATA: u8 = 0x08;
    pub const PRINT_LINES: u8 = 0x5C;
    pub const PRINT_BUFFER_FULL: u8 = 0x5D;
    pub const NOT_ALL_DATA: u8 = 0x32;
    pub const CASH_SHORT: u8 = 0x42;
    pub const OPERATION: u8 = 0x36;
    pub const VAT: u8 = 0x37;
    pub const PAYMENT_SUM: u8 = 0x39;
    pub const NON_CASH_OVER: u8 = 0x3A;
    pub const TOO_MANY_ITEMS: u8 = 0x3D;
    pub const CORRECTION_SUM: u8 = 0x46;
    pub const ITEMS_SUM: u8 = 0x54;
    pub const CORRECTION_OPERATION: u8 = 0x55;
    pub const TAXATION: u8 = 0x57;
    pub const VAT_2025: u8 = 0x6C;
    pub const MARKING_FORBIDDEN: u8 = 0xA2;
    pub const CHECK_TABLE_FULL: u8 = 0xA5;
    pub const NOT_CHECKED: u8 = 0xAE;
    pub const NO_CODE: u8 = 0xC1;
    pub const MARK_PARAMS: u8 = 0xC2;
    pub const OISM_LINK: u8 = crate::commands::marking::OISM_UNREACHABLE;
    pub const ACTIVATION: u8 = 0xDD;
    pub const ACTIVATION_FORMAT: u8 = 0xDE;
    pub const DUPLICATE_CODE: u8 = 0xDF;
    pub const FN_CLOSED: u8 = 0xF5;
}

type Answer = Result<Vec<u8>, u8>;

/// Commands this register answers; anything else is 0x26.
pub const COMMANDS: &[u8] = &[
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0E, 0x0F, 0x10, 0x30, 0x3A, 0x76, 0x77, 0xB0,
    0xB3, 0xB4, 0xBB, 0x14, 0x15, 0x17, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x2D, 0x50,
    0x72, 0x73, 0x82, 0x83, 0x84, 0x85, 0x90, 0x91, 0x92, 0x94, 0x95, 0x96, 0x97, 0x98, 0x9D, 0x9E, 0xA2, 0xDD, 0xE1,
    0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0x61, 0x62, 0x63, 0x64, 0x65, 0x69,
];

/// The ФФД 1.05 document commands of v01.05 (0x12, 0x13, 0x16 registration; 0x1F, 0x3F vending
/// machine data; 0x2B item; 0x2C agent; 0x2E correction data; 0x2F cashier) and 0x34: this
/// register works with ФФД 1.2 (seed 004), which replaced them, so it refuses them as commands
/// it does not know, 0x26 «Неизвестная команда» (seed 004 Приложение 3 has no other code for a
/// command of another FFD). 0x40 (reset of the FN mock-up) is refused the same way: it runs
/// only on a debug firmware, and this register models a real FN.
pub const REFUSED_LEGACY: &[u8] = &[0x12, 0x13, 0x16, 0x1F, 0x3F, 0x2B, 0x2C, 0x2E, 0x2F, 0x34, 0x40];

/// Commands closed until the activation code is entered (when the option sets one).
const GATED: &[u8] = &[0x91, 0x92, 0x94, 0x95, 0x96, 0x97, 0x98, 0xE1, 0xE2, 0xE3];

fn ok<T: Response>(v: &T) -> Answer {
    let mut out = Vec::new();
    v.encode(&mut out).map_err(|_| err::VALUE)?;
    Ok(out)
}

fn decode_error_code(e: &DecodeError) -> u8 {
    match e.kind {
        DecodeErrorKind::Length => err::LENGTH,
        DecodeErrorKind::Tlv => err::STRUCTURE,
        DecodeErrorKind::Value => err::VALUE,
    }
}

fn decode<T: Request>(data: &[u8]) -> Result<T, u8> {
    T::decode(data).map_err(|e| decode_error_code(&e))
}

/// Item total: price × quantity in kopecks, rounded half up.
pub fn item_sum(price: u64, quantity: Decimal) -> u64 {
    let scale = 10u128.pow(u32::from(quantity.scale.min(19)));
    let v = (u128::from(price) * u128::from(quantity.mantissa) + scale / 2) / scale;
    u64::try_from(v).unwrap_or(u64::MAX)
}

/// The virtual register: state, options, and the rules.
#[derive(Debug, Clone)]
pub struct Register {
    state: RegisterState,
    options: Options,
}

fn epoch() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2020, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default()
}

fn default_registration(o: &Options) -> Registration {
    use crate::protocol::values::{OperatingModes, UsageConditions};
    Registration {
        inn: "7806197274  ".into(),
        registration_number: "0000000000038045    ".into(),
        taxation: 0b0000_0011,
        modes: if o.autonomous { OperatingModes::AUTONOMOUS } else { OperatingModes::ENCRYPTION }.bits(),
        usage: if o.marking { UsageConditions::MARKING } else { UsageConditions::EMPTY }.bits(),
        user_name: "ООО «Виртуальная касса»".into(),
        address: "г. Москва, ул. Тестовая, д. 1".into(),
        place: "Торговый зал".into(),
        ofd_inn: "7704358518  ".into(),
    }
}

impl Register {
    /// A register as the options say (registered by default, with one registration report
    /// formed at `now`).
    pub fn new(options: Options, now: NaiveDateTime) -> Self {
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
        };
        if !options.factory_fresh {
            state.oism_host = ("82.202.183.18".into(), 21701, 30);
            state.key_host = ("test.okp.atlas-kard.ru".into(), 31101);
            let reg = default_registration(&options);
            state.session.autonomous = reg.autonomous();
            state.registration = Some(reg);
            state.phase = FnPhase::Fiscal;
            state.ffd = 4;
        }
        let mut r = Register { state, options };
        if !r.options.factory_fresh {
            r.add_document(1, now, 0, 0);
        }
        r
    }

    /// A register with a saved state.
    pub fn from_state(state: RegisterState, options: Options) -> Self {
        Register { state, options }
    }

    /// The state (what the `--state` file holds).
    pub fn state(&self) -> &RegisterState {
        &self.state
    }

    /// The options.
    pub fn options(&self) -> &Options {
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
            _ => Reply { bytes: error_frame(err::STRUCTURE), delay: Duration::ZERO },
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
                    error_frame(err::VALUE)
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

    fn timing(&self) -> Option<&super::scenario::Timing> {
        self.options.scenario.timing.as_ref()
    }

    fn autonomous(&self) -> bool {
        self.state.registration.as_ref().is_some_and(Registration::autonomous)
    }

    fn need_fiscal(&self) -> Result<(), u8> {
        match self.state.phase {
            FnPhase::Fiscal => Ok(()),
            FnPhase::Setup => Err(err::FN_STATE),
            FnPhase::PostFiscal => Err(err::FN_CLOSED),
        }
    }

    fn need_marking(&self) -> Result<(), u8> {
        self.need_fiscal()?;
        if self.state.registration.as_ref().is_some_and(Registration::marking) {
            Ok(())
        } else {
            Err(err::MARKING_FORBIDDEN)
        }
    }

    /// The state after the order rules accept `code`, or the rule's error code.
    fn order(&self, code: u8, data: &[u8], t: NaiveDateTime) -> Result<SessionState, u8> {
        self.state.session.next(code, data, Some(t)).map_err(|v| {
            tracing::debug!("order: {v}");
            v.code
        })
    }

    fn fiscal_sign(&self, number: u32, doc_type: u8, t: NaiveDateTime, content: &[u8]) -> u32 {
        let mut h = Sha256::new();
        h.update(self.state.key.as_bytes());
        h.update(number.to_le_bytes());
        h.update([doc_type]);
        h.update(t.format("%Y%m%d%H%M").to_string().as_bytes());
        h.update(content);
        let d = h.finalize();
        u32::from_le_bytes([d[0], d[1], d[2], d[3]])
    }

    fn add_document(&mut self, doc_type: u8, t: NaiveDateTime, operation: u8, total: u64) -> DocumentRecord {
        let number = self.state.last_fd + 1;
        let content = format!("{}:{}:{}:{}", self.state.shift_number, self.state.receipts_in_shift, operation, total);
        let rec = DocumentRecord {
            number,
            doc_type,
            datetime: t,
            fiscal_sign: self.fiscal_sign(number, doc_type, t, content.as_bytes()),
            shift: self.state.shift_number,
            receipt: if matches!(doc_type, 3 | 31) { self.state.receipts_in_shift } else { 0 },
            operation,
            total,
            reason: 0,
        };
        self.state.last_fd = number;
        self.state.last_document_at = t;
        self.state.documents.push(rec.clone());
        rec
    }

    fn check_clock(&self, t: NaiveDateTime) -> Result<(), u8> {
        if t < self.state.last_document_at {
            Err(err::DATETIME)
        } else {
            Ok(())
        }
    }

    fn current_document_code(&self) -> CurrentDocument {
        match (self.state.session.document, self.state.session.shift) {
            (Some((DocKind::Receipt, _)), _) => CurrentDocument::RECEIPT,
            (Some((DocKind::Correction, _)), _) => CurrentDocument::CORRECTION,
            (Some((DocKind::Settlement, _)), _) => CurrentDocument::SETTLEMENT,
            (Some((DocKind::Registration, _)), _) => CurrentDocument::REGISTRATION,
            (Some((DocKind::FnClose, _)), _) => CurrentDocument::FN_CLOSE,
            (None, ShiftState::Opening) => CurrentDocument::SHIFT_OPEN,
            (None, ShiftState::Closing) => CurrentDocument::SHIFT_CLOSE,
            _ => CurrentDocument::NONE,
        }
    }

    #[allow(clippy::too_many_lines)]
    fn execute(&mut self, code: u8, data: &[u8], t: NaiveDateTime, extra: &mut Duration) -> Answer {
        if !COMMANDS.contains(&code) {
            return Err(err::UNKNOWN);
        }
        if self.options.activation_code.is_some() && !self.state.activated && GATED.contains(&code) {
            return Err(err::ACTIVATION);
        }
        let s = &self.state;
        match code {
            0x01 => ok(&info::Status {
                serial: s.serial.clone(),
                datetime: t,
                critical_errors: 0,
                printer_status: 0,
                fn_present: 1,
                fn_phase: s.phase.bits(),
                // Real registers send one byte more than v01.05 documents (captures.md).
                extra: vec![0],
            }),
            0x04 => ok(&info::Text { text: "Terminal-FA".into() }),
            0x08 => ok(&info::FnStatus {
                phase: s.phase.bits(),
                current_document: self.current_document_code(),
                document_data: u8::from(s.receipt.as_ref().is_some_and(|r| !r.items.is_empty())),
                shift_open: u8::from(matches!(s.session.shift, ShiftState::Open | ShiftState::Closing)),
                warnings: 0,
                last_document_datetime: s.last_document_at,
                fn_number: s.fn_number.clone(),
                last_fd_number: s.last_fd,
            }),
            0x0A => {
                let r = s.registration.as_ref().ok_or(err::FN_STATE)?;
                ok(&info::Registration {
                    registration_number: r.registration_number.trim_end().into(),
                    inn: r.inn.trim_end().into(),
                    modes: r.modes.into(),
                    taxation: r.taxation.into(),
                    agent: Default::default(),
                })
            }
            0x02 => ok(&info::Serial { serial: s.serial.clone() }),
            0x03 => ok(&info::Text { text: format!("kkt-emulator {}", env!("CARGO_PKG_VERSION")) }),
            0x05 => ok(&info::Text { text: s.fn_number.clone() }),
            0x06 => ok(&info::Text { text: "FN-1.2 emulated".into() }),
            0x07 => {
                let registered = s.documents.iter().find(|d| d.doc_type == 1).map_or(t, |d| d.datetime);
                ok(&info::FnValidity {
                    valid_until: (registered + TimeDelta::days(410)).date(),
                    registrations_left: 30u8.saturating_sub(self.registrations_done()),
                    registrations_done: self.registrations_done(),
                })
            }
            0x09 => ok(&info::FnErrors { data: Vec::new() }),
            0x0B => ok(&info::Text { text: "1.0.0".into() }),
            0x0E => ok(&info::TcpIp {
                ip: std::net::Ipv4Addr::LOCALHOST,
                mask: std::net::Ipv4Addr::new(255, 0, 0, 0),
                gateway: std::net::Ipv4Addr::UNSPECIFIED,
            }),
            0xBB => ok(&info::LineWidth { chars: 48 }),
            0x30 => {
                let r = decode::<archive::FindDocument>(data)?;
                let doc = self.document(r.fd_number)?;
                ok(&archive::FoundDocument { ofd_confirmed: 1, document: self.archive_document(&doc) })
            }
            0x3A => {
                let r = decode::<archive::ReadDocumentAsTlv>(data)?;
                let doc = self.document(r.fd_number)?;
                ok(&archive::TlvAnswer { tlv: self.document_tlv(&doc)? })
            }
            0xB0 => ok(&cash::CashTotals { cash: s.cash, electronic: s.electronic }),
            0xB3 | 0xB4 => {
                let amount = if code == 0xB3 {
                    decode::<cash::CashIn>(data)?.amount
                } else {
                    decode::<cash::CashOut>(data)?.amount
                };
                self.need_fiscal()?;
                let next = self.order(code, data, t)?;
                if code == 0xB4 && amount > s.cash {
                    return Err(err::CASH_SHORT);
                }
                self.state.session = next;
                self.state.cash =
                    if code == 0xB3 { self.state.cash.saturating_add(amount) } else { self.state.cash - amount };
                Ok(Vec::new())
            }
            0x0F => ok(&settings::FnFormat { ffd: s.ffd, ffd_supported: 4 }),
            0x10 => {
                decode::<document::CancelDocument>(data)?;
                self.state.session = self.order(code, data, t)?;
                self.state.receipt = None;
                self.state.mark = None;
                self.state.check_table.clear();
                self.state.registration_draft = None;
                Ok(Vec::new())
            }
            0x20 => ok(&shift::ShiftParams {
                open: matches!(s.session.shift, ShiftState::Open | ShiftState::Closing),
                shift_number: s.shift_number,
                receipt_number: s.receipts_in_shift,
            }),
            0x50 => ok(&info::OfdExchangeStatus {
                status: 0,
                read_state: 0,
                queue_len: 0,
                first_document: 0,
                first_document_datetime: s.last_document_at,
            }),
            0x72 => {
                let r = decode::<info::SetDateTime>(data)?;
                let host_now = t - TimeDelta::seconds(s.clock_offset_s);
                self.state.clock_offset_s = (r.0.datetime - host_now).num_seconds();
                Ok(Vec::new())
            }
            0x73 => ok(&info::DateTime { datetime: t }),
            0x82 => {
                let r = decode::<settings::SetOismHost>(data)?;
                if r.0.address.is_empty() {
                    return Err(err::VALUE);
                }
                self.state.oism_host = (r.0.address, r.0.port, r.0.timeout_s);
                Ok(Vec::new())
            }
            0x83 => {
                let (a, p, to) = &s.oism_host;
                ok(&settings::OismHost::new(a, *p, *to))
            }
            0x76 => {
                let r = decode::<network::SetOfdSettings>(data)?;
                if r.0.host.is_empty() {
                    return Err(err::VALUE);
                }
                self.state.ofd = (r.0.host, r.0.port, r.0.timer_s);
                Ok(Vec::new())
            }
            0x77 => {
                let (h, p, t) = &s.ofd;
                ok(&network::OfdSettings::new(h, *p, *t))
            }
            0x84 => {
                let r = decode::<settings::SetKeyUpdateHost>(data)?;
                if r.0.address.is_empty() {
                    return Err(err::VALUE);
                }
                self.state.key_host = (r.0.address, r.0.port);
                Ok(Vec::new())
            }
            0x85 => {
                let (a, p) = &s.key_host;
                ok(&settings::KeyUpdateHost::new(a, *p))
            }
            0xA2 => ok(&info::Text {
                text: format!("KKT-EMULATOR {} FFD=1.2 FN={}", env!("CARGO_PKG_VERSION"), s.fn_number),
            }),
            0xDD => {
                let r = decode::<settings::EnterActivationCode>(data)?;
                if !r.code.iter().all(u8::is_ascii_alphanumeric) {
                    return Err(err::ACTIVATION_FORMAT);
                }
                match &self.options.activation_code {
                    Some(c) if c.as_bytes() == r.code => {
                        self.state.activated = true;
                        Ok(Vec::new())
                    }
                    Some(_) => Err(err::ACTIVATION),
                    None => Ok(Vec::new()),
                }
            }
            0x90 => {
                let full = s.check_table.len() >= self.options.check_table_size;
                let (check_state, allowed) = match s.session.mark {
                    _ if full => (0, 0),
                    MarkStep::Idle => (1, 0x01),
                    MarkStep::Checked => (2, 0x02),
                    MarkStep::OnlineChecked => (4, 0x02),
                };
                let codes = s.receipt.as_ref().map_or(0, |r| r.items.iter().filter(|i| i.code.is_some()).count());
                ok(&marking::MarkingStatus {
                    check_state,
                    notification_state: u8::from(codes > 0),
                    allowed_commands: allowed,
                    kept_results: s.check_table.len() as u8,
                    notification_codes: codes as u8,
                    storage_warning: 0,
                    notification_queue: s.notifications.len() as u16,
                })
            }
            0x9D => ok(&marking::FnMemory {
                documents_5y: 250_000u32.saturating_sub(s.last_fd),
                kilobytes_30d: 512,
                notifications_percent: s
                    .registration
                    .as_ref()
                    .filter(|r| r.marking())
                    .map(|_| self.notification_percent()),
            }),
            0x9E => {
                let first = s.notifications.first();
                ok(&marking::NotificationState {
                    state: if first.is_some() { 2 } else { 0 },
                    queue: s.notifications.len() as u16,
                    current: first.map_or(0, |n| n.number),
                    current_datetime: first.map(|n| n.datetime),
                    storage_percent: self.notification_percent(),
                })
            }
            0x91 => self.check_local(data, t),
            0x92 => self.check_online(data, t, extra),
            0x94 => {
                let r = decode::<marking::KeepMarkCheck>(data)?;
                self.need_marking()?;
                let next = self.order(code, data, t)?;
                let mark = self.state.mark.take().ok_or(err::FN_STATE)?;
                if r.keep {
                    if self.state.check_table.len() >= self.options.check_table_size {
                        self.state.mark = Some(mark);
                        return Err(err::CHECK_TABLE_FULL);
                    }
                    self.state.check_table.push(SavedMark { code: mark.code.clone(), result_2106: mark.result_2106 });
                }
                self.state.session = next;
                ok(&marking::KeepMarkCheckResult { result: marking::MarkCheckResult(mark.result_2106) })
            }
            0x95 => {
                decode::<marking::ClearMarkChecks>(data)?;
                self.need_marking()?;
                self.state.session = self.order(code, data, t)?;
                self.state.mark = None;
                self.state.check_table.clear();
                Ok(Vec::new())
            }
            0x21 | 0x29 => {
                if code == 0x21 {
                    decode::<shift::BeginShiftOpen>(data)?;
                } else {
                    decode::<shift::BeginShiftClose>(data)?;
                }
                self.need_fiscal()?;
                let next = self.order(code, data, t)?;
                if code == 0x21 && !self.autonomous() {
                    *extra += self.timing().map_or(Duration::ZERO, |tm| Duration::from_millis(tm.key_update_ms));
                }
                self.state.session = next;
                Ok(Vec::new())
            }
            0xE4 | 0xE5 => {
                let v = if code == 0xE4 {
                    decode::<shift::ShiftOpenData>(data)?.0
                } else {
                    decode::<shift::ShiftCloseData>(data)?.0
                };
                v_encode(code, v).map_err(|_| err::VALUE)?;
                self.state.session = self.order(code, data, t)?;
                Ok(Vec::new())
            }
            0x22 | 0x2A => {
                decode::<NoData>(data)?;
                self.need_fiscal()?;
                let next = self.order(code, data, t)?;
                self.check_clock(t)?;
                self.state.session = next;
                if code == 0x22 {
                    self.state.shift_number = self.state.shift_number.wrapping_add(1);
                    self.state.receipts_in_shift = 0;
                    self.state.electronic = 0;
                } else {
                    self.state.check_table.clear();
                }
                let doc = self.add_document(if code == 0x22 { 2 } else { 5 }, t, 0, 0);
                ok(&shift::ShiftReport {
                    shift_number: self.state.shift_number,
                    fd_number: doc.number,
                    fiscal_sign: doc.fiscal_sign,
                    warnings: shift::Warnings(0),
                })
            }
            0x23 | 0x25 => {
                if code == 0x23 {
                    decode::<receipt::OpenReceipt>(data)?;
                } else {
                    decode::<receipt::OpenCorrectionReceipt>(data)?;
                }
                self.need_fiscal()?;
                let next = self.order(code, data, t)?;
                self.state.session = next;
                let kind = if code == 0x23 { DocKind::Receipt } else { DocKind::Correction };
                self.state.receipt =
                    Some(ReceiptDraft { kind, items: Vec::new(), payment: None, corrected_date: false });
                Ok(Vec::new())
            }
            0x96 => {
                let item = decode::<receipt::UnmarkedItem>(data)?;
                let next = self.order(code, data, t)?;
                self.check_vat(item.vat.code(), t)?;
                item.validate().map_err(|_| err::VALUE)?;
                self.add_item(ItemRecord {
                    name: item.name,
                    sum: item_sum(item.price, item.quantity),
                    vat: item.vat.code(),
                    code: None,
                })?;
                self.state.session = next;
                Ok(Vec::new())
            }
            0x97 => self.marked_item(data, t),
            0x98 => {
                let r = decode::<receipt::ReceiptRequisites>(data)?;
                let next = self.order(code, data, t)?;
                r.validate().map_err(|_| err::VALUE)?;
                if let Some(d) = r.corrected_date {
                    if d > t {
                        return Err(err::VALUE);
                    }
                }
                if let Some(rc) = self.state.receipt.as_mut() {
                    rc.corrected_date |= r.corrected_date.is_some();
                }
                self.state.session = next;
                Ok(Vec::new())
            }
            0x2D => {
                let p = decode::<receipt::Payment>(data)?;
                let next = self.order(code, data, t)?;
                let reg_tax = self.state.registration.as_ref().map_or(0, |r| r.taxation);
                let tax_ok = match p.taxation {
                    // 1055 values 1, 2, 4, 16, 32 are the 0xE3 bits 0, 1, 2, 4, 5.
                    Some(v) => v.is_known() && reg_tax & v.code() != 0,
                    None => reg_tax.count_ones() == 1,
                };
                if !tax_ok {
                    return Err(err::TAXATION);
                }
                let non_cash = [p.electronic, p.prepayment, p.credit, p.consideration].iter().flatten().sum();
                if let Some(rc) = self.state.receipt.as_mut() {
                    rc.payment = Some(PaymentRecord {
                        cash: p.cash.unwrap_or(0),
                        non_cash,
                        taxation: p.taxation.map(|t| t.code()),
                    });
                }
                self.state.session = next;
                Ok(Vec::new())
            }
            0x24 | 0x26 => self.form_receipt(code, data, t),
            0x61 | 0x62 | 0x63 | 0x69 => {
                let p = match code {
                    0x61 => {
                        let l = decode::<printer::PrintLine>(data)?;
                        Printed::Line { attributes: l.attributes, alignment: l.alignment, text: l.text }
                    }
                    0x62 => Printed::Cut { partial: decode::<printer::Cut>(data)?.partial == Some(1) },
                    0x63 => Printed::Qr { text: decode::<printer::PrintQr>(data)?.text },
                    _ => {
                        let b = decode::<printer::PrintBarcode>(data)?;
                        Printed::Barcode { barcode_type: b.barcode_type, text: b.text }
                    }
                };
                self.state.printer.print(p);
                // The modelled printer is always ready: no status byte.
                ok(&printer::PrinterAnswer::default())
            }
            0x64 => {
                // v01.05 error 0x5C: wrong format or length of the lines; 0x5D: buffer full.
                let w = printer::WriteFormattedLines::decode(data).map_err(|_| err::PRINT_LINES)?;
                let buffer = &mut self.state.printer.buffer;
                if buffer.len() + w.lines.len() > printer::BUFFER_LINES {
                    return Err(err::PRINT_BUFFER_FULL);
                }
                buffer.extend(w.lines.into_iter().map(|l| BufferedLine {
                    attributes: l.attributes,
                    alignment: l.alignment,
                    text: l.text,
                }));
                Ok(Vec::new())
            }
            0x65 => {
                decode::<printer::PrintBuffer>(data)?;
                self.state.printer.print_buffer();
                Ok(Vec::new())
            }
            0x27 => {
                decode::<report::BeginSettlementReport>(data)?;
                if s.phase == FnPhase::Setup {
                    return Err(err::FN_STATE);
                }
                self.state.session = self.order(code, data, t)?;
                Ok(Vec::new())
            }
            0xE6 | 0x17 => {
                let v = if code == 0xE6 {
                    decode::<report::SettlementReportData>(data)?.0
                } else {
                    decode::<report::FnCloseData>(data)?.0
                };
                let mut out = Vec::new();
                let valid = if code == 0xE6 {
                    report::SettlementReportData(v).encode(&mut out)
                } else {
                    report::FnCloseData(v).encode(&mut out)
                };
                valid.map_err(|_| err::VALUE)?;
                self.state.session = self.order(code, data, t)?;
                Ok(Vec::new())
            }
            0x28 => {
                decode::<report::FormSettlementReport>(data)?;
                let next = self.order(code, data, t)?;
                self.check_clock(t)?;
                self.state.session = next;
                let doc = self.add_document(21, t, 0, 0);
                ok(&report::SettlementReport {
                    fd_number: doc.number,
                    fiscal_sign: doc.fiscal_sign,
                    unconfirmed: 0,
                    first_unconfirmed: None,
                })
            }
            0x14 => {
                decode::<report::BeginFnClose>(data)?;
                self.need_fiscal()?;
                self.state.session = self.order(code, data, t)?;
                Ok(Vec::new())
            }
            0x15 => {
                decode::<report::FormFnClose>(data)?;
                let next = self.order(code, data, t)?;
                self.check_clock(t)?;
                self.state.session = next;
                let doc = self.add_document(6, t, 0, 0);
                self.state.phase = FnPhase::PostFiscal;
                ok(&report::FiscalResult { fd_number: doc.number, fiscal_sign: doc.fiscal_sign })
            }
            0xE1 => {
                let r = decode::<registration::BeginRegistration>(data)?;
                let phase_ok = match r.report_type {
                    0 => s.phase == FnPhase::Setup,
                    1 | 2 => s.phase == FnPhase::Fiscal && s.session.shift == ShiftState::Closed,
                    _ => return Err(err::VALUE),
                };
                if !phase_ok {
                    return Err(if s.phase == FnPhase::PostFiscal { err::FN_CLOSED } else { err::FN_STATE });
                }
                self.state.session = self.order(code, data, t)?;
                self.state.registration_draft = Some((r.report_type, None));
                Ok(Vec::new())
            }
            0xE2 => {
                let d = decode::<registration::RegistrationData>(data)?;
                let next = self.order(code, data, t)?;
                d.validate().map_err(|_| err::VALUE)?;
                let reg = Registration {
                    inn: String::new(),
                    registration_number: String::new(),
                    taxation: 0,
                    modes: d.modes.bits(),
                    usage: d.usage.bits(),
                    user_name: d.user_name,
                    address: d.address,
                    place: d.place,
                    ofd_inn: d.ofd_inn.unwrap_or_default(),
                };
                if let Some((_, draft)) = self.state.registration_draft.as_mut() {
                    *draft = Some(reg);
                }
                self.state.session = next;
                Ok(Vec::new())
            }
            0xE3 => {
                let f = decode::<registration::FormRegistration>(data)?;
                let next = self.order(code, data, t)?;
                let mut enc = Vec::new();
                f.encode(&mut enc).map_err(|_| err::VALUE)?;
                let (report_type, draft) = self.state.registration_draft.clone().ok_or(err::FN_STATE)?;
                let mut reg = draft.ok_or(err::NOT_ALL_DATA)?;
                let hosts_set = !self.state.oism_host.0.is_empty() && !self.state.key_host.0.is_empty();
                if reg.marking() && !reg.autonomous() && !hosts_set {
                    return Err(err::NOT_ALL_DATA);
                }
                self.check_clock(t)?;
                reg.inn = format!("{:<12}", f.inn.trim_end());
                reg.registration_number = format!("{:<20}", f.registration_number.trim_end());
                reg.taxation = f.taxation.bits();
                self.state.session = next;
                self.state.session.autonomous = reg.autonomous();
                self.state.registration = Some(reg);
                self.state.registration_draft = None;
                self.state.phase = FnPhase::Fiscal;
                self.state.ffd = 4;
                let doc = self.add_document(if report_type == 0 { 1 } else { 11 }, t, 0, 0);
                if let Some(last) = self.state.documents.last_mut() {
                    last.reason = f.reasons.map_or(0, |r| r.bits());
                }
                ok(&report::FiscalResult { fd_number: doc.number, fiscal_sign: doc.fiscal_sign })
            }
            _ => Err(err::UNKNOWN),
        }
    }

    fn registrations_done(&self) -> u8 {
        self.state.documents.iter().filter(|d| d.doc_type == 11).count().min(255) as u8
    }

    fn document(&self, number: u32) -> Result<DocumentRecord, u8> {
        if self.state.phase == FnPhase::Setup && self.state.documents.is_empty() {
            return Err(err::FN_STATE);
        }
        self.state.documents.iter().find(|d| d.number == number).cloned().ok_or(err::NO_DATA)
    }

    fn archive_document(&self, d: &DocumentRecord) -> archive::ArchiveDocument {
        use archive::*;
        let header = DocumentHeader { datetime: d.datetime, fd_number: d.number, fiscal_sign: d.fiscal_sign };
        let reg = self.state.registration.as_ref();
        let inn = reg.map_or(String::new(), |r| r.inn.trim_end().to_string());
        let rnm = reg.map_or(String::new(), |r| r.registration_number.trim_end().to_string());
        let registration = RegistrationRecord {
            header,
            inn: inn.clone(),
            registration_number: rnm.clone(),
            taxation: reg.map_or(0, |r| r.taxation).into(),
            modes: reg.map_or(0, |r| r.modes).into(),
        };
        let receipt = ReceiptRecord { header, operation: d.operation.into(), total: d.total };
        match d.doc_type {
            1 => ArchiveDocument::Registration(registration),
            11 => ArchiveDocument::RegistrationChange(RegistrationChangeRecord { registration, reason: d.reason }),
            2 => ArchiveDocument::ShiftOpen(ShiftRecord { header, shift_number: d.shift }),
            5 => ArchiveDocument::ShiftClose(ShiftRecord { header, shift_number: d.shift }),
            3 => ArchiveDocument::Receipt(receipt),
            31 => ArchiveDocument::CorrectionReceipt(receipt),
            6 => ArchiveDocument::FnClose(FnCloseRecord { header, inn, registration_number: rnm }),
            _ => ArchiveDocument::SettlementReport(SettlementRecord {
                header,
                unconfirmed_count: 0,
                first_unconfirmed: None,
                first_unconfirmed_width: 3,
            }),
        }
    }

    /// The document as TLVs (0x3A): date, number, shift, receipt data, the FN and the
    /// registration numbers. The fiscal sign is in 0x30's answer (tag 1077 is not modelled).
    fn document_tlv(&self, d: &DocumentRecord) -> Result<commands::TlvList, u8> {
        use crate::protocol::Value;
        let mut w = TlvWriter::new();
        let built = (|| {
            w.value(1012, &Value::UnixTime(d.datetime))?.u32(1040, d.number)?.string(1041, &self.state.fn_number)?;
            if let Some(r) = &self.state.registration {
                w.string(1018, &r.inn)?.string(1037, &r.registration_number)?;
            }
            if d.doc_type != 1 && d.doc_type != 11 {
                w.u32(1038, u32::from(d.shift))?;
            }
            if matches!(d.doc_type, 3 | 31) {
                w.u32(1042, u32::from(d.receipt))?.byte(1054, d.operation)?.vln(1020, d.total)?;
            }
            Ok::<_, crate::protocol::tlv::TagValueError>(())
        })();
        built.map_err(|_| err::VALUE)?;
        commands::TlvList::parse(w.as_bytes()).map_err(|_| err::VALUE)
    }

    fn notification_percent(&self) -> u8 {
        (self.state.notifications.len() * 100 / 1000).min(100) as u8
    }

    fn check_vat(&self, vat: u8, t: NaiveDateTime) -> Result<(), u8> {
        if !crate::protocol::values::Vat::from(vat).is_known() {
            return Err(err::VAT);
        }
        if vat >= 7 && t.date().year() < 2025 {
            return Err(err::VAT_2025);
        }
        Ok(())
    }

    fn add_item(&mut self, item: ItemRecord) -> Result<(), u8> {
        let max = self.options.max_items;
        let rc = self.state.receipt.as_mut().ok_or(err::FN_STATE)?;
        if rc.items.len() >= max {
            return Err(err::TOO_MANY_ITEMS);
        }
        rc.items.push(item);
        Ok(())
    }

    fn check_local(&mut self, data: &[u8], t: NaiveDateTime) -> Answer {
        let r = decode::<marking::CheckMarkLocal>(data)?;
        self.need_marking()?;
        let next = self.order(0x91, data, t)?;
        if self.state.check_table.len() >= self.options.check_table_size {
            return Err(err::CHECK_TABLE_FULL);
        }
        let raw = crate::protocol::types::cp866(&r.code).map_err(|_| err::VALUE)?;
        let parsed = MarkingCode::from_wire(&raw).ok();
        let rule = self.options.scenario.rule(&r.code, parsed.as_ref().map(MarkingCode::product_id).as_deref());
        if let Some(e) = rule.and_then(|r| r.fn_error) {
            return Err(e);
        }
        let crypto_valid = rule.is_none_or(|r| r.crypto_valid);
        let check = local_check(&raw, |k| self.options.scenario.fn_has_key(k), crypto_valid);
        let mut result_2106 = 0u8;
        if check.result != 0 {
            result_2106 |= 1;
            if check.result == 3 {
                result_2106 |= 2;
            }
        }
        if self.autonomous() {
            result_2106 |= 0x10;
        }
        self.state.mark =
            Some(CurrentMark { code: r.code, code_type: check.code_type.code(), fn_result: check.result, result_2106 });
        self.state.session = next;
        ok(&marking::CheckMarkLocalResult { result: check.result, reason: check.reason })
    }

    fn check_online(&mut self, data: &[u8], t: NaiveDateTime, extra: &mut Duration) -> Answer {
        let r = decode::<marking::CheckMarkOnline>(data)?;
        self.need_marking()?;
        let next = self.order(0x92, data, t)?;
        if !r.planned_status.is_known() || r.mode != 0 || !r.measure.is_known() {
            return Err(err::VALUE);
        }
        let mark = self.state.mark.clone().ok_or(err::FN_STATE)?;
        let parsed = MarkingCode::from_wire(mark.code.as_bytes()).ok();
        let product_id = parsed.as_ref().map(MarkingCode::product_id);
        let rule = self.options.scenario.rule(&mark.code, product_id.as_deref()).cloned();
        let status = rule.as_ref().map_or(self.options.scenario.default_status, |r| r.status);
        let crypto_valid = rule.as_ref().is_none_or(|r| r.crypto_valid) && parsed.is_some();
        if let Some(tm) = self.timing() {
            *extra += Duration::from_millis(tm.oism_ms);
        }
        *extra += Duration::from_millis(rule.as_ref().map_or(0, |r| r.latency_ms));
        if status == OismStatus::Unreachable {
            // The FN formed the request but no answer came: the result stays as the FN's
            // check left it, and the code may still be saved or dropped with 0x94.
            self.state.session = next;
            return Err(err::OISM_LINK);
        }
        let status_2109: u8 = match status {
            OismStatus::Correct => 1,
            OismStatus::Incorrect => 2,
            _ => 3,
        };
        let status_ok = status_2109 == 1;
        let result_2106 = 0x01 | (u8::from(crypto_valid) << 1) | 0x04 | (u8::from(status_ok) << 3);
        let processing_2005 = 0x05 | (u8::from(crypto_valid) << 1) | (u8::from(status_ok) << 3);
        let mut w = TlvWriter::new();
        let tlv = (|| {
            w.value(2114, &crate::protocol::Value::UnixTime(t))?
                .byte(2105, if parsed.is_some() { 0 } else { 2 })?
                .byte(2005, processing_2005)?
                .byte(2109, status_2109)?;
            if let Some(id) = &product_id {
                w.string(2101, id)?;
            }
            w.byte(2100, mark.code_type)?;
            Ok::<_, crate::protocol::tlv::TagValueError>(())
        })();
        tlv.map_err(|_| err::VALUE)?;
        let list = commands::TlvList::parse(w.as_bytes()).map_err(|_| err::VALUE)?;
        if let Some(m) = self.state.mark.as_mut() {
            m.result_2106 = result_2106;
        }
        self.state.session = next;
        ok(&marking::CheckMarkOnlineResult { result: marking::MarkCheckResult(result_2106), tlv: list })
    }

    fn marked_item(&mut self, data: &[u8], t: NaiveDateTime) -> Answer {
        let item = receipt::MarkedItem::decode(data).map_err(|e| match e.field {
            "code" => err::NO_CODE,
            "code_type" | "status" | "mode" | "measure" | "fraction" => err::MARK_PARAMS,
            _ => decode_error_code(&e),
        })?;
        self.need_marking()?;
        let next = self.order(0x97, data, t)?;
        let saved = self.state.check_table.iter().position(|m| m.code == item.code).ok_or(err::NOT_CHECKED)?;
        let rc = self.state.receipt.as_ref().ok_or(err::FN_STATE)?;
        if rc.items.iter().any(|i| i.code.as_deref() == Some(item.code.as_str())) {
            return Err(err::DUPLICATE_CODE);
        }
        self.check_vat(item.vat.code(), t)?;
        receipt::check_marked_quantity(item.measure, item.quantity, item.fraction).map_err(|e| e.device_code())?;
        item.validate().map_err(|_| err::MARK_PARAMS)?;
        let sum = match item.fraction.filter(|_| receipt::has_fraction(item.fraction)) {
            Some((n, d)) => item_sum(item.price, item.quantity) * u64::from(n) / u64::from(d),
            None => item_sum(item.price, item.quantity),
        };
        self.add_item(ItemRecord { name: item.name, sum, vat: item.vat.code(), code: Some(item.code) })?;
        self.state.check_table.remove(saved);
        self.state.session = next;
        Ok(Vec::new())
    }

    fn form_receipt(&mut self, code: u8, data: &[u8], t: NaiveDateTime) -> Answer {
        let (operation, total) = if code == 0x24 {
            let r = decode::<receipt::FormReceipt>(data)?;
            (r.operation.code(), r.total)
        } else {
            let r = decode::<receipt::FormCorrectionReceipt>(data)?;
            (r.operation.code(), r.total)
        };
        let next = self.order(code, data, t)?;
        if !crate::protocol::values::Operation::from(operation).is_known() {
            return Err(if code == 0x24 { err::OPERATION } else { err::CORRECTION_OPERATION });
        }
        let rc = self.state.receipt.clone().ok_or(err::FN_STATE)?;
        if rc.items.is_empty() || (code == 0x26 && !rc.corrected_date) {
            return Err(err::NOT_ALL_DATA);
        }
        if total / 100 != rc.total() / 100 {
            return Err(err::ITEMS_SUM);
        }
        let pay = rc.payment.unwrap_or_default();
        if pay.non_cash > total {
            return Err(err::NON_CASH_OVER);
        }
        if pay.cash + pay.non_cash != total {
            return Err(if code == 0x24 { err::PAYMENT_SUM } else { err::CORRECTION_SUM });
        }
        self.check_clock(t)?;
        self.state.session = next;
        self.state.receipt = None;
        if code == 0x24 {
            // v01.05 0x64/0x65: lines left in the print buffer go into the receipt, then the
            // buffer is empty. (The ФФД 1.2 0x24 has no «дополнительный текст» that would
            // replace them.)
            self.state.printer.print_buffer();
        }
        self.state.check_table.clear();
        self.state.receipts_in_shift = self.state.receipts_in_shift.wrapping_add(1);
        self.state.cash = match operation {
            1 | 4 => self.state.cash.saturating_add(pay.cash),
            _ => self.state.cash.saturating_sub(pay.cash),
        };
        self.state.electronic = self.state.electronic.saturating_add(pay.non_cash);
        let doc = self.add_document(if code == 0x24 { 3 } else { 31 }, t, operation, total);
        if rc.items.iter().any(|i| i.code.is_some()) {
            self.state.last_notification += 1;
            if self.options.hold_notifications || self.autonomous() {
                self.state.notifications.push(Notification { number: self.state.last_notification, datetime: t });
            }
        }
        ok(&receipt::ReceiptResult {
            receipt_number: self.state.receipts_in_shift,
            fd_number: doc.number,
            fiscal_sign: doc.fiscal_sign,
            datetime: t,
            shift_number: self.state.shift_number,
        })
    }
}

/// Encodes shift report data (0xE4/0xE5), which checks every field.
fn v_encode(code: u8, v: shift::ShiftReportData) -> Result<Vec<u8>, commands::InputError> {
    let mut out = Vec::new();
    if code == 0xE4 {
        shift::ShiftOpenData(v).encode(&mut out)?;
    } else {
        shift::ShiftCloseData(v).encode(&mut out)?;
    }
    Ok(out)
}

/// A command without data (checks the length).
#[derive(Serialize)]
struct NoData;

impl Request for NoData {
    const CODE: u8 = 0;
    type Response = commands::Empty;
    fn encode(&self, _out: &mut Vec<u8>) -> Result<(), commands::InputError> {
        Ok(())
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        commands::Reader::new(data).end("data").map(|_| NoData)
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
    use crate::emulator::scenario::Timing;
    use crate::protocol::values::{Operation, Taxation};

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
        let mut r = Register::new(Options::default(), t0());
        for bad in [&b"\xB6\x29\x00\x01\x01\x8C\xEE"[..], b"\xB6\x29\x00", b"hello", b""] {
            assert_eq!(r.handle_bytes(bad, t0()).bytes, error_frame(0x25), "{bad:02X?}");
        }
        assert_eq!(call(&mut r, 0x11, &[]), Err(0x26));
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
        let mut r = Register::new(Options::default(), t0());
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
        assert_eq!(call(&mut r, 0x61, &[0x01, 0, b'x']), Err(0x28), "undefined attribute bit");
        assert_eq!(call(&mut r, 0x61, &[0]), Err(0x27), "no alignment");
        assert_eq!(call(&mut r, 0x62, &[0, 0]), Err(0x27));
        assert_eq!(call(&mut r, 0x63, b"12345"), Err(0x28), "QR text under 6 characters");
        assert_eq!(call(&mut r, 0x69, b"\x00123A"), Err(0x28), "EAN13 of a letter");
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
        let mut r = Register::new(Options::default(), t0());
        // The v01.05 example (without its stray byte): «Hello», then «1234567890» centred, extended.
        let example = hex::decode("3F9C0700000048656C6C6F3F9C0C00080131323334353637383930").unwrap();
        assert_eq!(call(&mut r, 0x64, &example), Ok(Vec::new()));
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
        assert_eq!(call(&mut r, 0x64, &hex::decode("3F9C0200 0003".replace(' ', "")).unwrap()), Err(0x5C));
        assert_eq!(call(&mut r, 0x64, &example[..10]), Err(0x5C), "a cut TLV");
        assert_eq!(call(&mut r, 0x64, &[]), Err(0x5C), "no line");
        let lines = printer::WriteFormattedLines::new(vec![printer::FormattedLine::new(0, 0, ""); 85]);
        for _ in 0..3 {
            assert_eq!(send(&mut r, &lines), Ok(Vec::new()));
        }
        assert_eq!(r.state().printer.buffer.len(), 255);
        assert_eq!(call(&mut r, 0x64, &example), Err(0x5D));
        assert_eq!(r.state().printer.buffer.len(), 255, "nothing added");
        send(&mut r, &printer::PrintBuffer).unwrap();

        // Lines left in the buffer go into the next receipt (0x24), which empties it.
        call(&mut r, 0x21, &[]).unwrap();
        call(&mut r, 0x22, &[]).unwrap();
        call(&mut r, 0x23, &[]).unwrap();
        assert_eq!(call(&mut r, 0x64, &example), Ok(Vec::new()));
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
        let mut r = Register::new(Options::default(), t0());
        for &code in REFUSED_LEGACY {
            assert!(!COMMANDS.contains(&code));
            assert!(crate::protocol::command_info(code).is_some());
            assert_eq!(call(&mut r, code, &[]), Err(err::UNKNOWN), "{code:#04x}");
        }
        let cashier = commands::shift::CashierData::new("Иванов", None);
        assert_eq!(send(&mut r, &cashier), Err(0x26));
        assert_eq!(send(&mut r, &commands::settings::ResetMockFn::default()), Err(0x26));
        assert_eq!(r.state().phase, FnPhase::Fiscal, "0x40 resets nothing");
    }

    #[test]
    fn fiscal_signs_are_deterministic_per_device() {
        let a = Register::new(Options::default(), t0());
        let b = Register::new(Options::default(), t0());
        let c = Register::new(Options { serial: "0000000002".into(), ..Options::default() }, t0());
        let sign = |r: &Register| r.state().documents[0].fiscal_sign;
        assert_eq!(sign(&a), sign(&b));
        assert_ne!(sign(&a), sign(&c));
        assert_eq!(a.fiscal_sign(1, 3, t0(), b"x"), a.fiscal_sign(1, 3, t0(), b"x"));
        assert_ne!(a.fiscal_sign(1, 3, t0(), b"x"), a.fiscal_sign(1, 3, t0(), b"y"));
    }

    #[test]
    fn timing_is_computed_not_slept() {
        let mut r = Register::new(Options::default(), t0());
        let mut f = Vec::new();
        frame::encode(0x21, &[1], &mut f).unwrap();
        assert_eq!(r.handle_bytes(&f, t0()).delay, Duration::ZERO, "instant by default");
        let scenario = Scenario { timing: Some(Timing::default()), ..Scenario::default() };
        let mut r = Register::new(Options { scenario, ..Options::default() }, t0());
        let d = r.handle_bytes(&f, t0()).delay;
        // 15 s key update + 50 ms document step + 15 bytes at 115200 baud.
        assert_eq!(d, Duration::from_millis(15_050) + Duration::from_micros(15 * 10 * 1_000_000 / 115_200));
        let mut auto = Register::new(
            Options {
                autonomous: true,
                scenario: Scenario { timing: Some(Timing::default()), ..Scenario::default() },
                ..Options::default()
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
        let mut r = Register::new(Options::default(), t0());
        call(&mut r, 0x21, &[]).unwrap();
        call(&mut r, 0x22, &[]).unwrap();
        call(&mut r, 0x23, &[]).unwrap();
        let json = serde_json::to_string(r.state()).unwrap();
        let back: RegisterState = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, r.state());
        let mut again = Register::from_state(back, Options::default());
        assert_eq!(call(&mut again, 0x23, &[]), Err(0x29), "the open receipt survived");
    }

    #[test]
    fn vat_rates_of_2025_are_refused_before_2025() {
        let old = NaiveDate::from_ymd_opt(2024, 6, 1).unwrap().and_hms_opt(10, 0, 0).unwrap();
        let r = Register::new(Options::default(), old);
        assert_eq!(r.check_vat(7, old), Err(0x6C));
        assert_eq!(r.check_vat(1, old), Ok(()));
        assert_eq!(r.check_vat(10, t0()), Ok(()));
        assert_eq!(r.check_vat(11, t0()), Err(0x37));
    }
}
