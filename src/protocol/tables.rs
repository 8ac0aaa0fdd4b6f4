//! The protocol's tables: tags, commands and device error codes.
//!
//! The data lives in `protocol/tags.tsv`, `protocol/commands.tsv` and `protocol/errors.tsv`;
//! `build.rs` checks those files and turns them into the sorted static arrays below. Lookups
//! are binary searches over `'static` data: nothing is allocated. The modules [`tag`], [`cmd`] and
//! [`err`] name every row (`tag::ITEM_NAME`, `cmd::MARKED_ITEM`, `err::MARK_ORDER`): code uses
//! those names, not bare numbers.

use serde::Serialize;

/// How a tag's value is encoded on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum TagType {
    /// One byte (also used for booleans and enumerations).
    Byte,
    /// Unsigned 16-bit little-endian.
    U16,
    /// Unsigned 32-bit little-endian.
    U32,
    /// Unsigned 40-bit little-endian (5 bytes).
    U40,
    /// Variable-length unsigned integer, little-endian (money in kopecks).
    Vln,
    /// Floating-point VLN: one byte of decimal digits, then the mantissa as VLN.
    Fvln,
    /// Seconds since 1970 as u32 LE (local wall clock written as UTC).
    UnixTime,
    /// Y-2000, M, D.
    DateTime3,
    /// Y-2000, M, D, h, m.
    DateTime5,
    /// Text in code page 866.
    String,
    /// Raw bytes.
    Bytes,
    /// A TLV whose value is a sequence of TLVs.
    Stlv,
}

/// One row of the tag table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TagInfo {
    /// Tag number.
    pub tag: u16,
    /// The constant's name in [`tag`] (`ITEM_NAME` for 1030).
    pub ident: &'static str,
    /// Wire type of the value.
    pub ty: TagType,
    /// Maximum length of the value in bytes.
    pub max_len: u16,
    /// Whether the tag may occur more than once in one document or STLV.
    pub repeatable: bool,
    /// The value is personal data (the customer's contact, name, INN, …): masked in logs.
    pub personal: bool,
    /// Name as in the documents.
    pub name_ru: &'static str,
    /// English name.
    pub name_en: &'static str,
    /// Where the tag is documented (`seed004`, `v0105`, ...).
    pub source: &'static str,
}

/// What a command does to the register; decides whether a retry is safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum CommandClass {
    /// Reads state, changes nothing: safe to repeat.
    Query,
    /// Changes a setting (idempotent when repeated with the same data).
    Setting,
    /// A step inside a document (begin, item data, payment data) that forms no fiscal document.
    Document,
    /// Forms a fiscal document: never re-sent blindly after a lost answer.
    Fiscal,
    /// A marked-goods step (0x90–0x98 family).
    Marking,
    /// Service and maintenance commands.
    Service,
}

/// One row of the command table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CommandInfo {
    /// Command code.
    pub code: u8,
    /// The constant's name in [`cmd`] (`MARKED_ITEM` for 0x97).
    pub ident: &'static str,
    /// What the command does to the register.
    pub class: CommandClass,
    /// Default answer timeout in milliseconds.
    pub timeout_ms: u32,
    /// Name as in the documents.
    pub name_ru: &'static str,
    /// English name.
    pub name_en: &'static str,
    /// Where the command is documented.
    pub source: &'static str,
}

/// The family a device error code belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCategory {
    /// Frame or data format (CRC, structure, length, unknown command).
    Frame,
    /// Command out of sequence.
    Sequence,
    /// Wrong state of the fiscal storage (ФН).
    FnState,
    /// A resource of the ФН exhausted or about to be.
    FnResource,
    /// Marked goods.
    Marking,
    /// A value in the data is wrong.
    #[serde(rename = "data")]
    DataValue,
    /// Link to the OFD or the ОИСМ.
    Link,
    /// Hardware (printer, clock, memory).
    Hardware,
}

/// One row of the device error table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ErrorInfo {
    /// Error code (the byte after RESULT 01).
    pub code: u8,
    /// The constant's name in [`err`] (`MARK_ORDER` for 0xA3).
    pub ident: &'static str,
    /// Family of the error.
    pub category: ErrorCategory,
    /// Text of the table, in Russian.
    pub name_ru: &'static str,
    /// English text.
    pub name_en: &'static str,
    /// What to do, in Russian.
    pub hint_ru: &'static str,
    /// What to do, in English.
    pub hint_en: &'static str,
    /// Where the code is documented.
    pub source: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/tables.rs"));

