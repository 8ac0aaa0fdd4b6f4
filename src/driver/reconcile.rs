//! What happened to a fiscal command whose answer was lost: decided from what the register
//! says afterwards. Pure functions; the driver does the asking.
//!
//! 1. Before a command that forms a fiscal document the driver reads the FN status (0x08):
//!    the number of the last fiscal document, `N`.
//! 2. When the answer is lost (timeout, closed connection, corrupted or undecodable frame), it
//!    reads the FN status again ([`judge`]):
//!    * last document still `N`: nothing was formed ([`Verdict::NotFormed`]);
//!    * last document `N + 1`: something was formed: the driver reads it from the archive
//!      (0x30) and [`confirm`]s it is this command's document (its type; for a receipt, the
//!      operation and the total), then builds the answer the register would have given
//!      ([`response_bytes`]);
//!    * anything else: another program used the register; the outcome is unknown.
//!
//! The command is never sent again blindly.

use crate::commands::archive::{doc_type, ArchiveDocument, FoundDocument};
use crate::commands::info::FnStatus;
use crate::commands::receipt::ReceiptResult;
use crate::commands::report::{FiscalResult, SettlementReport};
use crate::commands::shift::{ShiftParams, ShiftReport, Warnings};
use crate::commands::{InputError, Response};

/// What the FN status after the loss says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
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
pub fn judge(before: &FnStatus, after: &FnStatus) -> Verdict {
    if after.fn_number != before.fn_number {
        return Verdict::Unknown {
            detail: format!("the FN changed from {} to {} meanwhile", before.fn_number, after.fn_number),
        };
    }
    let (b, a) = (before.last_fd_number, after.last_fd_number);
    if a == b {
        Verdict::NotFormed
    } else if Some(a) == b.checked_add(1) {
        Verdict::Formed { fd_number: a }
    } else {
        Verdict::Unknown {
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
        0x24 => &[RECEIPT, BSO],
        0x26 => &[CORRECTION_RECEIPT, BSO_CORRECTION],
        0x22 => &[SHIFT_OPEN],
        0x2A => &[SHIFT_CLOSE],
        0x28 => &[SETTLEMENT_REPORT],
        0x15 => &[FN_CLOSE],
        0xE3 | 0x13 => &[REGISTRATION, REGISTRATION_CHANGE],
        _ => &[],
    }
}

/// Checks that the archive document is the one command `code` with DATA `data` would form.
pub fn confirm(code: u8, data: &[u8], doc: &FoundDocument) -> Result<(), String> {
    let ty = doc.document.document_type();
    let expected = expected_types(code);
    if !expected.contains(&ty) {
        return Err(format!(
            "the new document is a {} (type {ty}), not what {code:#04X} forms",
            doc_type::name(u16::from(ty)).unwrap_or("document of unknown type")
        ));
    }
    if matches!(code, 0x24 | 0x26) {
        let (op, total) = match data {
            [op, t @ ..] if t.len() == 5 => (*op, crate::protocol::types::decode_u40(t).unwrap_or(u64::MAX)),
            _ => return Err("the request data is not operation + total".into()),
        };
        let rec = match &doc.document {
            ArchiveDocument::Receipt(r)
            | ArchiveDocument::CorrectionReceipt(r)
            | ArchiveDocument::Bso(r)
            | ArchiveDocument::BsoCorrection(r) => r,
            _ => return Err("the archive record is not a receipt".into()),
        };
        if (rec.operation.code(), rec.total) != (op, total) {
            return Err(format!(
                "the new receipt has operation {} and total {} kopecks; ours had {op} and {total}",
                rec.operation.code(),
                rec.total
            ));
        }
    }
    Ok(())
}

fn encoded<R: Response>(r: R) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    r.encode(&mut out).map_err(|e: InputError| e.to_string())?;
    Ok(out)
}

