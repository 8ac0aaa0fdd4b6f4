//! The printer (v01.05 «Работа с принтером» and «Настройки ККТ»): print settings (0x79 reads,
//! 0x78 writes, as the command table and the headings say; the change log has the two codes
//! swapped): printer model (30019), font size (30015), retract of shift reports (30018) and the
//! extra text printed after the receipt's QR code (30017); free printing: a text line (0x61),
//! cut (0x62), QR code (0x63), barcode (0x69), and the buffer of formatted lines (0x64 writes,
//! 0x65 prints; a receipt formed with 0x24 prints and clears it too).

use serde::Serialize;

use super::fields::{self, check_enum, check_mask, is_empty_list, tlv_body, TlvBuilder, TlvFields, WireOrder};
use super::{
    body_response, no_data_request, DecodeError, DecodeErrorKind, Empty, InputError, Reader, Request, Response, TlvList,
};
use crate::protocol::frame::MAX_DATA;
use crate::protocol::tag;
use crate::protocol::tlv::HEADER;
use crate::protocol::types;

/// Printer models of Приложение 4 («Модели печатающих устройств»), by code.
pub const PRINTER_MODELS: &[(u8, &str)] = &[
    (0, "detect automatically"),
    (1, "Custom VKP80"),
    (2, "Custom TG2480H"),
    (3, "Citizen CT-S2000"),
    (4, "Citizen PPU-700"),
    (5, "Star TSP (ESC/POS)"),
    (6, "Star TUP (ESC/POS)"),
    (7, "Epson EU-422"),
    (8, "Custom TG02H"),
    (9, "DP_Q582P"),
    (10, "Custom TG2460H"),
];

/// Name of a printer model code, if Приложение 4 lists it.
pub fn printer_model_name(code: u8) -> Option<&'static str> {
    PRINTER_MODELS.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

tlv_body! {
    /// Data of 0x78, answer to 0x79.
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
    pub struct PrintSettings {
        /// Printer model ([`PRINTER_MODELS`]); optional in 0x78.
        printer_model: Option<u8> = optional byte(tag::PRINTER_MODEL),
        /// 0 normal font, 1 small font.
        font_size: u8 = required byte(tag::FONT_SIZE),
        /// For printers that can retract: 1 pull shift open/close reports in, 0 push them out.
        retract: u8 = required byte(tag::RETRACT_SHIFT_REPORTS),
        /// Text printed after the receipt's QR code (at most 128 characters).
        receipt_text: String = required string(tag::EXTRA_RECEIPT_TEXT),
    }
}

impl PrintSettings {
    /// Settings without a printer model (the register keeps its own).
    pub fn new(font_size: u8, retract: u8, receipt_text: &str) -> Self {
        Self { font_size, retract, receipt_text: receipt_text.into(), ..Self::default() }
    }
}

body_response!(PrintSettings);

no_data_request!(
    /// 0x79 «Запрос настроек Печати из ККТ».
    GetPrintSettings = 0x79 => PrintSettings
);

/// 0x78 «Установить настройки Печати в ККТ».
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetPrintSettings(pub PrintSettings);

impl Request for SetPrintSettings {
    const CODE: u8 = 0x78;
    type Response = Empty;
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        let s = &self.0;
        if let Some(m) = s.printer_model {
            if printer_model_name(m).is_none() {
                return Err(InputError::new(
                    "printer_model",
                    format!("{m} is not a printer model code (0 to {})", PRINTER_MODELS.len() - 1),
                ));
            }
        }
        check_enum("font_size", s.font_size, &[0, 1])?;
        check_enum("retract", s.retract, &[0, 1])?;
        fields::encode_body(s, (), out)
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        fields::decode_body(data, ()).map(SetPrintSettings)
    }
}

