//! What happened to a fiscal command whose answer was lost: decided from what the register
//! says afterwards. Pure functions; the driver does the asking.
//!
//! 1. Before a command that forms a fiscal document the driver reads the FN status (0x08):
//!    the number of the last fiscal document, `N`.
//! 2. When the answer is lost (timeout, closed connection, corrupted or undecodable frame), it
//!    reads the FN status again ([`judge`]):
//!    * last document still `N`: nothing was formed ([`Outcome::NotFormed`]);
//!    * last document `N + 1`: something was formed: the driver reads it from the archive
//!      (0x30) and [`confirm`]s it is this command's document (its type; for a receipt, the
//!      operation and the total), then [`rebuild`]s the answer the register would have given
//!      (typed, as the command's answer);
//!    * anything else: another program used the register; the outcome is unknown.
//!
//! A receipt's record is taken for ours only when its content matches what was sent
//! ([`ReceiptContent`]: the operation, the total, the payments by type, and each item's name,
//! price and quantity, read back with 0x3A): another program on the same register (another
//! POS, a vendor utility, kkt with another journal) may have formed a receipt with the same
//! operation and total meanwhile.
//!
//! The command is never sent again blindly.

use std::any::Any;

use crate::commands::archive::{doc_type, ArchiveDocument, FoundDocument};
use crate::commands::info::FnStatus;
use crate::commands::receipt::{FormCorrectionReceipt, FormReceipt, ReceiptResult};
use crate::commands::report::{FiscalResult, SettlementReport};
use crate::commands::shift::{ShiftParams, ShiftReport, Warnings};
use crate::commands::{Request, TlvList};
use crate::protocol::tlv::{TlvNode, TlvValue};
use crate::protocol::types::{self, Decimal};
use crate::protocol::values::Operation;
use crate::protocol::{cmd, tag};
use crate::receipt::Receipt;

/// What the FN status after the loss says.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The last fiscal document is unchanged: nothing was formed.
    NotFormed,
    /// One new fiscal document, with this number: to be confirmed from the archive.
    Formed {
        /// Its number.
        fd_number: u32,
    },
    /// The numbers do not tell.
    Unknown {
        /// Why.
        detail: String,
    },
}

/// Compares the FN status before the command with the one after the loss.
pub fn judge(before: &FnStatus, after: &FnStatus) -> Outcome {
    if after.fn_number != before.fn_number {
        return Outcome::Unknown {
            detail: format!("the FN changed from {} to {} meanwhile", before.fn_number, after.fn_number),
        };
    }
    let (b, a) = (before.last_fd_number, after.last_fd_number);
    if a == b {
        Outcome::NotFormed
    } else if Some(a) == b.checked_add(1) {
        Outcome::Formed { fd_number: a }
    } else {
        Outcome::Unknown {
            detail: format!(
                "the FN's last document moved from {b} to {a}: more than one document was formed (another program uses the register?)"
            ),
        }
    }
}

/// The archive document types command `code` forms.
pub fn expected_types(code: u8) -> &'static [u8] {
    use doc_type::*;
    match code {
        cmd::FORM_RECEIPT => &[RECEIPT, BSO],
        cmd::FORM_CORRECTION => &[CORRECTION_RECEIPT, BSO_CORRECTION],
        cmd::OPEN_SHIFT => &[SHIFT_OPEN],
        cmd::CLOSE_SHIFT => &[SHIFT_CLOSE],
        cmd::FORM_SETTLEMENT_REPORT => &[SETTLEMENT_REPORT],
        cmd::FORM_FN_CLOSE => &[FN_CLOSE],
        cmd::FORM_REGISTRATION | cmd::FORM_REGISTRATION_105 => &[REGISTRATION, REGISTRATION_CHANGE],
        _ => &[],
    }
}

/// What a receipt's archive record is compared with: the operation (tag 1054) and the total
/// of the 0x24 or 0x26 that formed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiptKey {
    /// Tag 1054.
    pub operation: Operation,
    /// The total, kopecks.
    pub total: u64,
}

