//! The FN's archive: a document by number (0x30), as TLVs (0x3A; 0x35 then 0x36 one TLV at a
//! time), a registration report as TLVs (0x3B), a printed copy (0x39), the OFD's confirmation
//! (0x31) and the count of documents it has not confirmed (0x32).

use sha2::{Digest, Sha256};

use super::{Cx, Handled};
use crate::commands::archive::*;
use crate::commands::TlvList;
use crate::emulator::register::Register;
use crate::emulator::state::{doc_type, DocumentRecord, FnPhase, Printed};
use crate::protocol::tlv::TagValueError;
use crate::protocol::values::ReregistrationReasons;
use crate::protocol::{err, tag, TlvWriter, Value};

pub(super) fn find(r: &mut Register, req: FindDocument, _: &mut Cx) -> Handled<FoundDocument> {
    let doc = document(r, req.fd_number)?;
    Ok(FoundDocument { ofd_confirmed: u8::from(doc.ofd_confirmed), document: archive_document(r, &doc) })
}

pub(super) fn read_tlv(r: &mut Register, req: ReadDocumentAsTlv, _: &mut Cx) -> Handled<TlvAnswer> {
    let doc = document(r, req.fd_number)?;
    Ok(TlvAnswer { tlv: document_tlv(r, &doc)? })
}

/// 0x35: selects the document that 0x36 then reads TLV by TLV.
pub(super) fn request_tlv(r: &mut Register, req: RequestDocumentTlv, _: &mut Cx) -> Handled<DocumentTlvInfo> {
    let doc = document(r, req.fd_number)?;
    let tlv = document_tlv(r, &doc)?;
    let length = u16::try_from(tlv.to_bytes().len()).map_err(|_| err::TLV_TOO_LARGE)?;
    r.state.tlv_cursor = Some((doc.number, 0));
    Ok(DocumentTlvInfo { document_type: u16::from(doc.doc_type), length })
}

/// 0x36: the next TLV of the document 0x35 selected; after the last one, 0x08.
pub(super) fn read_next_tlv(r: &mut Register, _: ReadDocumentTlv, _: &mut Cx) -> Handled<TlvAnswer> {
    let (fd, next) = r.state.tlv_cursor.ok_or(err::WRONG_FN_STATE)?;
    let doc = document(r, fd)?;
    let tlv = document_tlv(r, &doc)?;
    let node = tlv.0.get(next).cloned().ok_or(err::NOT_IN_ARCHIVE)?;
    r.state.tlv_cursor = Some((fd, next + 1));
    Ok(TlvAnswer { tlv: TlvList(vec![node]) })
}

/// 0x3B: registration report `report_number` (from 1) as TLVs.
pub(super) fn read_registration(r: &mut Register, req: ReadRegistrationTlv, _: &mut Cx) -> Handled<TlvAnswer> {
    if r.state.phase == FnPhase::Setup {
        return Err(err::WRONG_FN_STATE);
    }
    let doc = r
        .registration_reports()
        .get(usize::from(req.report_number).wrapping_sub(1))
        .map(|d| (*d).clone())
        .ok_or(err::NOT_IN_ARCHIVE)?;
    Ok(TlvAnswer { tlv: document_tlv(r, &doc)? })
}

/// 0x39: a copy of the document on the printer.
pub(super) fn print_copy(r: &mut Register, req: PrintDocument, _: &mut Cx) -> Handled<IgnoredData> {
    let doc = document(r, req.fd_number)?;
    let name = doc_type::name(doc.doc_type);
    for text in [
        "КОПИЯ".to_string(),
        name.to_string(),
        format!("ФД {} ФП {}", doc.number, doc.fiscal_sign),
        doc.datetime.format("%d.%m.%Y %H:%M").to_string(),
    ] {
        r.state.printer.print(Printed::Line { attributes: 0, alignment: 1, text });
    }
    Ok(IgnoredData::default())
}