/// Font attribute bits of 0x61 and 0x64 (bits 0–2 are not defined).
pub mod font {
    /// 0x08 «Расширенный режим».
    pub const EXTENDED: u8 = 0x08;
    /// 0x10 «Увеличенная высота символов».
    pub const TALL: u8 = 0x10;
    /// 0x20 «Увеличенная ширина символов».
    pub const WIDE: u8 = 0x20;
    /// 0x40 «Курсив».
    pub const ITALIC: u8 = 0x40;
    /// 0x80 «Подчёркнутый текст».
    pub const UNDERLINE: u8 = 0x80;
    /// Every defined bit.
    pub const ALL: u8 = EXTENDED | TALL | WIDE | ITALIC | UNDERLINE;
}

/// Alignment of 0x61 and 0x64: 0 left, 1 centre, 2 right.
pub const ALIGNMENTS: &[u8] = &[0, 1, 2];

/// Printer status codes of the answers to 0x61/0x62/0x63/0x69 and of 0x01 (v01.05 0x01:
/// 0 ready, 1 not connected, 2 no paper, 3 paper jam, 5 cover open, 6 cutter error,
/// 7 hardware error).
pub fn printer_status_name(code: u8) -> Option<&'static str> {
    Some(match code {
        0 => "ready",
        1 => "not connected",
        2 => "no paper",
        3 => "paper jam",
        5 => "cover open",
        6 => "cutter error",
        7 => "hardware error",
        _ => return None,
    })
}

fn value_err(field: &'static str, offset: usize, e: impl std::fmt::Display) -> DecodeError {
    DecodeError::new(DecodeErrorKind::Value, field, offset, e)
}

fn cp866(field: impl Into<std::borrow::Cow<'static, str>>, s: &str) -> Result<Vec<u8>, InputError> {
    types::cp866(s).map_err(|e| InputError::new(field, e.to_string()))
}

/// Answer to 0x61, 0x62, 0x63 and 0x69: no data when the printer could print, else one BYTE,
/// the printer status ([`printer_status_name`]).
///
/// v01.05 gives this byte as the output data without saying which RESULT carries it; it is
/// read here from a successful answer (a register that refuses with RESULT 1 sends its error
/// code, e.g. 0x40 «Некорректный статус печатающего устройства», instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct PrinterAnswer {
    /// The printer status when it could not print; `None` = printed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub printer_status: Option<u8>,
}

impl Response for PrinterAnswer {
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let printer_status = if data.is_empty() { None } else { Some(r.byte("printer_status")?) };
        r.end("data")?;
        Ok(Self { printer_status })
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        out.extend(self.printer_status);
        Ok(())
    }
}

fn check_format(attributes: u8, alignment: u8, prefix: &str) -> Result<(), InputError> {
    check_mask("attributes", attributes, font::ALL)
        .and_then(|_| check_enum("alignment", alignment, ALIGNMENTS))
        .map_err(|e| InputError::new(format!("{prefix}{}", e.field), e.message))
}

fn read_format(r: &mut Reader<'_>) -> Result<(u8, u8), DecodeError> {
    let at = r.offset();
    let attributes = r.byte("attributes")?;
    if attributes & !font::ALL != 0 {
        return Err(value_err("attributes", at, format!("bits {:#04x} are not defined", attributes & !font::ALL)));
    }
    let alignment = r.byte("alignment")?;
    if !ALIGNMENTS.contains(&alignment) {
        return Err(value_err("alignment", at + 1, format!("{alignment} is not one of {ALIGNMENTS:?}")));
    }
    Ok((attributes, alignment))
}

/// 0x61 «Напечатать строку символов»: one line of text with font attributes and alignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrintLine {
    /// Font attributes ([`font`] bits).
    pub attributes: u8,
    /// Alignment ([`ALIGNMENTS`]).
    pub alignment: u8,
    /// The text (cp866; v01.05 gives no limit but the frame's: 1021 characters).
    pub text: String,
}

impl PrintLine {
    /// Plain text aligned left.
    pub fn new(text: &str) -> Self {
        Self { attributes: 0, alignment: 0, text: text.into() }
    }
}

