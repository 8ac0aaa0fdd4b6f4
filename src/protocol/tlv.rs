//! TLV and STLV: tag u16 LE, length u16 LE, value. An STLV's value is itself a TLV list.
//!
//! [`TlvIter`] walks a byte slice without allocating. [`parse_tree`] builds an owned tree,
//! nesting the tags the tag table types as STLV. [`TlvWriter`] builds TLV lists and checks
//! each value against the tag table before anything is sent.

use chrono::{NaiveDate, NaiveDateTime};

use super::tables::{tag_info, TagType};
use super::types::{self, Decimal, TypeError};

/// Bytes of a TLV header.
pub const HEADER: usize = 4;
/// Deepest STLV nesting [`parse_tree`] follows (the tables nest at most three levels).
pub const MAX_DEPTH: usize = 8;

/// A TLV borrowed from its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// Tag number.
    pub tag: u16,
    /// Value bytes.
    pub value: &'a [u8],
}

/// A TLV list that does not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlvError {
    /// Fewer than 4 bytes left for a header.
    #[error("TLV at byte {offset}: {left} bytes left, a header needs 4")]
    TruncatedHeader {
        /// Offset of the header in the list.
        offset: usize,
        /// Bytes left.
        left: usize,
    },
    /// The length runs past the end.
    #[error("TLV {tag} at byte {offset}: length {len} runs past the end ({left} bytes left)")]
    TruncatedValue {
        /// Tag number.
        tag: u16,
        /// Offset of the header in the list.
        offset: usize,
        /// The length field.
        len: u16,
        /// Bytes left after the header.
        left: usize,
    },
    /// STLV nested deeper than [`MAX_DEPTH`].
    #[error("TLV {tag} at byte {offset}: STLV nested deeper than {MAX_DEPTH}")]
    TooDeep {
        /// Tag number.
        tag: u16,
        /// Offset of the header.
        offset: usize,
    },
}

/// Walks a TLV list. Yields an error once (and then stops) if the list is malformed.
#[derive(Debug, Clone)]
pub struct TlvIter<'a> {
    data: &'a [u8],
    pos: usize,
    done: bool,
}

/// A walker over the TLV list `data`.
pub fn iter(data: &[u8]) -> TlvIter<'_> {
    TlvIter { data, pos: 0, done: false }
}

impl<'a> TlvIter<'a> {
    /// Offset of the next TLV.
    pub fn offset(&self) -> usize {
        self.pos
    }
}

impl<'a> Iterator for TlvIter<'a> {
    type Item = Result<Tlv<'a>, TlvError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pos >= self.data.len() {
            return None;
        }
        let rest = &self.data[self.pos..];
        let offset = self.pos;
        if rest.len() < HEADER {
            self.done = true;
            return Some(Err(TlvError::TruncatedHeader { offset, left: rest.len() }));
        }
        let tag = u16::from_le_bytes([rest[0], rest[1]]);
        let len = u16::from_le_bytes([rest[2], rest[3]]);
        let left = rest.len() - HEADER;
        if usize::from(len) > left {
            self.done = true;
            return Some(Err(TlvError::TruncatedValue { tag, offset, len, left }));
        }
        self.pos += HEADER + usize::from(len);
        Some(Ok(Tlv { tag, value: &rest[HEADER..HEADER + usize::from(len)] }))
    }
}

/// Finds the first TLV with `tag` in a list (stops at a malformed TLV).
pub fn find(data: &[u8], tag: u16) -> Option<&[u8]> {
    iter(data).map_while(Result::ok).find(|t| t.tag == tag).map(|t| t.value)
}

/// An owned TLV: raw bytes, or the children of an STLV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlvValue {
    /// A value that is not nested.
    Raw(Vec<u8>),
    /// An STLV's children.
    Nested(Vec<TlvNode>),
}

/// One owned TLV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlvNode {
    /// Tag number.
    pub tag: u16,
    /// Value.
    pub value: TlvValue,
}

impl TlvNode {
    /// A leaf.
    pub fn raw(tag: u16, value: impl Into<Vec<u8>>) -> Self {
        Self { tag, value: TlvValue::Raw(value.into()) }
    }

    /// An STLV.
    pub fn nested(tag: u16, children: Vec<TlvNode>) -> Self {
        Self { tag, value: TlvValue::Nested(children) }
    }

