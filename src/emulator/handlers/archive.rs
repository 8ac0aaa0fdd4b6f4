//! The FN's archive: a document by number (0x30) and as TLVs (0x3A).

use super::{Cx, Handled};
use crate::commands::archive::*;
use crate::commands::TlvList;
use crate::emulator::register::Register;
use crate::emulator::state::{doc_type, DocumentRecord, FnPhase};
use crate::protocol::tlv::TagValueError;
use crate::protocol::{err, tag, TlvWriter, Value};

pub(super) fn find(r: &mut Register, req: FindDocument, _: &mut Cx) -> Handled<FoundDocument> {
    let doc = document(r, req.fd_number)?;
    Ok(FoundDocument { ofd_confirmed: 1, document: archive_document(r, &doc) })
}

pub(super) fn read_tlv(r: &mut Register, req: ReadDocumentAsTlv, _: &mut Cx) -> Handled<TlvAnswer> {
    let doc = document(r, req.fd_number)?;
    Ok(TlvAnswer { tlv: document_tlv(r, &doc)? })
}

fn document(r: &Register, number: u32) -> Result<DocumentRecord, u8> {
    if r.state.phase == FnPhase::Setup && r.state.documents.is_empty() {
        return Err(err::WRONG_FN_STATE);
    }
    r.state.documents.iter().find(|d| d.number == number).cloned().ok_or(err::NOT_IN_ARCHIVE)
}

fn archive_document(r: &Register, d: &DocumentRecord) -> ArchiveDocument {
    let header = DocumentHeader { datetime: d.datetime, fd_number: d.number, fiscal_sign: d.fiscal_sign };
    let reg = r.state.registration.as_ref();
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
        doc_type::REGISTRATION => ArchiveDocument::Registration(registration),
        doc_type::REREGISTRATION => {
            ArchiveDocument::RegistrationChange(RegistrationChangeRecord { registration, reason: d.reason })
        }
        doc_type::SHIFT_OPEN => ArchiveDocument::ShiftOpen(ShiftRecord { header, shift_number: d.shift }),
        doc_type::SHIFT_CLOSE => ArchiveDocument::ShiftClose(ShiftRecord { header, shift_number: d.shift }),
        doc_type::RECEIPT => ArchiveDocument::Receipt(receipt),
        doc_type::CORRECTION => ArchiveDocument::CorrectionReceipt(receipt),
        doc_type::FN_CLOSE => ArchiveDocument::FnClose(FnCloseRecord { header, inn, registration_number: rnm }),
        _ => ArchiveDocument::SettlementReport(SettlementRecord {
            header,
            unconfirmed_count: 0,
            first_unconfirmed: None,
            first_unconfirmed_width: 3,
        }),
    }
}

/// The document as TLVs (0x3A): date, number, shift, receipt data (operation, total, the items
/// as tag 1059, the payments), the FN and the registration numbers. The fiscal sign is in
/// 0x30's answer (tag 1077 is not modelled).
fn document_tlv(r: &Register, d: &DocumentRecord) -> Result<TlvList, u8> {
    let mut w = TlvWriter::new();
    let built = (|| {
        w.value(tag::DATETIME, &Value::UnixTime(d.datetime))?
            .u32(tag::FD_NUMBER, d.number)?
            .string(tag::FN_NUMBER, &r.state.fn_number)?;
        if let Some(reg) = &r.state.registration {
            w.string(tag::USER_INN, &reg.inn)?.string(tag::REGISTRATION_NUMBER, &reg.registration_number)?;
        }
        if !doc_type::is_registration(d.doc_type) {
            w.u32(tag::SHIFT_NUMBER, u32::from(d.shift))?;
        }
        if doc_type::is_receipt(d.doc_type) {
            w.u32(tag::RECEIPT_NUMBER_IN_SHIFT, u32::from(d.receipt))?
                .byte(tag::OPERATION_TYPE, d.operation)?
                .vln(tag::RECEIPT_TOTAL, d.total)?;
            for i in &d.items {
                w.stlv(tag::RECEIPT_ITEM, |w| {
                    w.string(tag::ITEM_NAME, &i.name)?;
                    if let Some(p) = i.price {
                        w.vln(tag::UNIT_PRICE, p)?;
                    }
                    if let Some(q) = i.quantity {
                        w.fvln(tag::QUANTITY, q)?;
                    }
                    w.vln(tag::ITEM_TOTAL, i.sum)?.byte(tag::VAT_RATE, i.vat)?;
                    Ok(())
                })?;
            }
            if let Some(p) = &d.payment {
                w.vln(tag::CASH_PAYMENT_AMOUNT, p.cash)?
                    .vln(tag::ELECTRONIC_PAYMENT_AMOUNT, p.by_type.electronic)?
                    .vln(tag::PREPAYMENT_AMOUNT, p.by_type.prepayment)?
                    .vln(tag::CREDIT_AMOUNT, p.by_type.credit)?
                    .vln(tag::CONSIDERATION_AMOUNT, p.by_type.consideration)?;
            }
        }
        Ok::<_, TagValueError>(())
    })();
    built.map_err(|_| err::BAD_PARAMETER)?;
    TlvList::parse(w.as_bytes()).map_err(|_| err::BAD_PARAMETER)
}