/// The answer the register would have given to `code`, rebuilt from the archive record, the
/// shift parameters (receipts: receipt and shift numbers) and the FN status (warnings).
pub fn response_bytes(
    code: u8,
    doc: &FoundDocument,
    shift: Option<&ShiftParams>,
    after: &FnStatus,
) -> Result<Vec<u8>, String> {
    let header = *doc.document.header().ok_or("the archive record has no header")?;
    match (code, &doc.document) {
        (0x24 | 0x26, _) => {
            let shift = shift.ok_or("the shift parameters are needed for a receipt")?;
            encoded(ReceiptResult {
                receipt_number: shift.receipt_number,
                fd_number: header.fd_number,
                fiscal_sign: header.fiscal_sign,
                datetime: header.datetime,
                shift_number: shift.shift_number,
            })
        }
        (0x22, ArchiveDocument::ShiftOpen(s)) | (0x2A, ArchiveDocument::ShiftClose(s)) => encoded(ShiftReport {
            shift_number: s.shift_number,
            fd_number: header.fd_number,
            fiscal_sign: header.fiscal_sign,
            warnings: Warnings(after.warnings),
        }),
        (0x28, ArchiveDocument::SettlementReport(s)) => encoded(SettlementReport {
            fd_number: header.fd_number,
            fiscal_sign: header.fiscal_sign,
            unconfirmed: s.unconfirmed_count,
            first_unconfirmed: s.first_unconfirmed.map(|t| t.date()),
        }),
        (0x15 | 0xE3 | 0x13, _) => {
            encoded(FiscalResult { fd_number: header.fd_number, fiscal_sign: header.fiscal_sign })
        }
        _ => Err(format!("no answer layout for {code:#04X} from this record")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::archive::{DocumentHeader, ReceiptRecord, ShiftRecord};
    use crate::commands::Response;
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
        assert_eq!(judge(&fs(10), &fs(10)), Verdict::NotFormed);
        assert_eq!(judge(&fs(10), &fs(11)), Verdict::Formed { fd_number: 11 });
        assert!(matches!(judge(&fs(10), &fs(12)), Verdict::Unknown { .. }));
        assert!(matches!(judge(&fs(10), &fs(9)), Verdict::Unknown { .. }));
        let mut other = fs(11);
        other.fn_number = "1".into();
        assert!(matches!(judge(&fs(10), &other), Verdict::Unknown { .. }));
        assert!(matches!(judge(&fs(u32::MAX), &fs(0)), Verdict::Unknown { .. }));
    }

    #[test]
    fn confirm_checks_type_operation_and_total() {
        let data = [1, 0x98, 0x3A, 0, 0, 0]; // sell, 150.00
        assert_eq!(confirm(0x24, &data, &receipt_doc(11, 1, 15000)), Ok(()));
        assert!(confirm(0x24, &data, &receipt_doc(11, 2, 15000)).is_err());
        assert!(confirm(0x24, &data, &receipt_doc(11, 1, 15001)).is_err());
        // A receipt is not a shift report.
        assert!(confirm(0x22, &[], &receipt_doc(11, 1, 15000)).is_err());
        let shift = FoundDocument {
            ofd_confirmed: 0,
            document: ArchiveDocument::ShiftOpen(ShiftRecord {
                header: DocumentHeader { datetime: t(), fd_number: 11, fiscal_sign: 7 },
                shift_number: 5,
            }),
        };
        assert_eq!(confirm(0x22, &[], &shift), Ok(()));
        assert!(confirm(0x2A, &[], &shift).is_err());
        let bytes = response_bytes(0x22, &shift, None, &fs(11)).unwrap();
        let r = ShiftReport::decode(&bytes).unwrap();
        assert_eq!((r.shift_number, r.fd_number, r.fiscal_sign), (5, 11, 7));
    }

    #[test]
    fn rebuilt_receipt_answer() {
        let shift = ShiftParams { open: true, shift_number: 3, receipt_number: 17 };
        let bytes = response_bytes(0x24, &receipt_doc(11, 1, 15000), Some(&shift), &fs(11)).unwrap();
        let r = ReceiptResult::decode(&bytes).unwrap();
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
        assert!(response_bytes(0x24, &receipt_doc(11, 1, 15000), None, &fs(11)).is_err());
    }
}
