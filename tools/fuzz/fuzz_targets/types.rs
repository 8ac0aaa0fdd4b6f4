//! The data-type decoders on arbitrary bytes, with round trips where they are defined.
//!
//! - VLN (any length): Ok ⇒ minimal re-encoding of `vln_len` bytes decodes to the same value;
//!   more than 8 bytes ⇒ error.
//! - FVLN: Ok ⇒ re-encodes, decodes to the same `Decimal`; Display/FromStr round-trip.
//! - DATETIME(5)/(3), UNIXTIME, UINT16/32/40, BYTE on the leading bytes: Ok ⇒ re-encode to the
//!   very same bytes.
//! - cp866: every byte string decodes, and encodes back to the same bytes.
//! - The input as UTF-8 text: cp866 encode either round-trips or names a character of the text
//!   at the right position; `Decimal::from_str` either fails or round-trips through Display.
#![no_main]

use kkt::protocol::types::{self, Decimal, TypeError};
use libfuzzer_sys::fuzz_target;

fn check_decimal(d: Decimal) {
    let s = d.to_string();
    let back: Decimal = s.parse().unwrap_or_else(|e| panic!("{d:?} displayed as {s:?} does not parse: {e}"));
    assert_eq!(back, d, "{s}");
    for scale in [0u8, 2, 3, 6, 19, 20, 255] {
        let got = d.to_scale(scale);
        let want = if scale >= d.scale {
            10u128
                .checked_pow(u32::from(scale - d.scale))
                .and_then(|p| p.checked_mul(u128::from(d.mantissa)))
                .and_then(|v| u64::try_from(v).ok())
        } else {
            let p = 10u128.pow(u32::from(d.scale - scale));
            (u128::from(d.mantissa) % p == 0).then(|| (u128::from(d.mantissa) / p) as u64)
        };
        // 10^k may overflow u64 even when mantissa is 0; to_scale may then say None.
        if d.mantissa != 0 || got.is_some() {
            assert_eq!(got, want, "{d:?} to scale {scale}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // VLN.
    match types::decode_vln(data) {
        Ok(v) => {
            assert!(data.len() <= 8);
            let mut b = Vec::new();
            types::encode_vln(v, &mut b);
            assert_eq!(b.len(), types::vln_len(v));
            assert!(b.len() <= data.len().max(1));
            assert_eq!(types::decode_vln(&b).unwrap(), v);
            if !data.is_empty() {
                // The minimal encoding is the input without its high zero bytes.
                assert_eq!(&b[..], &data[..b.len()]);
                assert!(data[b.len()..].iter().all(|&x| x == 0));
            }
        }
        Err(_) => assert!(data.len() > 8),
    }

    // FVLN.
    if let Ok(d) = types::decode_fvln(data) {
        assert!((2..=8).contains(&data.len()));
        let mut b = Vec::new();
        types::encode_fvln(d, &mut b).unwrap_or_else(|e| panic!("{d:?} from {data:02X?} does not re-encode: {e}"));
        assert_eq!(types::decode_fvln(&b).unwrap(), d);
        check_decimal(d);
    }

    // Fixed-size types on the leading bytes.
    for n in 1..=5 {
        let Some(raw) = data.get(..n) else { break };
        match n {
            1 => assert_eq!(types::decode_byte(raw).unwrap(), raw[0]),
            2 => assert_eq!(types::decode_u16(raw).unwrap().to_le_bytes(), raw),
            3 => {
                if let Ok(d) = types::decode_datetime3(raw) {
                    let mut b = Vec::new();
                    types::encode_datetime3(d, &mut b).unwrap();
                    assert_eq!(b, raw);
                }
            }
            4 => {
                let secs = types::decode_u32(raw).unwrap();
                assert_eq!(secs.to_le_bytes(), raw);
                let t = types::decode_unixtime(raw).unwrap();
                assert_eq!(t, types::unixtime_to_naive(secs));
                assert_eq!(types::naive_to_unixtime(t).unwrap(), secs);
            }
            5 => {
                let v = types::decode_u40(raw).unwrap();
                let mut b = Vec::new();
                types::encode_u40(v, &mut b).unwrap();
                assert_eq!(b, raw);
                if let Ok(t) = types::decode_datetime5(raw) {
                    let mut b = Vec::new();
                    types::encode_datetime5(t, &mut b).unwrap();
                    assert_eq!(b, raw);
                }
            }
            _ => unreachable!(),
        }
    }
    // Wrong sizes are errors, not panics.
    if data.len() != 5 {
        assert!(types::decode_datetime5(data).is_err());
        assert!(types::decode_u40(data).is_err());
    }
    if data.len() != 3 {
        assert!(types::decode_datetime3(data).is_err());
    }
    if data.len() != 4 {
        assert!(types::decode_unixtime(data).is_err());
    }

    // cp866 bytes → text → bytes.
    let s = types::decode_cp866(data);
    assert_eq!(s.chars().count(), data.len());
    assert_eq!(types::cp866(&s).unwrap_or_else(|e| panic!("{data:02X?} decoded to {s:?}: {e}")), data);

    // The input as text.
    if let Ok(text) = std::str::from_utf8(data) {
        match types::cp866(text) {
            Ok(b) => assert_eq!(types::decode_cp866(&b), text),
            Err(TypeError::Cp866 { ch, code, position }) => {
                assert_eq!(code, ch as u32);
                assert_eq!(text.chars().nth(position), Some(ch), "{text:?}");
                // Everything before it is encodable.
                let before: String = text.chars().take(position).collect();
                assert!(types::cp866(&before).is_ok());
            }
            Err(e) => panic!("unexpected {e}"),
        }
        if let Ok(d) = text.parse::<Decimal>() {
            check_decimal(d);
        }
    }
});
