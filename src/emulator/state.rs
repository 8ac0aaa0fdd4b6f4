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
    /// Price per unit in kopecks (tag 1079), as 0x96/0x97 gave it (state files of earlier
    /// versions have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<u64>,
    /// Quantity (tag 1023), as 0x96/0x97 gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<crate::protocol::Decimal>,
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
    /// Each non-cash type (tags 1081, 1215, 1216, 1217), as 0x2D gave them.
    #[serde(default, skip_serializing_if = "NonCash::is_zero")]
    pub by_type: NonCash,
}

/// The non-cash payments of a receipt by type, kopecks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct NonCash {
    /// Electronic (tag 1081).
    pub electronic: u64,
    /// Prepayment (tag 1215).
    pub prepayment: u64,
    /// Credit (tag 1216).
    pub credit: u64,
    /// Consideration (tag 1217).
    pub consideration: u64,
}

impl NonCash {
    fn is_zero(&self) -> bool {
        *self == NonCash::default()
    }
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
    /// Re-registration reasons (0xE3), for type 11.
    #[serde(default)]
    pub reason: u8,
    /// A receipt's items, as the FN keeps them (0x3A reads them back as tag 1059).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<ItemRecord>,
    /// A receipt's payments (0x3A: tags 1031, 1081, 1215, 1216, 1217).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<PaymentRecord>,
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
}

impl Printer {
    /// Puts `p` on paper.
    pub fn print(&mut self, p: Printed) {
        if self.printed.len() >= PRINTED_KEEP {
            self.printed.remove(0);
        }
        self.printed.push(p);
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
