//! ГИС МТ / Local Module check answers (`CheckAnswer`, read leniently) on arbitrary bytes.
//!
//! Invariants checked:
//! - nothing panics: reading, and every derived value (`service_mrp`, `in_group`);
//! - an answer read is written back as JSON that reads back to the same answer.
#![no_main]

use kkt::checker::model::CheckAnswer;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(a) = serde_json::from_slice::<CheckAnswer>(data) else { return };
    for c in &a.codes {
        let _ = c.service_mrp();
        let _ = c.in_group(3);
    }
    let text = serde_json::to_string(&a).expect("serializes");
    let back: CheckAnswer = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(back, a);
});