impl ReceiptKey {
    /// The key of command `code` with DATA `data`, read with the command's own layout (None
    /// when it is not a 0x24 or 0x26, or the data does not match).
    pub fn of(code: u8, data: &[u8]) -> Option<ReceiptKey> {
        match code {
            cmd::FORM_RECEIPT => {
                FormReceipt::decode(data).ok().map(|f| ReceiptKey { operation: f.operation, total: f.total })
            }
            cmd::FORM_CORRECTION => {
                FormCorrectionReceipt::decode(data).ok().map(|f| ReceiptKey { operation: f.operation, total: f.total })
            }
            _ => None,
        }
    }
}

/// What a receipt's archive record must hold to be taken for ours: the journal keeps it with
/// the entry (as JSON), and the driver keeps it while the receipt is formed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReceiptContent {
    /// Tag 1054.
    pub operation: Operation,
    /// Tag 1020, kopecks.
    pub total: u64,
    /// The payments by type, as 0x2D sent them (cash without the change).
    pub payments: PaymentAmounts,
    /// The items in order: tag 1059's name (1030), price (1079) and quantity (1023).
    pub items: Vec<ItemContent>,
}

/// A receipt's payments by type, kopecks (tags 1031, 1081, 1215, 1216, 1217).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct PaymentAmounts {
    /// Tag 1031.
    pub cash: u64,
    /// Tag 1081.
    pub electronic: u64,
    /// Tag 1215.
    pub prepayment: u64,
    /// Tag 1216.
    pub credit: u64,
    /// Tag 1217.
    pub consideration: u64,
}

/// One item of a receipt as its archive record is compared.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ItemContent {
    /// Tag 1030.
    pub name: String,
    /// Tag 1079, kopecks.
    pub price: u64,
    /// Tag 1023.
    pub quantity: Decimal,
}

impl ReceiptContent {
    /// The content of `receipt` as the register records it (its payments settled: cash is
    /// what stays after the change). `None` when the payments do not settle (such a receipt is
    /// refused before anything is sent).
    pub fn of(receipt: &Receipt) -> Option<ReceiptContent> {
        let s = receipt.settle().ok()?;
        Some(ReceiptContent {
            operation: receipt.operation,
            total: receipt.total().kopecks(),
            payments: PaymentAmounts {
                cash: s.cash.kopecks(),
                electronic: s.electronic.kopecks(),
                prepayment: s.prepayment.kopecks(),
                credit: s.credit.kopecks(),
                consideration: s.consideration.kopecks(),
            },
            items: receipt
                .items
                .iter()
                .map(|i| ItemContent { name: i.name.clone(), price: i.price.kopecks(), quantity: i.quantity })
                .collect(),
        })
    }

    /// The key 0x30's record is compared with first.
    pub fn key(&self) -> ReceiptKey {
        ReceiptKey { operation: self.operation, total: self.total }
    }

    /// The JSON the journal keeps.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Back from the journal's JSON.
    pub fn from_json(text: &str) -> Option<ReceiptContent> {
        serde_json::from_str(text).ok()
    }