    /// Length of the value on the wire.
    pub fn value_len(&self) -> usize {
        match &self.value {
            TlvValue::Raw(v) => v.len(),
            TlvValue::Nested(c) => c.iter().map(|n| HEADER + n.value_len()).sum(),
        }
    }

    /// Appends the TLV's bytes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.tag.to_le_bytes());
        out.extend_from_slice(&(self.value_len() as u16).to_le_bytes());
        match &self.value {
            TlvValue::Raw(v) => out.extend_from_slice(v),
            TlvValue::Nested(c) => c.iter().for_each(|n| n.encode(out)),
        }
    }
}

/// Encodes a TLV list.
pub fn encode_list(nodes: &[TlvNode]) -> Vec<u8> {
    let mut out = Vec::new();
    nodes.iter().for_each(|n| n.encode(&mut out));
    out
}

/// Whether the tag table types `tag` as STLV.
#[inline]
pub fn is_stlv(tag: u16) -> bool {
    tag_info(tag).is_some_and(|t| t.ty == TagType::Stlv)
}

/// Parses a TLV list into a tree, nesting the tags for which `nest` says yes (use
/// [`is_stlv`] for the tag table). A value that should nest but does not parse as a TLV list
/// is kept raw, so that any input round-trips.
pub fn parse_tree(data: &[u8], nest: &impl Fn(u16) -> bool) -> Result<Vec<TlvNode>, TlvError> {
    parse_at(data, nest, 0)
}

fn parse_at(data: &[u8], nest: &impl Fn(u16) -> bool, depth: usize) -> Result<Vec<TlvNode>, TlvError> {
    let mut out = Vec::new();
    let mut it = iter(data);
    loop {
        let offset = it.offset();
        let Some(t) = it.next() else { return Ok(out) };
        let t = t?;
        let value = if nest(t.tag) {
            if depth + 1 >= MAX_DEPTH {
                return Err(TlvError::TooDeep { tag: t.tag, offset });
            }
            match parse_at(t.value, nest, depth + 1) {
                Ok(children) => TlvValue::Nested(children),
                Err(TlvError::TooDeep { .. }) => return Err(TlvError::TooDeep { tag: t.tag, offset }),
                Err(_) => TlvValue::Raw(t.value.to_vec()),
            }
        } else {
            TlvValue::Raw(t.value.to_vec())
        };
        out.push(TlvNode { tag: t.tag, value });
    }
}

/// A tag's value read by its type in the tag table.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// BYTE.
    Byte(u8),
    /// UINT16.
    U16(u16),
    /// UINT32.
    U32(u32),
    /// UINT40.
    U40(u64),
    /// VLN (money in kopecks, counters).
    Vln(u64),
    /// FVLN.
    Fvln(Decimal),
    /// UNIXTIME (wall clock).
    UnixTime(NaiveDateTime),
    /// DATETIME(5).
    DateTime5(NaiveDateTime),
    /// DATETIME(3).
    DateTime3(NaiveDate),
    /// cp866 text.
    String(String),
    /// Raw bytes (also any value of an unknown tag, and an empty value of a typed tag).
    Bytes(Vec<u8>),
}

impl Value {
    /// Reads `raw` as type `ty`. An empty value of any type is `Bytes([])`, as zero-length
    /// TLVs are legal; a value that does not fit its type is an error.
    pub fn decode(ty: TagType, raw: &[u8]) -> Result<Value, TypeError> {
        if raw.is_empty() && ty != TagType::String {
            return Ok(Value::Bytes(Vec::new()));
        }
        Ok(match ty {
            TagType::Byte => Value::Byte(types::decode_byte(raw)?),
            TagType::U16 => Value::U16(types::decode_u16(raw)?),
            TagType::U32 => Value::U32(types::decode_u32(raw)?),
            TagType::U40 => Value::U40(types::decode_u40(raw)?),
            TagType::Vln => Value::Vln(types::decode_vln(raw)?),
            TagType::Fvln => Value::Fvln(types::decode_fvln(raw)?),
            TagType::UnixTime => Value::UnixTime(types::decode_unixtime(raw)?),
            TagType::DateTime5 => Value::DateTime5(types::decode_datetime5(raw)?),
            TagType::DateTime3 => Value::DateTime3(types::decode_datetime3(raw)?),
            TagType::String => Value::String(types::decode_cp866(raw).into_owned()),
            TagType::Bytes | TagType::Stlv => Value::Bytes(raw.to_vec()),
        })
    }

