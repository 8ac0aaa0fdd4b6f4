//! Every command as a typed request and response.
//!
//! A request type implements [`Request`] (its code, how it is encoded, and how the register
//! side decodes it); its answer implements [`Response`]. One file holds one family of
//! commands, and each command's encoding lives only there: the driver encodes requests and
//! decodes responses with these types, the virtual register does the reverse, and
//! `kkt decode` explains frames with them (every type is `Serialize`).
//!
//! The `registry!` macro at the bottom lists every typed command once.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

use crate::protocol::tlv::{self, TagValueError, TlvError, TlvNode};
use crate::protocol::types::{self, TypeError};

pub mod archive;
pub mod cash;
pub mod document;
pub(crate) mod fields;
pub mod info;
pub mod marking;
pub mod network;
pub mod printer;
pub mod receipt;
pub mod registration;
pub mod report;
pub mod settings;
pub mod shift;

/// Input that cannot be sent: names the field and the limit. Nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InputError {
    /// The field, as the user or the API names it (e.g. `cashier.inn`, `items[2].price`).
    pub field: Cow<'static, str>,
    /// What is wrong, with the limit.
    pub message: String,
}

impl InputError {
    /// An error about `field`.
    pub fn new(field: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

impl From<TagValueError> for InputError {
    fn from(e: TagValueError) -> Self {
        let field = match &e {
            TagValueError::TooLong { tag, .. }
            | TagValueError::Type { tag, .. }
            | TagValueError::StlvTooLong { tag } => {
                format!("tag {tag}")
            }
        };
        InputError::new(field, e.to_string())
    }
}

/// How a command's data failed to decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// Too few or too many bytes (the register answers 0x27 to such a request).
    Length,
    /// A value out of its range or of the wrong type.
    Value,
    /// A malformed TLV list.
    Tlv,
}

/// Data of a command or response that does not match its layout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} at byte {offset}: {detail}")]
pub struct DecodeError {
    /// What failed.
    pub kind: DecodeErrorKind,
    /// The field being read.
    pub field: &'static str,
    /// Offset in the frame's DATA.
    pub offset: usize,
    /// What was wrong.
    pub detail: String,
}

impl DecodeError {
    /// A new error.
    pub fn new(kind: DecodeErrorKind, field: &'static str, offset: usize, detail: impl fmt::Display) -> Self {
        Self { kind, field, offset, detail: detail.to_string() }
    }
}

/// Reads a command's DATA field by field, naming the field in every error.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    /// Current offset.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// `n` bytes.
    pub fn take(&mut self, field: &'static str, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(DecodeError::new(
                DecodeErrorKind::Length,
                field,
                self.pos,
                format!("needs {n} bytes, {} left", self.remaining()),
            ));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// The rest of the data.
    pub fn rest(&mut self) -> &'a [u8] {
        let s = &self.data[self.pos..];
        self.pos = self.data.len();
        s
    }

    fn typed<T>(
        &mut self,
        field: &'static str,
        n: usize,
        f: impl FnOnce(&[u8]) -> Result<T, TypeError>,
    ) -> Result<T, DecodeError> {
        let at = self.pos;
        let b = self.take(field, n)?;
        f(b).map_err(|e| DecodeError::new(DecodeErrorKind::Value, field, at, e))
    }

    /// BYTE.
    pub fn byte(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        self.typed(field, 1, types::decode_byte)
    }

    /// UINT16 LE.
    pub fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        self.typed(field, 2, types::decode_u16)
    }

    /// UINT32 LE.
    pub fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        self.typed(field, 4, types::decode_u32)
    }

    /// UINT40 LE.
    pub fn u40(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        self.typed(field, 5, types::decode_u40)
    }

    /// DATETIME(5).
    pub fn datetime5(&mut self, field: &'static str) -> Result<chrono::NaiveDateTime, DecodeError> {
        self.typed(field, 5, types::decode_datetime5)
    }

    /// DATETIME(3).
    pub fn datetime3(&mut self, field: &'static str) -> Result<chrono::NaiveDate, DecodeError> {
        self.typed(field, 3, types::decode_datetime3)
    }

    /// UNIXTIME.
    pub fn unixtime(&mut self, field: &'static str) -> Result<chrono::NaiveDateTime, DecodeError> {
        self.typed(field, 4, types::decode_unixtime)
    }

    /// ASCII(n): cp866 text of exactly `n` bytes, trailing spaces and NULs trimmed.
    pub fn string(&mut self, field: &'static str, n: usize) -> Result<String, DecodeError> {
        let b = self.take(field, n)?;
        Ok(types::decode_cp866(b).trim_end_matches([' ', '\0']).to_string())
    }

    /// ASCII(N): the rest of the data as cp866 text, trailing spaces and NULs trimmed.
    pub fn string_rest(&mut self) -> String {
        types::decode_cp866(self.rest()).trim_end_matches([' ', '\0']).to_string()
    }

    /// The rest of the data as a TLV list.
    pub fn tlv_rest(&mut self, field: &'static str) -> Result<TlvList, DecodeError> {
        let at = self.pos;
        TlvList::parse(self.rest()).map_err(|e| DecodeError::new(DecodeErrorKind::Tlv, field, at, e))
    }

    /// Fails if bytes are left over.
    pub fn end(&self, what: &'static str) -> Result<(), DecodeError> {
        if self.remaining() == 0 {
            Ok(())
        } else {
            Err(DecodeError::new(
                DecodeErrorKind::Length,
                what,
                self.pos,
                format!("{} unexpected bytes after the data", self.remaining()),
            ))
        }
    }
}

