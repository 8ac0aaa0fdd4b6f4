//! Everything the virtual register remembers, serializable (the `--state` file).

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::protocol::values::LifePhase;
use crate::session::{ReceiptKind, SessionState};

/// The FN's life phase (0x01/0x08 phase bits: 1 ready, 3 fiscal, 7 post-fiscal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FnPhase {
    /// Factory-fresh, ready for registration.
    Setup,
    /// Registered: fiscal mode.
    Fiscal,
    /// Closed (0x15): post-fiscal mode, only reports and archive reading.
    PostFiscal,
}

impl FnPhase {
    /// The phase byte of 0x01/0x08.
    pub fn bits(self) -> LifePhase {
        match self {
            FnPhase::Setup => LifePhase::SETUP,
            FnPhase::Fiscal => LifePhase::FISCAL,
            FnPhase::PostFiscal => LifePhase::POST_FISCAL,
        }
    }
}

/// The registration the FN holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// User INN (12, space-padded).
    pub inn: String,
    /// Registration number (РН ККТ).
    pub registration_number: String,
    /// Taxation systems (0xE3 bits: 0 general, 1 УСН доход, 2 УСН д-р, 4 ЕСХН, 5 патент).
    pub taxation: u8,
    /// Operating mode bits (tag 9999).
    pub modes: u8,
    /// Usage condition bits (tag 9998).
    pub usage: u8,
    /// User name.
    pub user_name: String,
    /// Settlement address.
    pub address: String,
    /// Settlement place.
    pub place: String,
    /// OFD INN.
    pub ofd_inn: String,
    /// Vending machine number (tag 1036), empty when registered without one.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub automat_number: String,
    /// Registered for settlements whose address, place and vending machine number each receipt
    /// gives (`kkt emulator --modes`): 1009, 1187 and 1036 are then required in every receipt
    /// (0xC9 without them).
    #[serde(default, skip_serializing_if = "SettlementModes::is_empty")]
    pub settlement_modes: SettlementModes,
}

/// How a register registered for vending, delivery or one-to-many settlements works
/// (`kkt emulator --modes automat,delivery,one_to_many`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SettlementModes {
    /// In a vending machine (automatic mode: 0x0A's mode bit 2): registered with its address,
    /// place and vending machine number.
    pub automat: bool,
    /// Delivery trade (развозная торговля): registered without a settlement place; every receipt
    /// gives where it was settled.
    pub delivery: bool,
    /// One register for several automats (один-ко-многим, automatic mode): registered without
    /// address, place and vending machine number; every receipt gives them.
    pub one_to_many: bool,
}

impl SettlementModes {
    /// None of the modes.
    pub fn is_empty(&self) -> bool {
        *self == SettlementModes::default()
    }

    /// Whether the register works in automatic mode (0x0A's mode bit 2).
    pub fn automatic(&self) -> bool {
        self.automat || self.one_to_many
    }

    /// The names of the modes set (`automat`, `delivery`, `one_to_many`).
    pub fn names(&self) -> Vec<&'static str> {
        [(self.automat, "automat"), (self.delivery, "delivery"), (self.one_to_many, "one_to_many")]
            .into_iter()
            .filter(|(on, _)| *on)
            .map(|(_, n)| n)
            .collect()
    }

    /// Reads `automat,delivery,one_to_many` (any of them, comma-separated).
    pub fn parse(text: &str) -> Result<SettlementModes, String> {
        let mut m = SettlementModes::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "automat" => m.automat = true,
                "delivery" => m.delivery = true,
                "one_to_many" => m.one_to_many = true,
                other => return Err(format!("{other:?} is not one of automat, delivery, one_to_many")),
            }
        }
        Ok(m)
    }
}

impl Registration {
    /// Whether the register works in autonomous mode.
    pub fn autonomous(&self) -> bool {
        self.modes & crate::protocol::values::OperatingModes::AUTONOMOUS.bits() != 0
    }

    /// Whether marked goods are allowed.
    pub fn marking(&self) -> bool {
        self.usage & crate::protocol::values::UsageConditions::MARKING.bits() != 0
    }
}

/// An item of the open receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemRecord {
    /// Name.
    pub name: String,
    /// Item total in kopecks (price × quantity, rounded).
    pub sum: u64,
    /// VAT rate (tag 1199).
    pub vat: u8,
    /// The marking code, for marked goods.
    pub code: Option<String>,
}