/// The row of tag `tag`, if the table knows it.
#[inline]
pub fn tag_info(tag: u16) -> Option<&'static TagInfo> {
    TAGS.get(tag_row(tag)?)
}

/// Where tag `tag` stands in [`tags`], if the table knows it (for tables of one's own, parallel
/// to it).
#[inline]
pub fn tag_row(tag: u16) -> Option<usize> {
    let page = TAG_PAGE[usize::from(tag >> 8)];
    if page == u8::MAX {
        return None;
    }
    let row = usize::from(TAG_SLOT[usize::from(page)][usize::from(tag & 0xFF)]);
    (row < TAGS.len()).then_some(row)
}

/// Every tag of the table, sorted by number.
pub fn tags() -> &'static [TagInfo] {
    &TAGS
}

/// The row of command `code`, if the table knows it.
pub fn command_info(code: u8) -> Option<&'static CommandInfo> {
    COMMANDS.binary_search_by_key(&code, |c| c.code).ok().map(|i| &COMMANDS[i])
}

/// Every command of the table, sorted by code.
pub fn commands() -> &'static [CommandInfo] {
    &COMMANDS
}

/// The row of device error `code`, if the table knows it.
pub fn error_info(code: u8) -> Option<&'static ErrorInfo> {
    ERRORS.binary_search_by_key(&code, |e| e.code).ok().map(|i| &ERRORS[i])
}

/// Every device error of the table, sorted by code.
pub fn errors() -> &'static [ErrorInfo] {
    &ERRORS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_direct_tag_index_agrees_with_the_table() {
        for t in tags() {
            assert_eq!(tag_info(t.tag).map(|i| i.tag), Some(t.tag));
        }
        for tag in 0..=u16::MAX {
            assert_eq!(tag_info(tag).is_some(), TAGS.binary_search_by_key(&tag, |t| t.tag).is_ok(), "{tag}");
        }
    }

    /// Hints name kkt's commands, never an opcode (`0x21`), and never repeat the message.
    #[test]
    fn error_hints_name_commands_not_opcodes() {
        let opcode = |t: &str| {
            t.as_bytes()
                .windows(4)
                .any(|w| w[0] == b'0' && w[1] == b'x' && w[2].is_ascii_hexdigit() && w[3].is_ascii_hexdigit())
        };
        for e in errors() {
            assert!(!opcode(e.hint_en) && !opcode(e.hint_ru), "{:#04x}: {} / {}", e.code, e.hint_en, e.hint_ru);
            assert!(!e.hint_en.is_empty() && !e.hint_ru.is_empty(), "{:#04x}", e.code);
            assert_ne!(e.hint_en.trim_end_matches('.'), e.name_en, "{:#04x}", e.code);
        }
    }

    #[test]
    fn tables_are_sorted_and_searchable() {
        for t in tags() {
            assert_eq!(tag_info(t.tag), Some(t));
        }
        for c in commands() {
            assert_eq!(command_info(c.code), Some(c));
        }
        for e in errors() {
            assert_eq!(error_info(e.code), Some(e));
        }
    }

    #[test]
    fn errata_are_applied() {
        // 0x15 is the FN close report (the seed's 0x28 is a typo), and it forms a document.
        let c = command_info(0x15).expect("0x15 in the table");
        assert_eq!(c.name_ru, "Сформировать отчет о закрытии ФН");
        assert_eq!(c.class, CommandClass::Fiscal);
        // Tag 1262 is one BYTE on this device.
        assert_eq!(tag_info(1262).map(|t| t.ty), Some(TagType::Byte));
        assert_eq!(tag_info(1260).map(|t| t.ty), Some(TagType::Stlv));
    }

    #[test]
    fn names_are_the_rows() {
        assert_eq!(tag::ITEM_NAME, 1030);
        assert_eq!(cmd::MARKED_ITEM, 0x97);
        assert_eq!(err::MARK_ORDER, 0xA3);
        assert_eq!(tag_info(tag::ITEM_NAME).map(|t| t.ident), Some("ITEM_NAME"));
        assert_eq!(command_info(cmd::MARKED_ITEM).map(|c| c.ident), Some("MARKED_ITEM"));
        assert_eq!(error_info(err::MARK_ORDER).map(|e| e.ident), Some("MARK_ORDER"));
        let personal: Vec<u16> = tags().iter().filter(|t| t.personal).map(|t| t.tag).collect();
        assert_eq!(personal, [1008, 1227, 1228, 1243, 1244, 1245, 1246, 1254]);
    }
}
