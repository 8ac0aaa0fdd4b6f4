//! The maximum retail price (МРЦ) of a tobacco pack, base-80 encoded in characters 22–25 of the
//! pack's code (seed 003, Appendix 1, with the erratum of PROTOCOL-NOTES: the alphabet's index 62
//! is `!`, 63 is `"`, and "ACW." decodes to 14630 kopecks, not 14360).

/// The 80-character alphabet: A–Z a–z 0–9 then `!"%&'*+-./_,:;=<>?`.
pub const ALPHABET: &[u8; 80] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!\"%&'*+-./_,:;=<>?";

/// Number of characters of an encoded price in a pack's code.
pub const WIDTH: usize = 4;

/// The index of `c` in [`ALPHABET`].
pub fn index_of(c: u8) -> Option<u64> {
    ALPHABET.iter().position(|&a| a == c).map(|i| i as u64)
}

/// Decodes a base-80 price (any length; a pack carries 4 characters) into kopecks.
/// Errors name the first character that is not in the alphabet and its position.
pub fn decode(s: &str) -> Result<u64, MrpError> {
    if s.is_empty() {
        return Err(MrpError::Empty);
    }
    let mut v: u64 = 0;
    for (pos, c) in s.bytes().enumerate() {
        let i = index_of(c).ok_or(MrpError::BadChar { pos, ch: char::from(c) })?;
        v = v.checked_mul(80).and_then(|v| v.checked_add(i)).ok_or(MrpError::Overflow)?;
    }
    Ok(v)
}

/// Encodes kopecks as 4 base-80 characters, padded on the left with `A`
/// (the largest price that fits is 80⁴ − 1 = 40 959 999 kopecks).
pub fn encode(kopecks: u64) -> Result<String, MrpError> {
    let max = 80u64.pow(WIDTH as u32) - 1;
    if kopecks > max {
        return Err(MrpError::TooLarge { kopecks, max });
    }
    let mut out = [ALPHABET[0]; WIDTH];
    let mut v = kopecks;
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(v % 80) as usize];
        v /= 80;
    }
    Ok(out.iter().map(|&b| char::from(b)).collect())
}

/// Why a price could not be decoded or encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MrpError {
    /// Nothing to decode.
    #[error("the encoded MRP is empty")]
    Empty,
    /// A character outside the 80-character alphabet.
    #[error("MRP character {ch:?} at position {pos} is not in the base-80 alphabet")]
    BadChar {
        /// Position within the encoded price (0-based).
        pos: usize,
        /// The character.
        ch: char,
    },
    /// The value does not fit in 64 bits.
    #[error("the encoded MRP is too long")]
    Overflow,
    /// More than 4 characters would be needed.
    #[error("{kopecks} kopecks does not fit in 4 base-80 characters (max {max})")]
    TooLarge {
        /// The price.
        kopecks: u64,
        /// The largest encodable price.
        max: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn alphabet_is_80_distinct_characters() {
        let mut seen = std::collections::HashSet::new();
        assert!(ALPHABET.iter().all(|c| seen.insert(*c)));
        assert_eq!(index_of(b'!'), Some(62));
        assert_eq!(index_of(b'"'), Some(63));
        assert_eq!(index_of(b'?'), Some(79));
        assert_eq!(index_of(b'.'), Some(70));
    }

    #[test]
    fn appendix_1_examples() {
        // Encoding walkthrough: 146 р 30 к → "ACW." (and the erratum: the value is 14630).
        assert_eq!(encode(14630).unwrap(), "ACW.");
        assert_eq!(decode("ACW.").unwrap(), 14630);
        // The three pack codes for GTIN 00000046185372 at 125 р 00 к.
        assert_eq!(decode("AB=U").unwrap(), 12500);
        assert_eq!(encode(12500).unwrap(), "AB=U");
        // Scenario 8 of Appendix 2 (pack, MRP 14500).
        assert_eq!(decode("ACVU").unwrap(), 14500);
        assert_eq!(encode(0).unwrap(), "AAAA");
    }

    #[test]
    fn errors_name_the_problem() {
        assert_eq!(decode("AB U"), Err(MrpError::BadChar { pos: 2, ch: ' ' }));
        assert_eq!(decode("A)CD"), Err(MrpError::BadChar { pos: 1, ch: ')' }));
        assert_eq!(decode(""), Err(MrpError::Empty));
        assert!(matches!(encode(80u64.pow(4)), Err(MrpError::TooLarge { .. })));
    }

    proptest! {
        #[test]
        fn round_trip(k in 0u64..80u64.pow(4)) {
            let s = encode(k).unwrap();
            prop_assert_eq!(s.len(), 4);
            prop_assert_eq!(decode(&s).unwrap(), k);
        }
    }
}