/// The open receipt or correction receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptDraft {
    /// Receipt or correction.
    pub kind: ReceiptKind,
    /// Items so far.
    pub items: Vec<ItemRecord>,
    /// Payment data (0x2D): cash, electronic, prepayment, credit, consideration; taxation.
    pub payment: Option<PaymentRecord>,
    /// Whether 0x98 gave tag 1178 (correction receipts need it).
    pub corrected_date: bool,
    /// The tags 0x98 gave for the settlement address, place and vending machine number
    /// (1009, 1187, 1036), non-empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub settlement_tags: Vec<u16>,
    /// The document's TLVs as the FN keeps them (0x3A reads them back): each item as STLV 1059
    /// of the tags 0x96/0x97 sent, the requisites of 0x98 and the payments of 0x2D.
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "hex_bytes")]
    pub tlv: Vec<u8>,
}

/// Bytes as hex text in the state file.
mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode_upper(v))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let t = String::deserialize(d)?;
        hex::decode(t).map_err(serde::de::Error::custom)
    }
}

impl ReceiptDraft {
    /// The sum of the items.
    pub fn total(&self) -> u64 {
        self.items.iter().map(|i| i.sum).sum()
    }
}

/// Payment data of a receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PaymentRecord {
    /// Cash.
    pub cash: u64,
    /// Every non-cash type together.
    pub non_cash: u64,
    /// Tag 1055, if given.
    pub taxation: Option<u8>,
}

/// The code under check (0x91 … 0x94).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentMark {
    /// The code as scanned.
    pub code: String,
    /// Tag 2100.
    pub code_type: u8,
    /// The FN's result (tag 2004: 0, 1, 3).
    pub fn_result: u8,
    /// Tag 2106 after the checks so far.
    pub result_2106: u8,
}

/// A check result saved in the FN's table (0x94 with 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedMark {
    /// The code.
    pub code: String,
    /// Tag 2106.
    pub result_2106: u8,
}

/// The FFD document types (tag 1000) of [`DocumentRecord::doc_type`].
pub mod doc_type {
    /// Registration report.
    pub const REGISTRATION: u8 = 1;
    /// Shift open report.
    pub const SHIFT_OPEN: u8 = 2;
    /// Receipt.
    pub const RECEIPT: u8 = 3;
    /// Shift close report.
    pub const SHIFT_CLOSE: u8 = 5;
    /// FN close report.
    pub const FN_CLOSE: u8 = 6;
    /// Re-registration report.
    pub const REREGISTRATION: u8 = 11;
    /// Settlement report (report on the state of settlements).
    pub const SETTLEMENT: u8 = 21;
    /// Correction receipt.
    pub const CORRECTION: u8 = 31;

    /// A receipt or a correction receipt (it has a number in the shift, an operation and a
    /// total).
    pub fn is_receipt(doc_type: u8) -> bool {
        matches!(doc_type, RECEIPT | CORRECTION)
    }

    /// A registration or re-registration report (it belongs to no shift).
    pub fn is_registration(doc_type: u8) -> bool {
        matches!(doc_type, REGISTRATION | REREGISTRATION)
    }

    /// The printed name of a document type.
    pub fn name(doc_type: u8) -> &'static str {
        match doc_type {
            REGISTRATION => "ОТЧЕТ О РЕГИСТРАЦИИ",
            SHIFT_OPEN => "ОТЧЕТ ОБ ОТКРЫТИИ СМЕНЫ",
            RECEIPT => "КАССОВЫЙ ЧЕК",
            SHIFT_CLOSE => "ОТЧЕТ О ЗАКРЫТИИ СМЕНЫ",
            FN_CLOSE => "ОТЧЕТ О ЗАКРЫТИИ ФН",
            REREGISTRATION => "ОТЧЕТ ОБ ИЗМЕНЕНИИ ПАРАМЕТРОВ РЕГИСТРАЦИИ",
            SETTLEMENT => "ОТЧЕТ О ТЕКУЩЕМ СОСТОЯНИИ РАСЧЕТОВ",
            CORRECTION => "ЧЕК КОРРЕКЦИИ",
            _ => "ДОКУМЕНТ",
        }
    }
}