    /// Compares the document's TLVs (0x3A) with this content: `Ok` when every compared field
    /// is the same, else what differs first.
    pub fn compare(&self, doc: &TlvList) -> Result<(), ContentMismatch> {
        let differ = |what: String| Err(ContentMismatch(what));
        let vln = |nodes: &[TlvNode], t: u16| -> Option<u64> { raw(nodes, t).and_then(|b| types::decode_vln(b).ok()) };
        if let Some(op) = raw(&doc.0, tag::OPERATION_TYPE).and_then(|b| b.first().copied()) {
            if op != self.operation.code() {
                return differ(format!("operation {op}, ours {}", self.operation.code()));
            }
        }
        if let Some(t) = vln(&doc.0, tag::RECEIPT_TOTAL) {
            if t != self.total {
                return differ(format!("total {t} kopecks, ours {}", self.total));
            }
        }
        let items: Vec<&[TlvNode]> = doc
            .0
            .iter()
            .filter(|n| n.tag == tag::RECEIPT_ITEM)
            .filter_map(|n| match &n.value {
                TlvValue::Nested(c) => Some(c.as_slice()),
                TlvValue::Raw(_) => None,
            })
            .collect();
        if items.len() != self.items.len() {
            return differ(format!("{} items, ours {}", items.len(), self.items.len()));
        }
        for (i, (theirs, ours)) in items.iter().zip(&self.items).enumerate() {
            let name = raw(theirs, tag::ITEM_NAME).map(types::decode_cp866);
            if name.as_deref().map(str::trim_end) != Some(ours.name.trim_end()) {
                return differ(format!("item {}'s name {:?}, ours {:?}", i + 1, name.unwrap_or_default(), ours.name));
            }
            let price = vln(theirs, tag::UNIT_PRICE);
            if price != Some(ours.price) {
                return differ(format!("item {}'s price {price:?} kopecks, ours {}", i + 1, ours.price));
            }
            let quantity = raw(theirs, tag::QUANTITY).and_then(|b| types::decode_fvln(b).ok());
            if !quantity.is_some_and(|q| same_number(q, ours.quantity)) {
                let q = quantity.map_or_else(|| "none".to_string(), |q| q.to_string());
                return differ(format!("item {}'s quantity {q}, ours {}", i + 1, ours.quantity));
            }
        }
        let p = &self.payments;
        for (t, name, ours) in [
            (tag::CASH_PAYMENT_AMOUNT, "cash", p.cash),
            (tag::ELECTRONIC_PAYMENT_AMOUNT, "electronic", p.electronic),
            (tag::PREPAYMENT_AMOUNT, "prepayment", p.prepayment),
            (tag::CREDIT_AMOUNT, "credit", p.credit),
            (tag::CONSIDERATION_AMOUNT, "consideration", p.consideration),
        ] {
            let theirs = vln(&doc.0, t).unwrap_or(0);
            if theirs != ours {
                return differ(format!("{name} payment {theirs} kopecks, ours {ours}"));
            }
        }
        Ok(())
    }
}

/// What differs between an archive record and a journal entry's receipt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the receipt in the archive has {0}")]
pub struct ContentMismatch(pub String);

fn raw(nodes: &[TlvNode], t: u16) -> Option<&[u8]> {
    nodes.iter().find(|n| n.tag == t).and_then(|n| match &n.value {
        TlvValue::Raw(v) => Some(v.as_slice()),
        TlvValue::Nested(_) => None,
    })
}

/// Whether two decimals are the same number (`2` and `2.000`).
fn same_number(a: Decimal, b: Decimal) -> bool {
    let scale = a.scale.max(b.scale);
    matches!((a.to_scale(scale), b.to_scale(scale)), (Some(x), Some(y)) if x == y)
}

/// Why an archive record is not (or cannot be read as) the lost command's document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReconcileError {
    /// A document of another type.
    #[error("the new document is a {name} (type {found}), not what {command:#04X} forms")]
    OtherType {
        /// The lost command.
        command: u8,
        /// The record's document type.
        found: u8,
        /// Its name.
        name: &'static str,
    },
    /// A receipt's operation and total are needed to tell it, and are not known.
    #[error("the request data is not operation + total")]
    NoReceiptKey,
    /// The record of a receipt command is not a receipt.
    #[error("the archive record is not a receipt")]
    NotAReceipt,
    /// A receipt, but not this one.
    #[error(
        "the new receipt has operation {} and total {} kopecks; ours had {} and {}",
        found.operation.code(), found.total, ours.operation.code(), ours.total
    )]
    OtherReceipt {
        /// What the record says.
        found: ReceiptKey,
        /// What the command asked for.
        ours: ReceiptKey,
    },
    /// The record has no document header (number, fiscal sign, time).
    #[error("the archive record has no header")]
    NoHeader,
    /// A receipt's answer needs the shift parameters (receipt and shift numbers).
    #[error("the shift parameters are needed for a receipt")]
    NoShiftParams,
    /// The command's answer cannot be built from this record.
    #[error("no answer layout for {0:#04X} from this record")]
    NoLayout(u8),
}

