//! Print settings of v01.05 (0x79 reads, 0x78 writes, as the command table and the headings
//! say; the change log has the two codes swapped): printer model (30019), font size (30015),
//! retract of shift reports (30018) and the extra text printed after the receipt's QR code
//! (30017).

use serde::Serialize;

use super::fields::{check_enum, required, TlvBuilder, TlvFields, WireOrder};
use super::receipt::is_empty_list;
use super::{no_data_request, read_write_response, DecodeError, Empty, InputError, Request, TlvList};

const TAG_FONT: u16 = 30015;
const TAG_TEXT: u16 = 30017;
const TAG_RETRACT: u16 = 30018;
const TAG_MODEL: u16 = 30019;

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

/// Data of 0x78, answer to 0x79.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct PrintSettings {
    /// Tag 30019, printer model ([`PRINTER_MODELS`]); optional in 0x78.
    pub printer_model: Option<u8>,
    /// Tag 30015: 0 normal font, 1 small font.
    pub font_size: u8,
    /// Tag 30018, for printers that can retract: 1 pull shift open/close reports in, 0 push
    /// them out.
    pub retract: u8,
    /// Tag 30017, text printed after the receipt's QR code (at most 128 characters).
    pub receipt_text: String,
    /// Tags the layout does not name, kept as sent.
    #[serde(skip_serializing_if = "is_empty_list")]
    pub extra: TlvList,
    #[serde(skip)]
    order: WireOrder,
}

impl PrintSettings {
    /// Settings without a printer model (the register keeps its own).
    pub fn new(font_size: u8, retract: u8, receipt_text: &str) -> Self {
        Self { font_size, retract, receipt_text: receipt_text.into(), ..Self::default() }
    }

    fn write(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        let mut b = TlvBuilder::new();
        b.opt_byte(TAG_MODEL, "printer_model", self.printer_model)?
            .byte(TAG_FONT, "font_size", self.font_size)?
            .byte(TAG_RETRACT, "retract", self.retract)?
            .string(TAG_TEXT, "receipt_text", &self.receipt_text)?;
        b.finish(&self.extra, &self.order, out);
        Ok(())
    }

    fn read(data: &[u8]) -> Result<Self, DecodeError> {
        let mut f = TlvFields::parse(data, 0, "tlv")?;
        let mut v = Self {
            printer_model: f.byte(TAG_MODEL, "printer_model")?,
            font_size: required(f.byte(TAG_FONT, "font_size")?, TAG_FONT, "font_size")?,
            retract: required(f.byte(TAG_RETRACT, "retract")?, TAG_RETRACT, "retract")?,
            receipt_text: required(f.string(TAG_TEXT), TAG_TEXT, "receipt_text")?,
            ..Self::default()
        };
        (v.extra, v.order) = f.finish();
        Ok(v)
    }
}

read_write_response!(PrintSettings);

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
        s.write(out)
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        PrintSettings::read(data).map(SetPrintSettings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::{DecodeErrorKind, Response};

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
}