/// A fiscal document in the FN's archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRecord {
    /// Fiscal document number.
    pub number: u32,
    /// FFD document type ([`doc_type`]).
    pub doc_type: u8,
    /// Date and time (minutes).
    pub datetime: NaiveDateTime,
    /// Fiscal sign.
    pub fiscal_sign: u32,
    /// Shift number.
    pub shift: u16,
    /// Receipt number in the shift (receipts).
    pub receipt: u16,
    /// Operation (tag 1054) of a receipt.
    pub operation: u8,
    /// Total of a receipt, kopecks.
    pub total: u64,
    /// Re-registration reasons (0xE3, tag 1205), for type 11.
    #[serde(default)]
    pub reason: u32,
    /// The TLVs beyond the header the FN keeps for it (a receipt's items, requisites and
    /// payments; a registration report's data), as 0x3A reads them back.
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "hex_bytes")]
    pub tlv: Vec<u8>,
    /// Whether the OFD confirmed it (a state file of an earlier version: yes).
    #[serde(default = "confirmed", skip_serializing_if = "is_true")]
    pub ofd_confirmed: bool,
}

fn confirmed() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// A marked-goods sale notification waiting for the OISM's receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// Its number.
    pub number: u32,
    /// When it was formed.
    pub datetime: NaiveDateTime,
}

/// The whole state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterState {
    /// Register serial number (12 characters).
    pub serial: String,
    /// FN number (16 characters).
    pub fn_number: String,
    /// Per-device key of the fiscal signs (hex).
    pub key: String,
    /// Device clock minus the host clock, seconds (set by 0x72).
    pub clock_offset_s: i64,
    /// FN phase.
    pub phase: FnPhase,
    /// FFD of the FN (0x0F): 0 before activation, 4 = 1.2.
    pub ffd: u8,
    /// The registration, once registered.
    pub registration: Option<Registration>,
    /// Registration in progress (0xE1 report type, 0xE2 data).
    pub registration_draft: Option<(u8, Option<Registration>)>,
    /// The command order (shift, document, marked-item step).
    pub session: SessionState,
    /// Current (open) or last shift number.
    pub shift_number: u16,
    /// Receipts in the current (or last) shift.
    pub receipts_in_shift: u16,
    /// Last fiscal document number.
    pub last_fd: u32,
    /// When the last document was formed.
    pub last_document_at: NaiveDateTime,
    /// The open receipt.
    pub receipt: Option<ReceiptDraft>,
    /// The code under check.
    pub mark: Option<CurrentMark>,
    /// Saved check results.
    pub check_table: Vec<SavedMark>,
    /// Sale notifications awaiting their receipts.
    pub notifications: Vec<Notification>,
    /// Last notification number.
    pub last_notification: u32,
    /// The archive.
    pub documents: Vec<DocumentRecord>,
    /// Cash in the drawer, kopecks.
    pub cash: u64,
    /// OISM host (0x82).
    pub oism_host: (String, u16, u16),
    /// Key update host (0x84).
    pub key_host: (String, u16),
    /// OFD server: domain name, port, exchange timer in seconds (0x76).
    #[serde(default = "default_ofd")]
    pub ofd: (String, u16, u16),
    /// Whether the activation code was entered (0xDD).
    pub activated: bool,
    /// Electronic payments since the shift opened, kopecks (0xB0).
    #[serde(default)]
    pub electronic: u64,
    /// The printer: what it printed last and the buffer of formatted lines (0x61–0x69).
    #[serde(default)]
    pub printer: Printer,
    /// The document 0x35 selected and the index of the next TLV 0x36 gives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tlv_cursor: Option<(u32, usize)>,
    /// The Ethernet interface's settings (0x74/0x75; 0x0E reports the address). Not written
    /// while the defaults (a state file of an earlier version stays as it was).
    #[serde(default, skip_serializing_if = "is_default")]
    pub network: NetworkState,
    /// The print settings (0x78/0x79).
    #[serde(default, skip_serializing_if = "is_default")]
    pub print_settings: PrintState,
    /// The control interface (0x80/0x81).
    #[serde(default, skip_serializing_if = "is_default")]
    pub control: ControlState,
}

/// The Ethernet interface (0x74/0x75): what was set, which 0x0E reports as the address in use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkState {
    /// 0 static, 1 DHCP.
    pub dhcp: u8,
    /// IP address (with DHCP: the one the emulated lease gives, the last static one).
    pub ip: String,
    /// Subnet mask.
    pub mask: String,
    /// Default gateway.
    pub gateway: String,
}

