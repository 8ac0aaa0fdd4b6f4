//! TLV lists on arbitrary bytes.
//!
//! Invariants checked:
//! - `parse_tree(data, &is_stlv)`, when Ok, encodes back to exactly `data`
//!   (`encode_list`, and `TlvNode::value_len` agrees with the bytes);
//! - `iter(data)` covers the input exactly when it yields no error, yields at most one error
//!   and then stops, and its offsets advance by header + length;
//! - for every TLV whose tag is in the table (recursing into STLVs), `Value::decode(info.ty, v)`,
//!   when Ok, re-encodes without error and decodes back to the same `Value`
//!   (bytes may differ, e.g. a non-minimal VLN); strings, fixed-size types and raw bytes are
//!   also checked to re-encode to the very same bytes;
//! - `TlvWriter::value` accepts what the table allows and writes a TLV that `iter` reads back.
#![no_main]

use kkt::protocol::tables::{tag_info, TagType};
use kkt::protocol::tlv::{
    self, encode_list, is_stlv, iter, parse_tree, TlvError, TlvNode, TlvValue, TlvWriter, Value, HEADER,
};
use libfuzzer_sys::fuzz_target;

fn check_node_lens(nodes: &[TlvNode]) -> usize {
    nodes
        .iter()
        .map(|n| {
            let len = match &n.value {
                TlvValue::Raw(v) => v.len(),
                TlvValue::Nested(c) => check_node_lens(c),
            };
            assert_eq!(n.value_len(), len);
            HEADER + len
        })
        .sum()
}

/// Bytes that must come back unchanged after decode + encode.
fn exact_bytes(ty: TagType, v: &Value) -> bool {
    match v {
        Value::Bytes(_) | Value::String(_) => true,
        _ => matches!(
            ty,
            TagType::Byte
                | TagType::U16
                | TagType::U32
                | TagType::U40
                | TagType::UnixTime
                | TagType::DateTime3
                | TagType::DateTime5
        ),
    }
}

fn check_value(tag: u16, raw: &[u8]) {
    let Some(info) = tag_info(tag) else { return };
    let Ok(v) = Value::decode(info.ty, raw) else { return };
    let mut enc = Vec::new();
    v.encode(&mut enc).unwrap_or_else(|e| panic!("tag {tag} {:?}: decoded {v:?} does not re-encode: {e}", info.ty));
    let back = Value::decode(info.ty, &enc)
        .unwrap_or_else(|e| panic!("tag {tag} {:?}: {v:?} encoded as {enc:02X?} does not decode: {e}", info.ty));
    assert_eq!(back, v, "tag {tag} {:?}: {raw:02X?} -> {enc:02X?}", info.ty);
    if exact_bytes(info.ty, &v) {
        assert_eq!(enc, raw, "tag {tag} {:?}: {v:?}", info.ty);
    }
    // The writer takes the value when it is within the table's length.
    let mut w = TlvWriter::new();
    match w.value(tag, &v) {
        Ok(_) => {
            assert!(enc.len() <= usize::from(info.max_len));
            let mut it = iter(w.as_bytes());
            let t = it.next().expect("one TLV").expect("a valid TLV");
            assert_eq!((t.tag, t.value), (tag, &enc[..]));
            assert!(it.next().is_none());
        }
        Err(tlv::TagValueError::TooLong { len, max, .. }) => {
            assert_eq!(len, enc.len());
            assert!(len > usize::from(max));
        }
        Err(e) => panic!("tag {tag}: writer refused {v:?}: {e}"),
    }
}

fn walk(data: &[u8], depth: usize) {
    let mut it = iter(data);
    let mut covered = 0;
    let mut errored = false;
    loop {
        let offset = it.offset();
        assert_eq!(offset, covered);
        let Some(t) = it.next() else { break };
        assert!(!errored, "iter went on after an error");
        match t {
            Ok(t) => {
                covered += HEADER + t.value.len();
                assert!(covered <= data.len());
                assert_eq!(&data[offset..offset + 2], &t.tag.to_le_bytes());
                check_value(t.tag, t.value);
                if depth < tlv::MAX_DEPTH && is_stlv(t.tag) {
                    walk(t.value, depth + 1);
                }
            }
            Err(TlvError::TruncatedHeader { offset: o, left }) => {
                assert_eq!((o, left), (offset, data.len() - offset));
                assert!(left < HEADER);
                errored = true;
            }
            Err(TlvError::TruncatedValue { offset: o, len, left, .. }) => {
                assert_eq!((o, left), (offset, data.len() - offset - HEADER));
                assert!(usize::from(len) > left);
                errored = true;
            }
            Err(e @ TlvError::TooDeep { .. }) => panic!("iter does not nest: {e:?}"),
        }
    }
    if !errored {
        assert_eq!(covered, data.len());
    }
}

fuzz_target!(|data: &[u8]| {
    match parse_tree(data, &is_stlv) {
        Ok(tree) => {
            assert_eq!(check_node_lens(&tree), data.len());
            assert_eq!(encode_list(&tree), data);
        }
        Err(TlvError::TooDeep { .. }) => {}
        Err(_) => assert!(iter(data).any(|r| r.is_err()), "parse_tree failed where iter did not"),
    }
    walk(data, 0);
});
