//! Frames explained field by field: what `kkt decode` prints.
//!
//! [`describe`] reads one frame (as a request, or as the response to a given command) with
//! the typed layouts of [`crate::commands`] and the tag table, and gives a [`Description`]
//! that serializes to the JSON of `kkt decode --json` and prints as text for people.

use std::fmt::{self, Write as _};

use serde::Serialize;
use serde_json::Value as Json;

use crate::commands;
use crate::protocol::frame::{FrameRef, RESULT_ERROR, RESULT_OK};
use crate::protocol::tables::{command_info, tag_info};
use crate::protocol::tlv::{hex_upper, tlv_json};
use crate::protocol::DeviceError;

/// Which way a frame went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Host to register.
    Request,
    /// Register to host.
    Response,
}

/// A device error as JSON.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorDescription {
    /// The code.
    pub code: u8,
    /// Russian text of the table.
    pub text_ru: &'static str,
    /// English text.
    pub text_en: &'static str,
    /// Family.
    pub category: Option<crate::protocol::ErrorCategory>,
    /// What to do.
    pub hint: &'static str,
}

impl From<DeviceError> for ErrorDescription {
    fn from(e: DeviceError) -> Self {
        Self { code: e.code, text_ru: e.text_ru(), text_en: e.text_en(), category: e.category(), hint: e.hint_en() }
    }
}

/// One frame, explained.
#[derive(Debug, Clone, Serialize)]
pub struct Description {
    /// "request" or "response".
    pub kind: Direction,
    /// Command (request) or RESULT (response).
    pub code: u8,
    /// The command's name (for a response: the command it answers, when known).
    pub name: Option<String>,
    /// The command a response answers, when known.
    pub command: Option<u8>,
    /// Whether the CRC matched (frames with a bad CRC are reported as errors instead).
    pub crc_ok: bool,
    /// The device error of an error response.
    pub error: Option<ErrorDescription>,
    /// The typed fields of the command's layout, when it has one (their JSON text).
    pub fields: Option<Box<serde_json::value::RawValue>>,
    /// The TLV part of the data (serialized as [`tlv_json`] shows it).
    pub tlv: Option<commands::TlvList>,
    /// A problem decoding the data with its layout (the frame itself is valid).
    pub data_error: Option<String>,
    /// Garbage bytes before the frame.
    pub skipped: usize,
    /// The DATA in hex.
    pub data: String,
    /// Something about the frame worth knowing (a "request" that looks like a response).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A frame decoded as a request that looks like a response: RESULT 0 (no command has code 0)
/// or RESULT 1 with one error byte (0x01, the status query, has no data).
fn looks_like_response(code: u8, data: &[u8]) -> Option<String> {
    match (code, data.len()) {
        (RESULT_OK, _) => Some(
            "this looks like a response (RESULT 0, done), not a request: decode it with --response \
             (and --command CODE to read its data)"
                .into(),
        ),
        (RESULT_ERROR, 1) => {
            let e = DeviceError::new(data[0]);
            Some(format!(
                "this looks like an error response (RESULT 1, error {:#04X}: {} / {}), not request 0x01: \
                 decode it with --response",
                e.code,
                e.text_ru(),
                e.text_en()
            ))
        }
        _ => None,
    }
}

fn command_name(code: u8) -> Option<String> {
    command_info(code).map(|c| format!("{} ({})", c.name_ru, c.name_en))
}

/// Explains `frame`. For a response, `command` is the command it answers, if known.
pub fn describe(frame: FrameRef<'_>, kind: Direction, command: Option<u8>, skipped: usize) -> Description {
    let mut d = Description {
        kind,
        code: frame.code,
        name: None,
        command: None,
        crc_ok: true,
        error: None,
        fields: None,
        tlv: None,
        data_error: None,
        skipped,
        data: hex_upper(frame.data),
        note: None,
    };
    let typed = match kind {
        Direction::Request => {
            d.name = command_name(frame.code);
            d.note = looks_like_response(frame.code, frame.data);
            commands::describe_request(frame.code, frame.data)
        }
        Direction::Response => {
            d.command = command;
            d.name = command.and_then(command_name);
            match frame.response() {
                Err(crate::protocol::ResponseError::Device(e)) => {
                    d.error = Some(e.into());
                    return d;
                }
                Err(e) => {
                    d.data_error = Some(e.to_string());
                    return d;
                }
                Ok(_) => command.and_then(|c| commands::describe_response(c, frame.data)),
            }
        }
    };
    match typed {
        Some(Ok(t)) => {
            d.fields = Some(t.fields);
            // A TLV body's layout reads its tags into fields: the tags themselves (numbers,
            // names, values, meanings) are shown too.
            d.tlv = t.tlv.or_else(|| generic_tlv(frame.data));
        }
        Some(Err(e)) => {
            d.data_error = Some(e.to_string());
            d.tlv = generic_tlv(frame.data);
        }
        None => d.tlv = generic_tlv(frame.data),
    }
    d
}

/// The data as a TLV list, if it is one (every tag known to the table, lengths exact).
fn generic_tlv(data: &[u8]) -> Option<commands::TlvList> {
    if data.is_empty() {
        return None;
    }
    let list = commands::TlvList::parse(data).ok()?;
    list.0.iter().all(|n| tag_info(n.tag).is_some()).then_some(list)
}

impl fmt::Display for Description {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.name.as_ref().map(|n| format!(" «{n}»")).unwrap_or_default();
        match self.kind {
            Direction::Request => write!(f, "request {:#04X}{name}", self.code)?,
            Direction::Response => {
                match self.command {
                    Some(c) => write!(f, "response to {c:#04X}{name}: ")?,
                    None => write!(f, "response: ")?,
                }
                match self.code {
                    RESULT_OK => write!(f, "done")?,
                    RESULT_ERROR => write!(f, "refused")?,
                    r => write!(f, "RESULT {r:#04X}")?,
                }
            }
        }
        write!(f, ", {} data bytes, {}", self.data.len() / 2, if self.crc_ok { "CRC ok" } else { "CRC not checked" })?;
        if self.skipped > 0 {
            write!(f, " ({} garbage bytes skipped before it)", self.skipped)?;
        }
        writeln!(f)?;
        if let Some(n) = &self.note {
            writeln!(f, "  note: {n}")?;
        }
        if let Some(e) = &self.error {
            writeln!(f, "  error {:#04X}: {} / {}", e.code, e.text_ru, e.text_en)?;
            writeln!(f, "  what to do: {}", e.hint)?;
        }
        if let Some(Ok(Json::Object(m))) = self.fields.as_ref().map(|j| serde_json::from_str(j.get())) {
            for (k, v) in &m {
                writeln!(f, "  {k}: {}", text(v))?;
            }
        }
        if let Some(Json::Array(t)) = self.tlv.as_ref().map(|t| tlv_json(&t.0)) {
            write_tlv(f, &t, 1)?;
        }
        if let Some(e) = &self.data_error {
            writeln!(f, "  data does not match the command's layout: {e}")?;
        }
        if self.fields.is_none() && self.tlv.is_none() && self.error.is_none() && !self.data.is_empty() {
            writeln!(f, "  data: {}", self.data)?;
        }
        Ok(())
    }
}