    /// Appends the value's wire bytes.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), TypeError> {
        match self {
            Value::Byte(v) => out.push(*v),
            Value::U16(v) => out.extend_from_slice(&v.to_le_bytes()),
            Value::U32(v) => out.extend_from_slice(&v.to_le_bytes()),
            Value::U40(v) => types::encode_u40(*v, out)?,
            Value::Vln(v) => types::encode_vln(*v, out),
            Value::Fvln(v) => types::encode_fvln(*v, out)?,
            Value::UnixTime(t) => out.extend_from_slice(&types::naive_to_unixtime(*t)?.to_le_bytes()),
            Value::DateTime5(t) => types::encode_datetime5(*t, out)?,
            Value::DateTime3(d) => types::encode_datetime3(*d, out)?,
            Value::String(s) => types::encode_cp866(s, out)?,
            Value::Bytes(b) => out.extend_from_slice(b),
        }
        Ok(())
    }
}

/// A value refused by the tag table, before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TagValueError {
    /// The value is longer than the tag allows.
    #[error("tag {tag} «{name}»: {len} bytes is longer than the limit of {max}")]
    TooLong {
        /// Tag.
        tag: u16,
        /// The tag's English name.
        name: &'static str,
        /// Length given.
        len: usize,
        /// The tag's maximum.
        max: u16,
    },
    /// The value does not fit the tag's type.
    #[error("tag {tag} «{name}»: {source}")]
    Type {
        /// Tag.
        tag: u16,
        /// The tag's English name.
        name: &'static str,
        /// What was wrong.
        source: TypeError,
    },
    /// An STLV's contents exceed 65535 bytes.
    #[error("tag {tag}: STLV contents exceed 65535 bytes")]
    StlvTooLong {
        /// Tag.
        tag: u16,
    },
}

fn tag_name(tag: u16) -> &'static str {
    tag_info(tag).map_or("unknown tag", |t| t.name_en)
}

/// Builds a TLV list, checking lengths against the tag table.
#[derive(Debug, Default, Clone)]
pub struct TlvWriter {
    buf: Vec<u8>,
}

impl TlvWriter {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// The bytes written.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Appends raw `value` under `tag` after checking the table's maximum length.
    pub fn raw(&mut self, tag: u16, value: &[u8]) -> Result<&mut Self, TagValueError> {
        if let Some(info) = tag_info(tag) {
            if value.len() > usize::from(info.max_len) {
                return Err(TagValueError::TooLong { tag, name: info.name_en, len: value.len(), max: info.max_len });
            }
        }
        let len = u16::try_from(value.len()).map_err(|_| TagValueError::StlvTooLong { tag })?;
        self.buf.extend_from_slice(&tag.to_le_bytes());
        self.buf.extend_from_slice(&len.to_le_bytes());
        self.buf.extend_from_slice(value);
        Ok(self)
    }

    /// Appends a typed value.
    pub fn value(&mut self, tag: u16, v: &Value) -> Result<&mut Self, TagValueError> {
        let mut b = Vec::new();
        v.encode(&mut b).map_err(|source| TagValueError::Type { tag, name: tag_name(tag), source })?;
        self.raw(tag, &b)
    }

    /// Appends a BYTE.
    pub fn byte(&mut self, tag: u16, v: u8) -> Result<&mut Self, TagValueError> {
        self.raw(tag, &[v])
    }

    /// Appends a UINT16.
    pub fn u16(&mut self, tag: u16, v: u16) -> Result<&mut Self, TagValueError> {
        self.raw(tag, &v.to_le_bytes())
    }

    /// Appends a UINT32.
    pub fn u32(&mut self, tag: u16, v: u32) -> Result<&mut Self, TagValueError> {
        self.raw(tag, &v.to_le_bytes())
    }

    /// Appends a VLN.
    pub fn vln(&mut self, tag: u16, v: u64) -> Result<&mut Self, TagValueError> {
        self.value(tag, &Value::Vln(v))
    }

    /// Appends a FVLN.
    pub fn fvln(&mut self, tag: u16, v: Decimal) -> Result<&mut Self, TagValueError> {
        self.value(tag, &Value::Fvln(v))
    }

    /// Appends cp866 text (an unmappable character is an error naming it).
    pub fn string(&mut self, tag: u16, s: &str) -> Result<&mut Self, TagValueError> {
        self.value(tag, &Value::String(s.to_string()))
    }