/// Checks that the archive document is the one command `code` forms; a receipt's must also
/// have the operation and total of `receipt` (see [`ReceiptKey::of`]).
pub fn confirm(code: u8, receipt: Option<ReceiptKey>, doc: &FoundDocument) -> Result<(), ReconcileError> {
    let ty = doc.document.document_type();
    let expected = expected_types(code);
    if !expected.contains(&ty) {
        return Err(ReconcileError::OtherType {
            command: code,
            found: ty,
            name: doc_type::name(u16::from(ty)).unwrap_or("document of unknown type"),
        });
    }
    if matches!(code, cmd::FORM_RECEIPT | cmd::FORM_CORRECTION) {
        let ours = receipt.ok_or(ReconcileError::NoReceiptKey)?;
        let rec = match &doc.document {
            ArchiveDocument::Receipt(r)
            | ArchiveDocument::CorrectionReceipt(r)
            | ArchiveDocument::Bso(r)
            | ArchiveDocument::BsoCorrection(r) => r,
            _ => return Err(ReconcileError::NotAReceipt),
        };
        let found = ReceiptKey { operation: rec.operation, total: rec.total };
        if found != ours {
            return Err(ReconcileError::OtherReceipt { found, ours });
        }
    }
    Ok(())
}

/// A fiscal command's answer, rebuilt from the register's archive after it was lost.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rebuilt {
    /// 0x24, 0x26.
    Receipt(ReceiptResult),
    /// 0x22, 0x2A.
    Shift(ShiftReport),
    /// 0x28.
    Settlement(SettlementReport),
    /// 0x15, 0xE3, 0x13.
    Fiscal(FiscalResult),
}

impl Rebuilt {
    /// The answer's DATA as the register would have sent it.
    pub fn to_bytes(&self) -> Vec<u8> {
        use crate::commands::Response;
        let mut out = Vec::new();
        let _ = match self {
            Rebuilt::Receipt(r) => r.encode(&mut out),
            Rebuilt::Shift(r) => r.encode(&mut out),
            Rebuilt::Settlement(r) => r.encode(&mut out),
            Rebuilt::Fiscal(r) => r.encode(&mut out),
        };
        out
    }

    /// The answer as `T`, the answer type of the command it was rebuilt for (None when `T` is
    /// another type).
    pub fn into_answer<T: 'static>(self) -> Option<T> {
        let any: Box<dyn Any> = match self {
            Rebuilt::Receipt(r) => Box::new(r),
            Rebuilt::Shift(r) => Box::new(r),
            Rebuilt::Settlement(r) => Box::new(r),
            Rebuilt::Fiscal(r) => Box::new(r),
        };
        any.downcast().ok().map(|b| *b)
    }
}