fn text(v: &Json) -> String {
    match v {
        Json::String(s) => format!("{s:?}"),
        Json::Object(m) => {
            let mut s = String::from("{");
            for (i, (k, v)) in m.iter().enumerate() {
                let _ = write!(s, "{}{k}: {}", if i > 0 { ", " } else { "" }, text(v));
            }
            s + "}"
        }
        other => other.to_string(),
    }
}

fn write_tlv(f: &mut fmt::Formatter<'_>, items: &[Json], depth: usize) -> fmt::Result {
    for t in items {
        let pad = "  ".repeat(depth);
        let tag = &t["tag"];
        let name_ru = t["name_ru"].as_str().unwrap_or("неизвестный тег");
        let name_en = t["name"].as_str().unwrap_or("unknown tag");
        match (&t["tlv"], &t["value"]) {
            (Json::Array(children), _) => {
                writeln!(f, "{pad}{tag} {name_ru} · {name_en}:")?;
                write_tlv(f, children, depth + 1)?;
            }
            (_, v) => {
                // `1199 Ставка НДС = 1 (НДС 20%) · VAT rate: VAT 20%`
                write!(f, "{pad}{tag} {name_ru} = {}", text(v))?;
                if let Some(x) = t["text_ru"].as_str() {
                    write!(f, " ({x})")?;
                }
                write!(f, " · {name_en}")?;
                if let Some(x) = t["text"].as_str() {
                    write!(f, ": {x}")?;
                }
                if let Some(e) = t["value_error"].as_str() {
                    write!(f, " (does not fit the tag's type: {e})")?;
                }
                writeln!(f)?;
            }
        }
    }
    Ok(())
}