    /// Appends an STLV whose children `f` writes.
    pub fn stlv(
        &mut self,
        tag: u16,
        f: impl FnOnce(&mut TlvWriter) -> Result<(), TagValueError>,
    ) -> Result<&mut Self, TagValueError> {
        let mut inner = TlvWriter::new();
        f(&mut inner)?;
        self.raw(tag, &inner.buf)
    }
}

/// One TLV as JSON: `{tag, name, name_ru, value}` with `text` and `text_ru`, the value's
/// meaning where it has one (an enumeration's or a bit mask's names, money in roubles, the
/// printed fiscal sign of tag 1077), or `{tag, name, name_ru, tlv: [...]}` for an STLV.
pub fn tlv_json(nodes: &[TlvNode]) -> serde_json::Value {
    serde_json::to_value(TlvJson(nodes)).unwrap_or(serde_json::Value::Null)
}

/// A TLV list serialized as [`tlv_json`] shows it, written straight to the serializer (no
/// [`serde_json::Value`] tree in between: `kkt decode --json` of a long log writes millions).
#[derive(Debug, Clone, Copy)]
pub struct TlvJson<'a>(pub &'a [TlvNode]);

impl serde::Serialize for TlvJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(NodeJson))
    }
}

/// One TLV as JSON (see [`tlv_json`]).
struct NodeJson<'a>(&'a TlvNode);

impl serde::Serialize for NodeJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let n = self.0;
        let row = crate::protocol::tables::tag_row(n.tag);
        let info = row.map(|r| &crate::protocol::tables::tags()[r]);
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("tag", &n.tag)?;
        match row.and_then(|r| tag_names_json().get(r)) {
            Some((en, ru)) => {
                m.serialize_entry("name", en)?;
                m.serialize_entry("name_ru", ru)?;
            }
            None => {
                m.serialize_entry("name", &None::<&str>)?;
                m.serialize_entry("name_ru", &None::<&str>)?;
            }
        }
        match &n.value {
            TlvValue::Nested(children) => m.serialize_entry("tlv", &TlvJson(children))?,
            TlvValue::Raw(raw) => match info.map(|i| Value::decode(i.ty, raw)) {
                Some(Ok(v)) => {
                    m.serialize_entry("value", &ValueJson(&v))?;
                    if let Some((ru, en)) = value_meaning(n.tag, &v) {
                        m.serialize_entry("text", &en)?;
                        m.serialize_entry("text_ru", &ru)?;
                    }
                }
                Some(Err(e)) => {
                    m.serialize_entry("value", &hex_upper(raw))?;
                    m.serialize_entry("value_error", &e.to_string())?;
                }
                None => m.serialize_entry("value", &hex_upper(raw))?,
            },
        }
        m.end()
    }
}

/// Every tag's English and Russian names as JSON strings, parallel to the tag table: escaped
/// once per run, not once per TLV (a long log names the same tags millions of times). With
/// serde_json a [`serde_json::value::RawValue`] is written as it is, and read back as the
/// string it holds.
fn tag_names_json() -> &'static [(Box<serde_json::value::RawValue>, Box<serde_json::value::RawValue>)] {
    static NAMES: std::sync::OnceLock<Vec<(Box<serde_json::value::RawValue>, Box<serde_json::value::RawValue>)>> =
        std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        let json = |s: &str| {
            serde_json::value::to_raw_value(s)
                .unwrap_or_else(|_| serde_json::value::RawValue::from_string("null".into()).expect("null is JSON"))
        };
        crate::protocol::tables::tags().iter().map(|t| (json(t.name_en), json(t.name_ru))).collect()
    })
}

/// A typed value serialized as [`value_json`] shows it.
#[derive(Debug, Clone, Copy)]
pub struct ValueJson<'a>(pub &'a Value);

impl serde::Serialize for ValueJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Byte(b) => s.serialize_u8(*b),
            Value::U16(x) => s.serialize_u16(*x),
            Value::U32(x) => s.serialize_u32(*x),
            Value::U40(x) | Value::Vln(x) => s.serialize_u64(*x),
            Value::Fvln(d) => s.collect_str(d),
            Value::UnixTime(t) | Value::DateTime5(t) => s.collect_str(&t.format("%Y-%m-%dT%H:%M:%S")),
            Value::DateTime3(d) => s.collect_str(&d.format("%Y-%m-%d")),
            Value::String(x) => s.serialize_str(x),
            Value::Bytes(b) => s.serialize_str(&hex_upper(b)),
        }
    }
}