impl Request for PrintLine {
    const CODE: u8 = 0x61;
    type Response = PrinterAnswer;
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        check_format(self.attributes, self.alignment, "")?;
        let text = cp866("text", &self.text)?;
        if text.len() > MAX_DATA - 2 {
            return Err(InputError::new(
                "text",
                format!("{} characters is longer than the limit of {} (one frame)", text.len(), MAX_DATA - 2),
            ));
        }
        out.extend_from_slice(&[self.attributes, self.alignment]);
        out.extend_from_slice(&text);
        Ok(())
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let (attributes, alignment) = read_format(&mut r)?;
        Ok(Self { attributes, alignment, text: types::decode_cp866(r.rest()).into_owned() })
    }
}

/// 0x62 «Отрезать бумагу».
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Cut {
    /// Optional BYTE: 0 full cut, 1 partial cut (for printers that can); absent = full cut.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partial: Option<u8>,
}

impl Request for Cut {
    const CODE: u8 = 0x62;
    type Response = PrinterAnswer;
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        if let Some(p) = self.partial {
            check_enum("partial", p, &[0, 1])?;
        }
        out.extend(self.partial);
        Ok(())
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let partial = if data.is_empty() { None } else { Some(r.byte("partial")?) };
        r.end("data")?;
        if let Some(p @ 2..) = partial {
            return Err(value_err("partial", 0, format!("{p} is not one of [0, 1]")));
        }
        Ok(Self { partial })
    }
}

/// Fewest characters of a 0x63 QR code.
pub const QR_MIN: usize = 6;

/// 0x63 «Печать QR-кода».
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrintQr {
    /// The text to encode (ASCII in cp866, at least [`QR_MIN`] characters; at most a frame).
    pub text: String,
}

impl Request for PrintQr {
    const CODE: u8 = 0x63;
    type Response = PrinterAnswer;
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        let text = cp866("text", &self.text)?;
        if text.len() < QR_MIN || text.len() > MAX_DATA {
            return Err(InputError::new(
                "text",
                format!("{} characters; a QR code takes {QR_MIN} to {MAX_DATA}", text.len()),
            ));
        }
        out.extend_from_slice(&text);
        Ok(())
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        if data.len() < QR_MIN {
            return Err(value_err("text", 0, format!("{} characters; at least {QR_MIN}", data.len())));
        }
        Ok(Self { text: types::decode_cp866(data).into_owned() })
    }
}

/// Barcode types of 0x69 and the longest text each takes: 0 EAN-13 (at most 13 digits),
/// 1 CODE128 (at most 24 ASCII characters).
pub const BARCODE_TYPES: &[(u8, &str, usize)] = &[(0, "EAN13", 13), (1, "CODE128", 24)];

/// What is wrong with a barcode's text for its type, if anything.
fn barcode_problem(barcode_type: u8, text: &[u8]) -> Option<String> {
    let Some((_, name, max)) = BARCODE_TYPES.iter().find(|(t, _, _)| *t == barcode_type) else {
        return Some(format!("barcode type {barcode_type} is not one of 0 (EAN13), 1 (CODE128)"));
    };
    if text.is_empty() || text.len() > *max {
        return Some(format!("{} characters; {name} takes 1 to {max}", text.len()));
    }
    if barcode_type == 0 && !text.iter().all(u8::is_ascii_digit) {
        return Some("EAN13 takes digits only".into());
    }
    if !text.is_ascii() {
        return Some(format!("{name} takes ASCII characters only"));
    }
    None
}

/// 0x69 «Печать штрих-кода».
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrintBarcode {
    /// 0 EAN13, 1 CODE128 ([`BARCODE_TYPES`]).
    pub barcode_type: u8,
    /// The text to encode.
    pub text: String,
}

impl Request for PrintBarcode {
    const CODE: u8 = 0x69;
    type Response = PrinterAnswer;
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        check_enum("barcode_type", self.barcode_type, &[0, 1])?;
        let text = cp866("text", &self.text)?;
        if let Some(p) = barcode_problem(self.barcode_type, &text) {
            return Err(InputError::new("text", p));
        }
        out.push(self.barcode_type);
        out.extend_from_slice(&text);
        Ok(())
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let barcode_type = r.byte("barcode_type")?;
        if barcode_type > 1 {
            return Err(value_err("barcode_type", 0, format!("{barcode_type} is not one of [0, 1]")));
        }
        let text = r.rest();
        if let Some(p) = barcode_problem(barcode_type, text) {
            return Err(value_err("text", 1, p));
        }
        Ok(Self { barcode_type, text: types::decode_cp866(text).into_owned() })
    }
}