/// 0x31: the OFD's confirmation of the document, printed and returned; 0x08 while the OFD has
/// not confirmed it.
pub(super) fn ofd_confirmation(r: &mut Register, req: PrintOfdConfirmation, _: &mut Cx) -> Handled<OfdConfirmation> {
    let doc = document(r, req.fd_number)?;
    if !doc.ofd_confirmed {
        return Err(err::NOT_IN_ARCHIVE);
    }
    let mut h = Sha256::new();
    h.update(r.state.key.as_bytes());
    h.update(b"ofd");
    h.update(doc.number.to_le_bytes());
    let mut operator_sign = [0; 18];
    operator_sign.copy_from_slice(&h.finalize()[..18]);
    r.state.printer.print(Printed::Line {
        attributes: 0,
        alignment: 1,
        text: format!("ПОДТВЕРЖДЕНИЕ ОФД: ФД {}", doc.number),
    });
    Ok(OfdConfirmation { datetime: doc.datetime, operator_sign, fd_number: doc.number })
}

/// 0x32: documents the OFD has not confirmed.
pub(super) fn unconfirmed(r: &mut Register, _: GetUnconfirmedCount, _: &mut Cx) -> Handled<UnconfirmedCount> {
    let n = r.state.documents.iter().filter(|d| !d.ofd_confirmed).count();
    Ok(UnconfirmedCount { count: u16::try_from(n).unwrap_or(u16::MAX) })
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
        doc_type::REREGISTRATION => ArchiveDocument::RegistrationChange(RegistrationChangeRecord {
            registration,
            reason: ReregistrationReasons::from(d.reason).archive_code(),
        }),
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

/// Tag 1077 as the FN writes it: six bytes, the last four the fiscal sign printed on the
/// document (big-endian; 0x24 and 0x30 give the same number as UINT32 LE), the first two a
/// check of the FN's own.
fn fiscal_sign_tlv(r: &Register, d: &DocumentRecord) -> [u8; 6] {
    let mut h = Sha256::new();
    h.update(r.state.key.as_bytes());
    h.update(b"1077");
    h.update(d.number.to_le_bytes());
    let head = h.finalize();
    let fp = d.fiscal_sign.to_be_bytes();
    [head[0], head[1], fp[0], fp[1], fp[2], fp[3]]
}

/// The document as TLVs (0x3A): date, number, the FN and the registration numbers, shift,
/// receipt data (number, operation, total), then what the FN kept of it (a receipt's items as
/// STLV 1059, its requisites and payments; a registration report's data; a re-registration's
/// reasons), and the fiscal sign (1077).
fn document_tlv(r: &Register, d: &DocumentRecord) -> Result<TlvList, u8> {
    let mut w = TlvWriter::new();
    let built = (|| {
        w.value(tag::DATETIME, &Value::UnixTime(d.datetime))?
            .u32(tag::FD_NUMBER, d.number)?
            .string(tag::FN_NUMBER, &r.state.fn_number)?;
        if let Some(reg) = &r.state.registration {
            if !doc_type::is_registration(d.doc_type) {
                w.string(tag::USER_INN, &reg.inn)?.string(tag::REGISTRATION_NUMBER, &reg.registration_number)?;
            }
        }
        if !doc_type::is_registration(d.doc_type) {
            w.u32(tag::SHIFT_NUMBER, u32::from(d.shift))?;
        }
        if doc_type::is_receipt(d.doc_type) {
            w.u32(tag::RECEIPT_NUMBER_IN_SHIFT, u32::from(d.receipt))?
                .byte(tag::OPERATION_TYPE, d.operation)?
                .vln(tag::RECEIPT_TOTAL, d.total)?;
        }
        if d.doc_type == doc_type::REREGISTRATION {
            w.u32(tag::REREGISTRATION_REASONS, d.reason)?;
        }
        Ok::<_, TagValueError>(())
    })();
    built.map_err(|_| err::BAD_PARAMETER)?;
    let mut bytes = w.into_bytes();
    bytes.extend_from_slice(&d.tlv);
    let mut tail = TlvWriter::new();
    tail.raw(tag::DOCUMENT_FISCAL_SIGN, &fiscal_sign_tlv(r, d)).map_err(|_| err::BAD_PARAMETER)?;
    bytes.extend_from_slice(tail.as_bytes());
    TlvList::parse(&bytes).map_err(|_| err::BAD_PARAMETER)
}