/// Bytes in upper-case hex, as the logs and `kkt decode` show them (a table lookup per byte:
/// `hex::encode_upper` goes through a char iterator, a tenth of `kkt decode`'s time).
pub fn hex_upper(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.extend_from_slice(&[DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 0x0F)]]);
    }
    String::from_utf8(out).unwrap_or_default() // hex digits are ASCII: never the default
}

/// The meaning of a value, in Russian and English, where it says more than the value: the
/// names of an enumeration's value or a mask's bits, money in roubles (VLN), the fiscal sign as
/// printed (tag 1077: the last four of its six bytes, big-endian).
pub fn value_meaning(tag: u16, v: &Value) -> Option<(String, String)> {
    match v {
        Value::Byte(b) => crate::protocol::values::tag_value_texts(tag, *b),
        Value::Vln(k) => {
            let s = format!("{}.{:02} ₽", k / 100, k % 100);
            Some((s.clone(), s))
        }
        Value::Bytes(b) if tag == crate::protocol::tag::DOCUMENT_FISCAL_SIGN && b.len() == 6 => {
            let fp = u32::from_be_bytes([b[2], b[3], b[4], b[5]]);
            Some((format!("ФП {fp:010}"), format!("fiscal sign {fp:010} as printed")))
        }
        _ => None,
    }
}