/// Tag of one formatted line of 0x64.
pub const TAG_LINE: u16 = tag::FORMATTED_PRINT_BUFFER_LINE;
/// Longest text of one formatted line (bytes).
pub const LINE_MAX: usize = 124;
/// Most lines the print buffer holds.
pub const BUFFER_LINES: usize = 255;

/// One line of the print buffer: TLV 39999 = attributes BYTE, alignment BYTE, text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FormattedLine {
    /// Font attributes ([`font`] bits).
    pub attributes: u8,
    /// Alignment ([`ALIGNMENTS`]).
    pub alignment: u8,
    /// The text (cp866, at most [`LINE_MAX`] characters).
    pub text: String,
}

impl FormattedLine {
    /// A line.
    pub fn new(attributes: u8, alignment: u8, text: &str) -> Self {
        Self { attributes, alignment, text: text.into() }
    }

    fn value(&self, i: usize) -> Result<Vec<u8>, InputError> {
        check_format(self.attributes, self.alignment, &format!("lines[{i}]."))?;
        let text = cp866(format!("lines[{i}].text"), &self.text)?;
        if text.len() > LINE_MAX {
            return Err(InputError::new(
                format!("lines[{i}].text"),
                format!("{} characters is longer than the limit of {LINE_MAX}", text.len()),
            ));
        }
        let mut v = vec![self.attributes, self.alignment];
        v.extend_from_slice(&text);
        Ok(v)
    }

    fn read(v: &[u8], at: usize) -> Result<Self, DecodeError> {
        let mut r = Reader::new(v);
        let (attributes, alignment) =
            read_format(&mut r).map_err(|e| value_err("lines", at + e.offset, format!("{}: {}", e.field, e.detail)))?;
        let text = r.rest();
        if text.len() > LINE_MAX {
            return Err(value_err("lines", at + 2, format!("text of {} bytes; at most {LINE_MAX}", text.len())));
        }
        Ok(Self { attributes, alignment, text: types::decode_cp866(text).into_owned() })
    }
}

/// 0x64 «Записать в буфер печати форматированную строку символов»: one or more lines, each a
/// TLV 39999, appended to the print buffer (at most [`BUFFER_LINES`] lines in it). 0x65
/// prints the buffer; a receipt formed (0x24) without its own extra text prints it in the
/// receipt; either way the buffer is then empty.
///
/// The reference's example («Пример(HEX)») has a stray byte 0x64 after «Hello» (its own text
/// gives L=7 and an 8-byte value); without it, it is the two lines of the unit test.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct WriteFormattedLines {
    /// The lines, in order.
    pub lines: Vec<FormattedLine>,
    /// Tags other than 39999, kept as sent.
    #[serde(skip_serializing_if = "is_empty_list")]
    pub extra: TlvList,
    /// The tag order of a decoded body (re-encoding keeps it); `Default` for a new one.
    #[serde(skip)]
    pub order: WireOrder,
}

impl WriteFormattedLines {
    /// These lines.
    pub fn new(lines: Vec<FormattedLine>) -> Self {
        Self { lines, ..Self::default() }
    }
}