/// A TLV list (STLVs nested by the tag table) that keeps its exact bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlvList(pub Vec<TlvNode>);

impl TlvList {
    /// Parses a TLV list.
    pub fn parse(data: &[u8]) -> Result<Self, TlvError> {
        tlv::parse_tree(data, &tlv::is_stlv).map(TlvList)
    }

    /// The encoded list.
    pub fn to_bytes(&self) -> Vec<u8> {
        tlv::encode_list(&self.0)
    }

    /// The first top-level TLV with `tag`.
    pub fn get(&self, tag: u16) -> Option<&TlvNode> {
        self.0.iter().find(|n| n.tag == tag)
    }

    /// The raw value of the first top-level leaf with `tag`.
    pub fn raw(&self, tag: u16) -> Option<&[u8]> {
        match &self.get(tag)?.value {
            tlv::TlvValue::Raw(v) => Some(v),
            tlv::TlvValue::Nested(_) => None,
        }
    }
}

impl Serialize for TlvList {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        tlv::TlvJson(&self.0).serialize(s)
    }
}

/// A command sent to the register.
pub trait Request: Sized + Serialize {
    /// The command code.
    const CODE: u8;
    /// What the register answers on success.
    type Response: Response;
    /// Appends the command's DATA, after checking every input (nothing is sent on error).
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError>;
    /// Reads the DATA of this command (the register's side).
    fn decode(data: &[u8]) -> Result<Self, DecodeError>;
    /// The TLV part of the data, if any (shown as `tlv` by `kkt decode`).
    fn tlv(&self) -> Option<&TlvList> {
        None
    }
}

/// A successful answer (RESULT 0) to a [`Request`]: owned data (`Send + 'static`, so that the
/// driver keeps it across a send and can hand back an answer rebuilt after a loss).
pub trait Response: Sized + Serialize + Send + 'static {
    /// Reads the answer's DATA.
    fn decode(data: &[u8]) -> Result<Self, DecodeError>;
    /// Appends the answer's DATA (the register's side).
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError>;
    /// The TLV part of the data, if any.
    fn tlv(&self) -> Option<&TlvList> {
        None
    }
}

/// An answer with no data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Empty;

impl Response for Empty {
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        Reader::new(data).end("data").map(|_| Empty)
    }
    fn encode(&self, _out: &mut Vec<u8>) -> Result<(), InputError> {
        Ok(())
    }
}

/// Implements [`Response`] for a type with inherent `read(&[u8])` and `write(&mut Vec<u8>)`
/// (the settings structures shared by a query's answer and a setter's data).
macro_rules! read_write_response {
    ($name:ty) => {
        impl $crate::commands::Response for $name {
            fn decode(data: &[u8]) -> Result<Self, $crate::commands::DecodeError> {
                Self::read(data)
            }
            fn encode(&self, out: &mut Vec<u8>) -> Result<(), $crate::commands::InputError> {
                self.write(out)
            }
        }
    };
}
pub(crate) use read_write_response;

