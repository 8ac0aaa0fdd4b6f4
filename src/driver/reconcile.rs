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
//! The command is never sent again blindly.

use std::any::Any;

use crate::commands::archive::{doc_type, ArchiveDocument, FoundDocument};
use crate::commands::info::FnStatus;
use crate::commands::receipt::{FormCorrectionReceipt, FormReceipt, ReceiptResult};
use crate::commands::report::{FiscalResult, SettlementReport};
use crate::commands::shift::{ShiftParams, ShiftReport, Warnings};
use crate::commands::Request;
use crate::protocol::cmd;
use crate::protocol::values::Operation;

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