impl Request for WriteFormattedLines {
    const CODE: u8 = 0x64;
    type Response = Empty;
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        if self.lines.is_empty() || self.lines.len() > BUFFER_LINES {
            return Err(InputError::new(
                "lines",
                format!("{} lines; one command takes 1 to {BUFFER_LINES}", self.lines.len()),
            ));
        }
        let mut b = TlvBuilder::new();
        for (i, l) in self.lines.iter().enumerate() {
            b.bytes(TAG_LINE, "lines", &l.value(i)?)?;
        }
        let mut data = Vec::new();
        b.finish(&self.extra, &self.order, &mut data);
        if data.len() > MAX_DATA {
            return Err(InputError::new(
                "lines",
                format!("{} bytes do not fit one frame ({MAX_DATA}); send the lines in several 0x64", data.len()),
            ));
        }
        out.extend_from_slice(&data);
        Ok(())
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut f = TlvFields::parse(data, 0, "tlv")?;
        // Where each line's value starts, for the errors (the list parsed above, so it parses).
        let mut offsets = Vec::new();
        let mut at = 0;
        for n in TlvList::parse(data).unwrap_or_default().0 {
            if n.tag == TAG_LINE {
                offsets.push(at + HEADER);
            }
            at += HEADER + n.value_len();
        }
        let mut lines = Vec::new();
        while let Some(v) = f.bytes(TAG_LINE) {
            lines.push(FormattedLine::read(&v, offsets.get(lines.len()).copied().unwrap_or(0))?);
        }
        if lines.is_empty() {
            return Err(value_err("lines", 0, format!("no TLV {TAG_LINE}")));
        }
        if lines.len() > BUFFER_LINES {
            return Err(value_err("lines", 0, format!("{} lines; at most {BUFFER_LINES}", lines.len())));
        }
        let (extra, order) = f.finish();
        Ok(Self { lines, extra, order })
    }
}