impl Default for NetworkState {
    fn default() -> Self {
        Self { dhcp: 0, ip: "127.0.0.1".into(), mask: "255.0.0.0".into(), gateway: "127.0.0.1".into() }
    }
}

/// The print settings (0x78/0x79).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PrintState {
    /// Printer model code (v01.05 Приложение 4; 0 detect automatically).
    pub printer_model: u8,
    /// 0 normal, 1 small font.
    pub font_size: u8,
    /// 1 pull shift reports in, 0 push them out.
    pub retract: u8,
    /// Text printed after the receipt's QR code.
    pub receipt_text: String,
}

/// The control interface (0x80/0x81).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlState {
    /// 0 RS-232, 1 Ethernet.
    pub interface: u8,
    /// The TCP port the register listens on.
    pub tcp_port: u16,
}

impl Default for ControlState {
    fn default() -> Self {
        Self { interface: 1, tcp_port: 7778 }
    }
}

/// Most entries [`Printer::printed`] keeps (the oldest go first).
pub const PRINTED_KEEP: usize = 200;

/// One thing the printer put on paper.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Printed {
    /// A text line (0x61, or a buffered line printed by 0x65 or in a receipt).
    Line {
        /// Font attribute bits.
        attributes: u8,
        /// 0 left, 1 centre, 2 right.
        alignment: u8,
        /// The text.
        text: String,
    },
    /// A cut (0x62).
    Cut {
        /// Partial rather than full.
        partial: bool,
    },
    /// A QR code (0x63).
    Qr {
        /// Its text.
        text: String,
    },
    /// A barcode (0x69).
    Barcode {
        /// 0 EAN13, 1 CODE128.
        barcode_type: u8,
        /// Its text.
        text: String,
    },
}

impl Printed {
    /// What it looks like on paper, as text.
    pub fn paper_text(&self) -> String {
        match self {
            Printed::Line { alignment, text, .. } => match alignment {
                1 => format!("{text:^48}").trim_end().to_string(),
                2 => format!("{text:>48}"),
                _ => text.clone(),
            },
            Printed::Cut { partial } => {
                format!("{:-^48}", if *partial { " ✂ (partial cut) " } else { " ✂ " })
            }
            Printed::Qr { text } => format!("[QR: {text}]"),
            Printed::Barcode { text, .. } => format!("[barcode: {text}]"),
        }
    }
}

/// A line waiting in the print buffer (0x64).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BufferedLine {
    /// Font attribute bits.
    pub attributes: u8,
    /// 0 left, 1 centre, 2 right.
    pub alignment: u8,
    /// The text.
    pub text: String,
}

/// The printer model.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Printer {
    /// What was printed, oldest first, at most [`PRINTED_KEEP`].
    pub printed: Vec<Printed>,
    /// Lines written by 0x64, not printed yet (at most 255).
    pub buffer: Vec<BufferedLine>,
    /// How many things were ever printed (the count goes on when [`Printer::printed`] drops its
    /// oldest entries).
    #[serde(default, skip_serializing_if = "is_default")]
    pub printed_total: u64,
    /// The shift report being formed is not printed (0x21/0x29 «без вывода на печать»).
    #[serde(default, skip_serializing_if = "is_default")]
    pub no_print: bool,
}

impl Printer {
    /// Puts `p` on paper.
    pub fn print(&mut self, p: Printed) {
        if self.printed.len() >= PRINTED_KEEP {
            self.printed.remove(0);
        }
        self.printed.push(p);
        self.printed_total += 1;
    }

    /// The texts of what was printed after `since` (a value of [`Printer::printed_total`]).
    pub fn since(&self, since: u64) -> Vec<String> {
        let new =
            usize::try_from(self.printed_total.saturating_sub(since)).unwrap_or(usize::MAX).min(self.printed.len());
        self.printed[self.printed.len() - new..].iter().map(Printed::paper_text).collect()
    }

    /// Prints the buffer and empties it.
    pub fn print_buffer(&mut self) {
        for l in std::mem::take(&mut self.buffer) {
            self.print(Printed::Line { attributes: l.attributes, alignment: l.alignment, text: l.text });
        }
    }
}

/// The OFD settings of a new register (a state file from before 0x76 was modelled gets them too).
pub fn default_ofd() -> (String, u16, u16) {
    ("ofd.example.ru".into(), 7777, 60)
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}
