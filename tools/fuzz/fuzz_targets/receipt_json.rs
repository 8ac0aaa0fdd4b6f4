//! The receipt JSON (`Receipt::from_json`) on arbitrary text.
//!
//! Invariants checked:
//! - nothing panics: reading, `validate`, `settle`, `total`, the journal's content hash;
//! - a receipt read is written back (`to_json`) as JSON that reads back to the same receipt.
#![no_main]

use kkt::receipt::Receipt;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(r) = Receipt::from_json(text) else { return };
    let _ = r.validate();
    let _ = r.settle();
    let _ = r.total();
    let _ = kkt::journaled::receipt_hash(&r);
    let back = Receipt::from_json(&r.to_json()).unwrap_or_else(|e| panic!("{e}: {}", r.to_json()));
    assert_eq!(back, r);
});