no_data_request!(
    /// 0x65 «Печать буфера форматированных строк»: prints what 0x64 wrote and empties the
    /// buffer.
    PrintBuffer = 0x65 => Empty
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn limits_agree_with_the_tag_table() {
        // A line's TLV value is the attributes, the alignment and the text.
        assert_eq!(LINE_MAX + 2, usize::from(crate::protocol::tag_info(TAG_LINE).unwrap().max_len));
    }

    fn tlv(tag: u16, value: &[u8]) -> Vec<u8> {
        let mut v = tag.to_le_bytes().to_vec();
        v.extend_from_slice(&(value.len() as u16).to_le_bytes());
        v.extend_from_slice(value);
        v
    }

    fn encoded(r: &SetPrintSettings) -> Result<Vec<u8>, InputError> {
        let mut out = Vec::new();
        r.encode(&mut out).map(|_| out)
    }

    #[test]
    fn print_settings_0x79_answer_and_0x78_request() {
        // «Спасибо!» in cp866.
        let text = [0x91, 0xAF, 0xA0, 0xE1, 0xA8, 0xA1, 0xAE, b'!'];
        let data = [tlv(30019, &[1]), tlv(30015, &[0]), tlv(30018, &[1]), tlv(30017, &text)].concat();
        assert_eq!(&data[..4], [0x43, 0x75, 0x01, 0x00], "tag 30019 = 0x7543");
        let s = PrintSettings::decode(&data).unwrap();
        assert_eq!(s, PrintSettings { printer_model: Some(1), ..PrintSettings::new(0, 1, "Спасибо!") });
        let mut out = Vec::new();
        s.encode(&mut out).unwrap();
        assert_eq!(out, data);
        assert_eq!(encoded(&SetPrintSettings(s.clone())).unwrap(), data);
        assert_eq!(SetPrintSettings::decode(&data).unwrap(), SetPrintSettings(s));
        // The model is optional in 0x78 (and an older register does not send it).
        let s = PrintSettings::new(1, 0, "");
        let b = encoded(&SetPrintSettings(s.clone())).unwrap();
        assert_eq!(b, [tlv(30015, &[1]), tlv(30018, &[0]), tlv(30017, b"")].concat());
        assert_eq!(PrintSettings::decode(&b).unwrap(), s);
        let e = PrintSettings::decode(&tlv(30015, &[0])).unwrap_err();
        assert_eq!((e.kind, e.field), (DecodeErrorKind::Value, "retract"));
    }

    #[test]
    fn print_settings_0x78_checks() {
        let ok = PrintSettings { printer_model: Some(10), ..PrintSettings::new(0, 0, "x") };
        assert!(encoded(&SetPrintSettings(ok.clone())).is_ok());
        let cases = [
            (PrintSettings { printer_model: Some(11), ..ok.clone() }, "printer_model"),
            (PrintSettings { font_size: 2, ..ok.clone() }, "font_size"),
            (PrintSettings { retract: 2, ..ok.clone() }, "retract"),
            (PrintSettings { receipt_text: "я".repeat(129), ..ok.clone() }, "receipt_text"),
            (PrintSettings { receipt_text: "€".into(), ..ok.clone() }, "receipt_text"),
        ];
        for (s, field) in cases {
            let e = encoded(&SetPrintSettings(s)).unwrap_err();
            assert_eq!(e.field, field, "{e}");
        }
        assert!(encoded(&SetPrintSettings(PrintSettings { receipt_text: "я".repeat(128), ..ok })).is_ok());
        assert_eq!(printer_model_name(7), Some("Epson EU-422"));
    }

    fn bytes<R: Request>(r: &R) -> Result<Vec<u8>, InputError> {
        let mut out = Vec::new();
        r.encode(&mut out).map(|_| out)
    }

    /// The v01.05 example of 0x64, as printed: a stray 0x64 follows «Hello» (L=7).
    const EXAMPLE_0X64_AS_PRINTED: &str = "3F9C0700 0000 48656C6C6F 64 3F9C0C00 0801 31323334353637383930";
    /// The same without the stray byte.
    pub(crate) const EXAMPLE_0X64: &str = "3F9C0700 0000 48656C6C6F 3F9C0C00 0801 31323334353637383930";

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    #[test]
    fn write_lines_0x64_reference_example() {
        let data = hex(EXAMPLE_0X64);
        let w = WriteFormattedLines::decode(&data).unwrap();
        assert_eq!(
            w,
            WriteFormattedLines::new(vec![
                FormattedLine::new(0, 0, "Hello"),
                FormattedLine::new(font::EXTENDED, 1, "1234567890"),
            ])
        );
        assert_eq!(bytes(&w).unwrap(), data);
        assert_eq!(bytes(&WriteFormattedLines::new(w.lines.clone())).unwrap(), data, "built in code: same bytes");
        // As printed, the list does not parse: the register would answer 0x5C.
        let e = WriteFormattedLines::decode(&hex(EXAMPLE_0X64_AS_PRINTED)).unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::Tlv);
        assert_eq!(
            serde_json::to_value(&w).unwrap()["lines"][1],
            serde_json::json!({"attributes": 8, "alignment": 1, "text": "1234567890"})
        );
        // Other tags are kept, in place.
        let mixed = [hex("3F9C0300 0002 41"), tlv(30015, &[1]), hex("3F9C0200 8000")].concat();
        let w = WriteFormattedLines::decode(&mixed).unwrap();
        assert_eq!(w.lines.len(), 2);
        assert_eq!(w.extra.0.len(), 1);
        assert_eq!(bytes(&w).unwrap(), mixed);
    }

    #[test]
    fn write_lines_0x64_checks() {
        let ok = FormattedLine::new(font::ALL, 2, &"я".repeat(LINE_MAX));
        assert_eq!(bytes(&WriteFormattedLines::new(vec![ok.clone()])).unwrap().len(), 4 + 2 + LINE_MAX);
        let cases = [
            (vec![], "lines"),
            (vec![ok.clone(), FormattedLine::new(0, 0, &"x".repeat(LINE_MAX + 1))], "lines[1].text"),
            (vec![FormattedLine::new(0x01, 0, "x")], "lines[0].attributes"),
            (vec![ok.clone(), ok.clone(), FormattedLine::new(0, 3, "x")], "lines[2].alignment"),
            (vec![FormattedLine::new(0, 0, "€")], "lines[0].text"),
            (vec![ok.clone(); 8], "lines"),
            (vec![FormattedLine::new(0, 0, ""); BUFFER_LINES + 1], "lines"),
        ];
        for (lines, field) in cases {
            let e = bytes(&WriteFormattedLines::new(lines)).unwrap_err();
            assert_eq!(e.field, field, "{e}");
        }
        for (data, offset) in [
            (hex("3F9C0100 00"), 5),
            (hex("3F9C0200 0003"), 5),
            (hex("3F9C0200 0100"), 4),
            ([hex("3F9C0200 0000"), hex("3F9C7F00 0000"), vec![b'x'; 125]].concat(), 12),
            (tlv(30015, &[1]), 0),
        ] {
            let e = WriteFormattedLines::decode(&data).unwrap_err();
            assert_eq!((e.kind, e.field, e.offset), (DecodeErrorKind::Value, "lines", offset), "{e}");
        }
        assert!(bytes(&PrintBuffer).unwrap().is_empty());
        assert_eq!(PrintBuffer::decode(&[0]).unwrap_err().kind, DecodeErrorKind::Length);
    }

    #[test]
    fn print_line_0x61_layout_and_answer() {
        // «Тест» in cp866, centred, tall and underlined.
        let line = PrintLine { attributes: font::TALL | font::UNDERLINE, alignment: 1, text: "Тест ".into() };
        let data = bytes(&line).unwrap();
        assert_eq!(data, [0x90, 0x01, 0x92, 0xA5, 0xE1, 0xE2, 0x20]);
        assert_eq!(PrintLine::decode(&data).unwrap(), line, "trailing spaces are kept");
        assert_eq!(bytes(&PrintLine::new("")).unwrap(), [0, 0]);
        for (l, field) in [
            (PrintLine { attributes: 0x04, ..PrintLine::new("x") }, "attributes"),
            (PrintLine { alignment: 3, ..PrintLine::new("x") }, "alignment"),
            (PrintLine::new("€"), "text"),
            (PrintLine::new(&"x".repeat(MAX_DATA - 1)), "text"),
        ] {
            assert_eq!(bytes(&l).unwrap_err().field, field);
        }
        assert!(bytes(&PrintLine::new(&"x".repeat(MAX_DATA - 2))).is_ok());
        let e = PrintLine::decode(&[0x90]).unwrap_err();
        assert_eq!((e.kind, e.field), (DecodeErrorKind::Length, "alignment"));
        let e = PrintLine::decode(&[0x90, 5]).unwrap_err();
        assert_eq!((e.kind, e.field, e.offset), (DecodeErrorKind::Value, "alignment", 1));
        // The answer: nothing when printed, else the printer status.
        assert_eq!(PrinterAnswer::decode(&[]).unwrap(), PrinterAnswer::default());
        assert_eq!(PrinterAnswer::decode(&[2]).unwrap(), PrinterAnswer { printer_status: Some(2) });
        assert_eq!(PrinterAnswer::decode(&[2, 0]).unwrap_err().kind, DecodeErrorKind::Length);
        assert_eq!(printer_status_name(2), Some("no paper"));
        assert_eq!(printer_status_name(4), None);
    }

    #[test]
    fn cut_qr_barcode_0x62_0x63_0x69() {
        assert!(bytes(&Cut::default()).unwrap().is_empty());
        assert_eq!(bytes(&Cut { partial: Some(1) }).unwrap(), [1]);
        assert_eq!(bytes(&Cut { partial: Some(2) }).unwrap_err().field, "partial");
        assert_eq!(Cut::decode(&[]).unwrap(), Cut::default());
        assert_eq!(Cut::decode(&[0]).unwrap(), Cut { partial: Some(0) });
        assert_eq!(Cut::decode(&[2]).unwrap_err().kind, DecodeErrorKind::Value);
        assert_eq!(Cut::decode(&[0, 0]).unwrap_err().kind, DecodeErrorKind::Length);

        assert_eq!(bytes(&PrintQr { text: "t=2026".into() }).unwrap(), b"t=2026");
        assert_eq!(bytes(&PrintQr { text: "short".into() }).unwrap_err().field, "text");
        assert_eq!(bytes(&PrintQr { text: "x".repeat(MAX_DATA + 1) }).unwrap_err().field, "text");
        assert_eq!(PrintQr::decode(b"t=2026").unwrap(), PrintQr { text: "t=2026".into() });
        assert_eq!(PrintQr::decode(b"12345").unwrap_err().field, "text");

        let ean = PrintBarcode { barcode_type: 0, text: "4601234567893".into() };
        assert_eq!(bytes(&ean).unwrap(), b"\x004601234567893");
        assert_eq!(PrintBarcode::decode(b"\x004601234567893").unwrap(), ean);
        let code128 = PrintBarcode { barcode_type: 1, text: "ABC-123 abc/xyz:0123456".into() };
        assert_eq!(PrintBarcode::decode(&bytes(&code128).unwrap()).unwrap(), code128);
        for (b, field) in [
            (PrintBarcode { barcode_type: 2, text: "1".into() }, "barcode_type"),
            (PrintBarcode { barcode_type: 0, text: "46012345678931".into() }, "text"),
            (PrintBarcode { barcode_type: 0, text: "46012A".into() }, "text"),
            (PrintBarcode { barcode_type: 0, text: "".into() }, "text"),
            (PrintBarcode { barcode_type: 1, text: "x".repeat(25) }, "text"),
            (PrintBarcode { barcode_type: 1, text: "Тест".into() }, "text"),
        ] {
            assert_eq!(bytes(&b).unwrap_err().field, field, "{b:?}");
        }
        assert!(bytes(&PrintBarcode { barcode_type: 1, text: "x".repeat(24) }).is_ok());
        assert_eq!(PrintBarcode::decode(&[3, b'1']).unwrap_err().field, "barcode_type");
        let e = PrintBarcode::decode(b"\x00123X").unwrap_err();
        assert_eq!((e.kind, e.field, e.offset), (DecodeErrorKind::Value, "text", 1));
        assert_eq!(PrintBarcode::decode(&[]).unwrap_err().kind, DecodeErrorKind::Length);
    }

    fn line_text(max: usize) -> impl Strategy<Value = String> {
        proptest::string::string_regex(&format!("[ -~А-яЁё№]{{0,{max}}}")).unwrap()
    }

    fn format() -> impl Strategy<Value = (u8, u8)> {
        (any::<u8>().prop_map(|a| a & font::ALL), prop::sample::select(ALIGNMENTS))
    }

    proptest! {
        #[test]
        fn formatted_lines_roundtrip(
            lines in prop::collection::vec((format(), line_text(LINE_MAX)), 1..7)
        ) {
            let w = WriteFormattedLines::new(
                lines.into_iter().map(|((a, al), t)| FormattedLine::new(a, al, &t)).collect(),
            );
            let b = bytes(&w).unwrap();
            let back = WriteFormattedLines::decode(&b).unwrap();
            prop_assert_eq!(&back, &w);
            prop_assert_eq!(bytes(&back).unwrap(), b);
        }

        #[test]
        fn print_line_roundtrip((attributes, alignment) in format(), text in line_text(300)) {
            let l = PrintLine { attributes, alignment, text };
            prop_assert_eq!(PrintLine::decode(&bytes(&l).unwrap()).unwrap(), l);
        }

        #[test]
        fn cut_qr_barcode_roundtrip(
            partial in prop::option::of(0u8..2),
            qr in "[ -~]{6,200}",
            ean in "[0-9]{1,13}",
            code128 in "[ -~]{1,24}",
            status in prop::option::of(any::<u8>()),
        ) {
            prop_assert_eq!(Cut::decode(&bytes(&Cut { partial }).unwrap()).unwrap(), Cut { partial });
            let q = PrintQr { text: qr };
            prop_assert_eq!(PrintQr::decode(&bytes(&q).unwrap()).unwrap(), q);
            for b in [PrintBarcode { barcode_type: 0, text: ean }, PrintBarcode { barcode_type: 1, text: code128 }] {
                prop_assert_eq!(PrintBarcode::decode(&bytes(&b).unwrap()).unwrap(), b);
            }
            let a = PrinterAnswer { printer_status: status };
            let mut out = Vec::new();
            a.encode(&mut out).unwrap();
            prop_assert_eq!(PrinterAnswer::decode(&out).unwrap(), a);
        }

        #[test]
        fn write_lines_decode_never_panics(data in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = WriteFormattedLines::decode(&data);
        }
    }
}
