//! `frame::parse` on arbitrary bytes.
//!
//! Invariants checked for every outcome, and again for each position a caller reaches by
//! dropping `consumed` (after a frame or a bad header) until `parse` asks for more:
//! - `Frame`: `consumed <= len`, the frame starts with B6 29 at `skipped`, there is no B6 29
//!   before it, and re-encoding the frame gives exactly `buf[skipped..consumed]`;
//! - `Incomplete`: `skipped <= len`, `needed >= 1`, and what is kept is a possible frame start;
//! - `Invalid`: `consumed == skipped + 1 <= len`, the error's offset is `skipped`, and the
//!   header really is bad (LEN out of range, or the CRC differs).
#![no_main]

use kkt::protocol::frame::{self, FrameError, Parsed, MAGIC, MAX_LEN, OVERHEAD};
use libfuzzer_sys::fuzz_target;

fn no_magic_before(buf: &[u8], end: usize) {
    // No B6 29 starts before `end`.
    assert!(buf[..(end + 1).min(buf.len())].windows(2).all(|w| w != MAGIC), "a B6 29 before {end} was skipped");
}

/// Checks one `parse` and returns the bytes a caller may drop (0 when more input is needed).
fn check(buf: &[u8]) -> usize {
    match frame::parse(buf) {
        Parsed::Frame { frame, skipped, consumed } => {
            assert!(consumed <= buf.len());
            assert!(skipped < consumed);
            assert_eq!(&buf[skipped..skipped + 2], &MAGIC);
            no_magic_before(buf, skipped);
            assert_eq!(consumed - skipped, frame.data.len() + OVERHEAD + 1);
            let mut enc = Vec::new();
            frame::encode(frame.code, frame.data, &mut enc).expect("a parsed frame re-encodes");
            assert_eq!(&enc[..], &buf[skipped..consumed]);
            consumed
        }
        Parsed::Incomplete { skipped, needed } => {
            assert!(skipped <= buf.len());
            assert!(needed >= 1);
            let kept = &buf[skipped..];
            no_magic_before(buf, skipped);
            if !kept.is_empty() {
                assert_eq!(kept[0], MAGIC[0], "kept bytes that cannot start a frame");
            }
            if kept.len() >= 2 {
                assert_eq!(&kept[..2], &MAGIC);
            }
            // Asking for more bytes never asks past the largest frame.
            assert!(kept.len() + needed <= MAX_LEN + OVERHEAD);
            0
        }
        Parsed::Invalid { error, skipped, consumed } => {
            assert_eq!(consumed, skipped + 1);
            assert!(consumed <= buf.len());
            assert_eq!(&buf[skipped..skipped + 2], &MAGIC);
            no_magic_before(buf, skipped);
            assert_eq!(error.offset(), Some(skipped));
            let len = u16::from_be_bytes([buf[skipped + 2], buf[skipped + 3]]);
            match error {
                FrameError::BadLength { len: l, .. } => {
                    assert_eq!(l, len);
                    assert!(l == 0 || usize::from(l) > MAX_LEN);
                }
                FrameError::BadCrc { found, computed, .. } => {
                    assert_ne!(found, computed);
                    let end = skipped + 4 + usize::from(len);
                    assert_eq!(computed, frame::crc16(&buf[skipped + 2..end]));
                    assert_eq!(found, u16::from_le_bytes([buf[end], buf[end + 1]]));
                }
                FrameError::TooLong { .. } => panic!("parse returned an encoder error"),
                FrameError::Stalled { .. } => panic!("parse returned a reader error"),
            }
            consumed
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut pos = 0;
    let mut steps = 0;
    loop {
        let n = check(&data[pos..]);
        if n == 0 {
            break;
        }
        pos += n;
        steps += 1;
        assert!(steps <= data.len());
    }
});
