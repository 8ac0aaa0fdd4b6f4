//! Tag 1260 «отраслевой реквизит предмета расчета» for a marked item (seed 003 §3.1, ППР 1944):
//! 1262 = 30 (Минпромторг; one BYTE on this device, PROTOCOL-NOTES), 1263 = "21.11.2023",
//! 1264 = "1944", 1265 = `UUID=<reqId>&Time=<reqTimestamp>` from the online answer, with
//! `&Inst=<inst>&Ver=<version>` appended when the Local Module answered.

use crate::protocol::tlv::{TagValueError, TlvNode, TlvWriter};

/// Tag 1260 (STLV).
pub const TAG_1260: u16 = 1260;
/// Tag 1262, «идентификатор ФОИВ».
pub const TAG_FOIV: u16 = 1262;
/// Tag 1263, «дата документа основания».
pub const TAG_BASIS_DATE: u16 = 1263;
/// Tag 1264, «номер документа основания».
pub const TAG_BASIS_NUMBER: u16 = 1264;
/// Tag 1265, «значение отраслевого реквизита».
pub const TAG_VALUE: u16 = 1265;

/// 1262: the Ministry of Industry and Trade ("030" in ЦРПТ's text; a BYTE 30 on this device).
pub const FOIV_ID: u8 = 30;
/// 1263: the date of ППР 1944.
pub const BASIS_DATE: &str = "21.11.2023";
/// 1264: ППР 1944.
pub const BASIS_NUMBER: &str = "1944";

/// The 1265 value for an online answer.
pub fn value_online(req_id: &str, req_timestamp: i64) -> String {
    format!("UUID={req_id}&Time={req_timestamp}")
}

/// The 1265 value for a Local Module answer.
pub fn value_lm(req_id: &str, req_timestamp: i64, inst: &str, version: &str) -> String {
    format!("UUID={req_id}&Time={req_timestamp}&Inst={inst}&Ver={version}")
}

/// The 1260 of a marked item as the 0x97 command's typed requisite.
pub fn requisite(value_1265: &str) -> crate::commands::receipt::IndustryRequisite {
    crate::commands::receipt::IndustryRequisite::new(FOIV_ID, BASIS_DATE, BASIS_NUMBER, value_1265)
}

/// The children of 1260 (1262, 1263, 1264, 1265) as TLV bytes.
pub fn children(value_1265: &str) -> Result<Vec<u8>, TagValueError> {
    let mut w = TlvWriter::new();
    w.byte(TAG_FOIV, FOIV_ID)?
        .string(TAG_BASIS_DATE, BASIS_DATE)?
        .string(TAG_BASIS_NUMBER, BASIS_NUMBER)?
        .string(TAG_VALUE, value_1265)?;
    Ok(w.into_bytes())
}

/// The whole 1260 TLV (header included), ready to append to a 0x97 item.
pub fn build(value_1265: &str) -> Result<Vec<u8>, TagValueError> {
    let inner = children(value_1265)?;
    let mut w = TlvWriter::new();
    w.raw(TAG_1260, &inner)?;
    Ok(w.into_bytes())
}

/// The same as a tree node (for code that keeps items as [`TlvNode`]s).
pub fn node(value_1265: &str) -> Result<TlvNode, TagValueError> {
    let inner = children(value_1265)?;
    let kids = crate::protocol::tlv::parse_tree(&inner, &|_| false).expect("just written");
    Ok(TlvNode::nested(TAG_1260, kids))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::tlv;

    #[test]
    fn methodology_example() {
        let v = value_online("2ce10bdb-6510-4d37-be04-dd473b98c728", 1692691702065);
        assert_eq!(v, "UUID=2ce10bdb-6510-4d37-be04-dd473b98c728&Time=1692691702065");
        let b = build(&v).unwrap();
        // 1260 = EC 04, then its length, then 1262 = 30 as one byte.
        assert_eq!(&b[..2], &[0xEC, 0x04]);
        assert_eq!(usize::from(u16::from_le_bytes([b[2], b[3]])), b.len() - 4);
        assert_eq!(&b[4..9], &[0xEE, 0x04, 0x01, 0x00, 30]);
        let kids: Vec<_> = tlv::iter(&b[4..]).collect::<Result<_, _>>().unwrap();
        assert_eq!(kids.len(), 4);
        assert_eq!(kids[1].tag, 1263);
        assert_eq!(kids[1].value, b"21.11.2023");
        assert_eq!(kids[2].value, b"1944");
        assert_eq!(kids[3].tag, 1265);
        assert_eq!(kids[3].value, v.as_bytes());
        assert_eq!(tlv::encode_list(&[node(&v).unwrap()]), b);
    }

    #[test]
    fn local_module_value() {
        let v = value_lm("bfa41a5f-8d1f-8084-2ee6-548af2000ff5", 1738932218989, "ebf70f9d", "1.5.1-100");
        assert_eq!(v, "UUID=bfa41a5f-8d1f-8084-2ee6-548af2000ff5&Time=1738932218989&Inst=ebf70f9d&Ver=1.5.1-100");
        assert!(build(&v).is_ok());
    }

    #[test]
    fn too_long_1265_is_refused() {
        assert!(build(&"x".repeat(257)).is_err());
    }
}