/// Implements [`Response`] for a TLV body declared with [`fields::tlv_body!`] (the settings
/// shared by a query's answer and a setter's data).
macro_rules! body_response {
    ($name:ty) => {
        impl $crate::commands::Response for $name {
            fn decode(data: &[u8]) -> Result<Self, $crate::commands::DecodeError> {
                $crate::commands::fields::decode_body(data, ())
            }
            fn encode(&self, out: &mut Vec<u8>) -> Result<(), $crate::commands::InputError> {
                $crate::commands::fields::encode_body(self, (), out)
            }
        }
    };
}
pub(crate) use body_response;

/// Defines a request with no data.
macro_rules! no_data_request {
    ($(#[$m:meta])* $name:ident = $code:expr => $resp:ty) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
        pub struct $name;

        impl $crate::commands::Request for $name {
            const CODE: u8 = $code;
            type Response = $resp;
            fn encode(&self, _out: &mut Vec<u8>) -> Result<(), $crate::commands::InputError> {
                Ok(())
            }
            fn decode(data: &[u8]) -> Result<Self, $crate::commands::DecodeError> {
                $crate::commands::Reader::new(data).end("data").map(|_| $name)
            }
        }
    };
}
pub(crate) use no_data_request;

/// A decoded command or response: its fields as JSON and its TLV part.
#[derive(Debug, Clone)]
pub struct Described {
    /// The typed value, serialized (the JSON text itself: `kkt decode --json` writes it as it
    /// is, without a [`serde_json::Value`] tree per frame).
    pub fields: Box<serde_json::value::RawValue>,
    /// The TLV part, if the layout has one.
    pub tlv: Option<TlvList>,
}

impl Described {
    /// The fields as a JSON value, to look into.
    pub fn fields_json(&self) -> serde_json::Value {
        serde_json::from_str(self.fields.get()).unwrap_or(serde_json::Value::Null)
    }
}

fn described<T: Serialize>(v: &T, tlv: Option<&TlvList>) -> Described {
    let null = || serde_json::value::RawValue::from_string("null".into()).expect("null is JSON");
    Described { fields: serde_json::value::to_raw_value(v).unwrap_or_else(|_| null()), tlv: tlv.cloned() }
}

macro_rules! registry {
    ($($req:ty),* $(,)?) => {
        /// Codes of every typed command.
        pub const TYPED_CODES: &[u8] = &[$(<$req as Request>::CODE),*];

        /// Decodes a request's DATA with its typed layout; `None` if the code has no type.
        pub fn describe_request(code: u8, data: &[u8]) -> Option<Result<Described, DecodeError>> {
            $(
                if code == <$req as Request>::CODE {
                    return Some(<$req as Request>::decode(data).map(|r| described(&r, r.tlv())));
                }
            )*
            None
        }

        /// Decodes a successful response's DATA as the output of command `code`.
        pub fn describe_response(code: u8, data: &[u8]) -> Option<Result<Described, DecodeError>> {
            $(
                if code == <$req as Request>::CODE {
                    return Some(<<$req as Request>::Response as Response>::decode(data).map(|r| described(&r, r.tlv())));
                }
            )*
            None
        }
    };
}

registry! {
    info::GetStatus,
    info::GetModel,
    info::GetFnStatus,
    info::GetRegistration,
    info::GetOfdExchangeStatus,
    info::GetDateTime,
    info::SetDateTime,
    info::GetSerial,
    info::GetFirmwareVersion,
    info::GetFnSerial,
    info::GetFnFirmwareVersion,
    info::GetFnValidity,
    info::GetFnErrors,
    info::GetConfigVersion,
    info::GetTcpIp,
    info::GetLineWidth,
    document::CancelDocument,
    archive::FindDocument,
    archive::PrintDocument,
    archive::PrintOfdConfirmation,
    archive::GetUnconfirmedCount,
    archive::GetActivationTotals,
    archive::RequestDocumentTlv,
    archive::ReadDocumentTlv,
    archive::ReadDocumentAsTlv,
    archive::ReadRegistrationTlv,
    cash::GetCashTotals,
    cash::ResetCashCounters,
    cash::PrintCashReport,
    cash::CashIn,
    cash::CashOut,
    network::GetNetworkSettings,
    network::SetNetworkSettings,
    network::GetOfdSettings,
    network::SetOfdSettings,
    network::GetControlSettings,
    network::SetControlSettings,
    printer::GetPrintSettings,
    printer::SetPrintSettings,
    printer::PrintLine,
    printer::Cut,
    printer::PrintQr,
    printer::PrintBarcode,
    printer::WriteFormattedLines,
    printer::PrintBuffer,
    marking::CheckMarkOnline,
    settings::GetFnFormat,
    settings::SetOismHost,
    settings::GetOismHost,
    settings::SetKeyUpdateHost,
    settings::GetKeyUpdateHost,
    settings::GetServiceParams,
    settings::EnterActivationCode,
    report::BeginFnClose,
    report::FnCloseData,
    report::FormFnClose,
    report::BeginSettlementReport,
    report::SettlementReportData,
    report::FormSettlementReport,
    shift::GetShiftParams,
    shift::BeginShiftOpen,
    shift::ShiftOpenData,
    shift::OpenShift,
    shift::BeginShiftClose,
    shift::ShiftCloseData,
    shift::CloseShift,
    receipt::OpenReceipt,
    receipt::OpenCorrectionReceipt,
    receipt::UnmarkedItem,
    receipt::MarkedItem,
    receipt::ReceiptRequisites,
    receipt::Payment,
    receipt::FormReceipt,
    receipt::FormCorrectionReceipt,
    registration::BeginRegistration,
    registration::RegistrationData,
    registration::FormRegistration,
    marking::GetMarkingStatus,
    marking::CheckMarkLocal,
    marking::KeepMarkCheck,
    marking::ClearMarkChecks,
    marking::GetFnMemory,
    marking::GetNotificationState,
    registration::BeginRegistration105,
    registration::RegistrationData105,
    registration::FormRegistration105,
    receipt::ReceiptAutomatData,
    receipt::CorrectionAutomatData,
    receipt::Item105,
    receipt::AgentData,
    receipt::CorrectionData105,
    shift::CashierData,
    archive::GetActivationParameter,
    settings::ResetMockFn,
}

/// Appends `s` as cp866 ASCII(n), padded with spaces on the right; longer text is an error.
pub fn put_fixed_string(out: &mut Vec<u8>, field: &'static str, s: &str, n: usize) -> Result<(), InputError> {
    let b = types::cp866(s).map_err(|e| InputError::new(field, e.to_string()))?;
    if b.len() > n {
        return Err(InputError::new(field, format!("{} characters is longer than the limit of {n}", b.len())));
    }
    out.extend_from_slice(&b);
    out.resize(out.len() + n - b.len(), b' ');
    Ok(())
}

/// Appends a DATETIME(5), naming the field on error.
pub fn put_datetime5(out: &mut Vec<u8>, field: &'static str, t: chrono::NaiveDateTime) -> Result<(), InputError> {
    types::encode_datetime5(t, out).map_err(|e| InputError::new(field, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_codes_are_unique_and_in_the_command_table() {
        let mut seen = std::collections::HashSet::new();
        for c in TYPED_CODES {
            assert!(seen.insert(c), "code {c:#04x} typed twice");
            assert!(crate::protocol::command_info(*c).is_some(), "code {c:#04x} missing from protocol/commands.tsv");
        }
    }

    #[test]
    fn every_command_of_the_table_is_typed() {
        let untyped: Vec<String> = crate::protocol::tables::commands()
            .iter()
            .filter(|c| !TYPED_CODES.contains(&c.code))
            .map(|c| format!("{:#04x} {}", c.code, c.name_en))
            .collect();
        assert!(untyped.is_empty(), "commands without a typed request: {untyped:?}");
        for c in crate::protocol::tables::commands() {
            assert!(describe_request(c.code, &[]).is_some() && describe_response(c.code, &[]).is_some());
        }
    }
}
