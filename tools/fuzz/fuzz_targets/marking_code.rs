//! Marking code parsing (`MarkingCode::parse_bytes`, `MarkingCode::parse`, the FN's local check)
//! on arbitrary bytes.
//!
//! Invariants checked:
//! - nothing panics: parsing, every accessor, the local check (0x91 model) with and without keys;
//! - a parsed code is ASCII on the wire, `as_str` and the wire bytes agree, and its GTIN is 14
//!   digits;
//! - `parse` of the text (UTF-8 input) agrees with `parse_bytes` on ASCII input.
#![no_main]

use kkt::marking::code::{local_check, MarkingCode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = MarkingCode::parse_bytes(data);
    if let Ok(s) = std::str::from_utf8(data) {
        let p = MarkingCode::parse(s);
        if data.is_ascii() {
            assert_eq!(p.is_ok(), parsed.is_ok(), "parse and parse_bytes disagree on {s:?}");
        }
    }
    if let Ok(c) = &parsed {
        let wire = c.to_wire_bytes();
        assert!(wire.is_ascii());
        assert_eq!(c.as_str().as_bytes(), &wire[..]);
        assert!(c.gtin().len() == 14 && c.gtin().bytes().all(|b| b.is_ascii_digit()), "GTIN {:?}", c.gtin());
        let _ = (c.format(), c.elements(), c.serial(), c.key_id(), c.crypto_tail(), c.print_view());
        let _ = (c.code_type(|_| true), c.code_type_2100(), c.product_id(), c.code_type_text());
        let _ = (c.mrp_kopecks(), c.is_tobacco_code(), c.display_gs(), c.warnings());
    }
    let _ = local_check(data, |_| true, true);
    let _ = local_check(data, |_| false, false);
});