/// A typed value as JSON: numbers, strings, FVLN as a decimal string, dates in ISO 8601,
/// bytes as hex.
pub fn value_json(v: &Value) -> serde_json::Value {
    serde_json::to_value(ValueJson(v)).unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn documented_stlv_example() {
        // Приложение 8: 1059 holding two TLVs 1009 = "hello".
        let b = hex::decode("230412 00F1030500 68656C6C6F F10305006865 6C6C6F".replace(' ', "")).unwrap();
        let nest = |t: u16| t == 1059;
        let tree = parse_tree(&b, &nest).unwrap();
        assert_eq!(
            tree,
            vec![TlvNode::nested(1059, vec![TlvNode::raw(1009, *b"hello"), TlvNode::raw(1009, *b"hello")])]
        );
        assert_eq!(encode_list(&tree), b);
    }

    #[test]
    fn zero_length_and_truncation() {
        let b = [0xD0, 0x07, 0x00, 0x00, 0xCD, 0x04, 0x01, 0x00, 0x00];
        let v: Vec<_> = iter(&b).collect::<Result<_, _>>().unwrap();
        assert_eq!(v, vec![Tlv { tag: 2000, value: &[] }, Tlv { tag: 1229, value: &[0] }]);
        let e = iter(&b[..8]).nth(1).unwrap().unwrap_err();
        assert_eq!(e, TlvError::TruncatedValue { tag: 1229, offset: 4, len: 1, left: 0 });
        let e = iter(&b[..2]).next().unwrap().unwrap_err();
        assert_eq!(e, TlvError::TruncatedHeader { offset: 0, left: 2 });
    }

    #[test]
    fn writer_checks_the_table() {
        let mut w = TlvWriter::new();
        w.string(1030, "Хлеб").unwrap();
        assert_eq!(w.as_bytes(), &[0x06, 0x04, 0x04, 0x00, 0x95, 0xAB, 0xA5, 0xA1]);
        let long = "я".repeat(129);
        let e = w.string(1030, &long).unwrap_err();
        assert!(matches!(e, TagValueError::TooLong { tag: 1030, len: 129, max: 128, .. }), "{e}");
        let e = w.string(1030, "€").unwrap_err();
        assert!(e.to_string().contains("1030") && e.to_string().contains('€'), "{e}");
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let mut v = Vec::new();
        for _ in 0..200 {
            let mut n = 1260u16.to_le_bytes().to_vec();
            n.extend_from_slice(&(v.len() as u16).to_le_bytes());
            n.extend_from_slice(&v);
            v = n;
        }
        assert!(matches!(parse_tree(&v, &|_| true), Err(TlvError::TooDeep { .. })));
    }

    fn node(depth: u32) -> impl Strategy<Value = TlvNode> {
        let leaf = (1u16..3000, prop::collection::vec(any::<u8>(), 0..20)).prop_map(|(t, v)| TlvNode::raw(t * 2, v));
        leaf.prop_recursive(depth, 64, 5, |inner| {
            (1u16..3000, prop::collection::vec(inner, 0..5)).prop_map(|(t, c)| TlvNode::nested(t * 2 + 1, c))
        })
    }

    proptest! {
        #[test]
        fn tree_roundtrip(nodes in prop::collection::vec(node(4), 0..6)) {
            // Odd tags nest, even tags are leaves.
            let bytes = encode_list(&nodes);
            let back = parse_tree(&bytes, &|t| t % 2 == 1).unwrap();
            prop_assert_eq!(encode_list(&back), bytes);
            prop_assert_eq!(back, nodes);
        }

        #[test]
        fn arbitrary_bytes_roundtrip_or_fail_cleanly(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(tree) = parse_tree(&bytes, &is_stlv) {
                prop_assert_eq!(encode_list(&tree), bytes);
            }
        }

        #[test]
        fn values_roundtrip(b: u8, w: u16, d: u32, m in 0u64..(1<<40), s in "[ -~А-яЁё№]{0,30}") {
            use chrono::DateTime;
            let t = DateTime::from_timestamp(i64::from(d), 0).unwrap().naive_utc();
            let cases = [
                (TagType::Byte, Value::Byte(b)),
                (TagType::U16, Value::U16(w)),
                (TagType::U32, Value::U32(d)),
                (TagType::U40, Value::U40(m)),
                (TagType::Vln, Value::Vln(m)),
                (TagType::Fvln, Value::Fvln(Decimal::new(m, b % 6))),
                (TagType::UnixTime, Value::UnixTime(t)),
                (TagType::String, Value::String(s.clone())),
            ];
            for (ty, v) in cases {
                let mut out = Vec::new();
                v.encode(&mut out).unwrap();
                prop_assert_eq!(Value::decode(ty, &out).unwrap(), v);
            }
        }
    }

    #[test]
    fn tlv_json_names_tags_and_values() {
        use crate::protocol::tag;
        let mut w = TlvWriter::new();
        w.byte(tag::VAT_RATE, 2).unwrap().string(tag::ITEM_NAME, "Хлеб").unwrap().raw(7777, &[0xAB]).unwrap();
        let list = parse_tree(w.as_bytes(), &is_stlv).unwrap();
        let j = tlv_json(&list);
        assert_eq!(
            (j[0]["tag"].as_u64(), j[0]["value"].as_u64(), j[0]["text"].as_str()),
            (Some(1199), Some(2), Some("VAT 10%"))
        );
        assert_eq!((j[1]["value"].as_str(), j[1].get("text")), (Some("Хлеб"), None));
        assert_eq!((j[2]["name"].as_str(), j[2]["value"].as_str()), (None, Some("AB")));
    }

    #[test]
    fn tlv_json_is_written_as_the_value_shows_it() {
        use crate::protocol::tag;
        let mut w = TlvWriter::new();
        w.byte(tag::VAT_RATE, 1).unwrap().string(tag::ITEM_NAME, "Сок \"Добрый\"").unwrap().raw(7777, &[0xAB]).unwrap();
        let mut list = parse_tree(w.as_bytes(), &is_stlv).unwrap();
        // A BYTE tag with two bytes (the writer refuses it; a frame may hold it): shown as hex,
        // saying why.
        list.push(TlvNode::raw(tag::VAT_RATE, [1, 2]));
        list.push(TlvNode::nested(1059, vec![TlvNode::raw(tag::ITEM_NAME, *b"AB")]));
        let written = serde_json::to_string(&TlvJson(&list)).unwrap();
        // Straight to the writer (the names escaped once per run) as through a Value tree.
        assert_eq!(written, tlv_json(&list).to_string());
        let vat = tag_info(tag::VAT_RATE).unwrap();
        assert!(
            written.starts_with(&format!(
                r#"[{{"tag":1199,"name":"{}","name_ru":"{}","value":1,"text":"VAT 20%","text_ru":"НДС 20%"}},"#,
                vat.name_en, vat.name_ru
            )),
            "{written}"
        );
        assert!(written.contains(r#""value":"Сок \"Добрый\"""#), "{written}");
        assert!(written.contains(r#"{"tag":7777,"name":null,"name_ru":null,"value":"AB"}"#), "{written}");
        assert!(written.contains(r#""value":"0102","value_error":"#), "{written}");
        assert!(written.contains(r#""tlv":[{"tag":1030,"#), "{written}");
    }

    proptest! {
        #[test]
        fn hex_upper_is_hex_in_capitals(b in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(hex_upper(&b), hex::encode_upper(&b));
        }
    }
}