/// The answer the register would have given to `code`, rebuilt from the archive record, the
/// shift parameters (receipts: receipt and shift numbers) and the FN status (warnings).
pub fn rebuild(
    code: u8,
    doc: &FoundDocument,
    shift: Option<&ShiftParams>,
    after: &FnStatus,
) -> Result<Rebuilt, ReconcileError> {
    let header = *doc.document.header().ok_or(ReconcileError::NoHeader)?;
    Ok(match (code, &doc.document) {
        (cmd::FORM_RECEIPT | cmd::FORM_CORRECTION, _) => {
            let shift = shift.ok_or(ReconcileError::NoShiftParams)?;
            Rebuilt::Receipt(ReceiptResult {
                receipt_number: shift.receipt_number,
                fd_number: header.fd_number,
                fiscal_sign: header.fiscal_sign,
                datetime: header.datetime,
                shift_number: shift.shift_number,
            })
        }
        (cmd::OPEN_SHIFT, ArchiveDocument::ShiftOpen(s)) | (cmd::CLOSE_SHIFT, ArchiveDocument::ShiftClose(s)) => {
            Rebuilt::Shift(ShiftReport {
                shift_number: s.shift_number,
                fd_number: header.fd_number,
                fiscal_sign: header.fiscal_sign,
                warnings: Warnings(after.warnings),
            })
        }
        (cmd::FORM_SETTLEMENT_REPORT, ArchiveDocument::SettlementReport(s)) => Rebuilt::Settlement(SettlementReport {
            fd_number: header.fd_number,
            fiscal_sign: header.fiscal_sign,
            unconfirmed: s.unconfirmed_count,
            first_unconfirmed: s.first_unconfirmed.map(|t| t.date()),
        }),
        (cmd::FORM_FN_CLOSE | cmd::FORM_REGISTRATION | cmd::FORM_REGISTRATION_105, _) => {
            Rebuilt::Fiscal(FiscalResult { fd_number: header.fd_number, fiscal_sign: header.fiscal_sign })
        }
        _ => return Err(ReconcileError::NoLayout(code)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::archive::{DocumentHeader, ReceiptRecord, ShiftRecord};
    use crate::protocol::values::{CurrentDocument, LifePhase};

    fn t() -> chrono::NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 3, 4).unwrap().and_hms_opt(10, 20, 0).unwrap()
    }

    fn fs(last: u32) -> FnStatus {
        FnStatus {
            phase: LifePhase::FISCAL,
            current_document: CurrentDocument::NONE,
            document_data: 0,
            shift_open: 1,
            warnings: 0,
            last_document_datetime: t(),
            fn_number: "9999078902003867".into(),
            last_fd_number: last,
        }
    }

    fn receipt_doc(fd: u32, op: u8, total: u64) -> FoundDocument {
        FoundDocument {
            ofd_confirmed: 0,
            document: ArchiveDocument::Receipt(ReceiptRecord {
                header: DocumentHeader { datetime: t(), fd_number: fd, fiscal_sign: 0xABCD1234 },
                operation: op.into(),
                total,
            }),
        }
    }

    #[test]
    fn judge_by_fd_numbers() {
        assert_eq!(judge(&fs(10), &fs(10)), Outcome::NotFormed);
        assert_eq!(judge(&fs(10), &fs(11)), Outcome::Formed { fd_number: 11 });
        assert!(matches!(judge(&fs(10), &fs(12)), Outcome::Unknown { .. }));
        assert!(matches!(judge(&fs(10), &fs(9)), Outcome::Unknown { .. }));
        let mut other = fs(11);
        other.fn_number = "1".into();
        assert!(matches!(judge(&fs(10), &other), Outcome::Unknown { .. }));
        assert!(matches!(judge(&fs(u32::MAX), &fs(0)), Outcome::Unknown { .. }));
    }

    #[test]
    fn confirm_checks_type_operation_and_total() {
        let data = [1, 0x98, 0x3A, 0, 0, 0]; // sell, 150.00
        let key = ReceiptKey::of(0x24, &data);
        assert_eq!(key, Some(ReceiptKey { operation: Operation::SELL, total: 15000 }));
        assert_eq!(ReceiptKey::of(0x24, &data[..5]), None);
        assert_eq!(confirm(0x24, key, &receipt_doc(11, 1, 15000)), Ok(()));
        assert!(confirm(0x24, key, &receipt_doc(11, 2, 15000)).is_err());
        assert!(confirm(0x24, key, &receipt_doc(11, 1, 15001)).is_err());
        assert_eq!(confirm(0x24, None, &receipt_doc(11, 1, 15000)), Err(ReconcileError::NoReceiptKey));
        // A receipt is not a shift report.
        assert!(confirm(0x22, None, &receipt_doc(11, 1, 15000)).is_err());
        let shift = FoundDocument {
            ofd_confirmed: 0,
            document: ArchiveDocument::ShiftOpen(ShiftRecord {
                header: DocumentHeader { datetime: t(), fd_number: 11, fiscal_sign: 7 },
                shift_number: 5,
            }),
        };
        assert_eq!(confirm(0x22, None, &shift), Ok(()));
        assert!(confirm(0x2A, None, &shift).is_err());
        let r: ShiftReport = rebuild(0x22, &shift, None, &fs(11)).unwrap().into_answer().unwrap();
        assert_eq!((r.shift_number, r.fd_number, r.fiscal_sign), (5, 11, 7));
    }

    #[test]
    fn rebuilt_receipt_answer() {
        let shift = ShiftParams { open: true, shift_number: 3, receipt_number: 17 };
        let rebuilt = rebuild(0x24, &receipt_doc(11, 1, 15000), Some(&shift), &fs(11)).unwrap();
        // Typed as the command's answer, and only as that.
        assert_eq!(rebuilt.clone().into_answer::<ShiftReport>(), None);
        let r: ReceiptResult = rebuilt.into_answer().unwrap();
        assert_eq!(
            r,
            ReceiptResult {
                receipt_number: 17,
                fd_number: 11,
                fiscal_sign: 0xABCD1234,
                datetime: t(),
                shift_number: 3
            }
        );
        assert_eq!(rebuild(0x24, &receipt_doc(11, 1, 15000), None, &fs(11)), Err(ReconcileError::NoShiftParams));
    }
}
