//! The printer: a line, a cut, a QR code, a barcode (0x61, 0x62, 0x63, 0x69), the buffer of
//! formatted lines (0x64, 0x65) and the print settings (0x78/0x79, kept in the state).

use super::{Cx, Handled};
use crate::commands::printer::*;
use crate::commands::{DecodeError, Empty};
use crate::emulator::register::Register;
use crate::emulator::state::{BufferedLine, Printed};
use crate::protocol::err;

/// Puts `p` on paper. The modelled printer is always ready: no status byte.
fn print(r: &mut Register, p: Printed) -> Handled<PrinterAnswer> {
    r.state.printer.print(p);
    Ok(PrinterAnswer::default())
}

pub(super) fn line(r: &mut Register, l: PrintLine, _: &mut Cx) -> Handled<PrinterAnswer> {
    print(r, Printed::Line { attributes: l.attributes, alignment: l.alignment, text: l.text })
}

pub(super) fn cut(r: &mut Register, c: Cut, _: &mut Cx) -> Handled<PrinterAnswer> {
    print(r, Printed::Cut { partial: c.partial == Some(1) })
}

pub(super) fn qr(r: &mut Register, q: PrintQr, _: &mut Cx) -> Handled<PrinterAnswer> {
    print(r, Printed::Qr { text: q.text })
}

pub(super) fn barcode(r: &mut Register, b: PrintBarcode, _: &mut Cx) -> Handled<PrinterAnswer> {
    print(r, Printed::Barcode { barcode_type: b.barcode_type, text: b.text })
}

/// v01.05: 0x64 whose lines do not decode (wrong format or length) is 0x5C.
pub(super) fn buffer_decode_error(_: &DecodeError) -> u8 {
    err::BAD_PRINT_LINES
}

pub(super) fn write_buffer(r: &mut Register, w: WriteFormattedLines, _: &mut Cx) -> Handled<Empty> {
    let buffer = &mut r.state.printer.buffer;
    if buffer.len() + w.lines.len() > BUFFER_LINES {
        return Err(err::PRINT_BUFFER_FULL);
    }
    buffer.extend(w.lines.into_iter().map(|l| BufferedLine {
        attributes: l.attributes,
        alignment: l.alignment,
        text: l.text,
    }));
    Ok(Empty)
}

pub(super) fn print_buffer(r: &mut Register, _: PrintBuffer, _: &mut Cx) -> Handled<Empty> {
    r.state.printer.print_buffer();
    Ok(Empty)
}

/// 0x79: the print settings as set.
pub(super) fn settings(r: &mut Register, _: GetPrintSettings, _: &mut Cx) -> Handled<PrintSettings> {
    let p = &r.state.print_settings;
    Ok(PrintSettings {
        printer_model: Some(p.printer_model),
        ..PrintSettings::new(p.font_size, p.retract, &p.receipt_text)
    })
}

/// 0x78: the model is optional (the register keeps its own); values outside the documented ones
/// are 0x28.
pub(super) fn set_settings(r: &mut Register, req: SetPrintSettings, _: &mut Cx) -> Handled<Empty> {
    let s = req.0;
    if s.font_size > 1 || s.retract > 1 || s.printer_model.is_some_and(|m| printer_model_name(m).is_none()) {
        return Err(err::BAD_PARAMETER);
    }
    let p = &mut r.state.print_settings;
    if let Some(m) = s.printer_model {
        p.printer_model = m;
    }
    p.font_size = s.font_size;
    p.retract = s.retract;
    p.receipt_text = s.receipt_text;
    Ok(Empty)
}
