//! `FrameDecoder` fed in chunks.
//!
//! Input layout: byte 0 low 3 bits = k, the number of chunk-size bytes that follow; each is a
//! chunk size (value + 1, cycled). k = 0 feeds the rest of the input in one go. The rest of the
//! input is the byte stream.
//!
//! Invariants checked:
//! - nothing panics and the decode loop terminates (each `Some` consumes at least one byte);
//! - every frame re-encodes with `frame::encode` to bytes that `parse` reads back as the same
//!   frame, with nothing skipped and everything consumed;
//! - after `None`, the buffer holds less than one largest frame (garbage is dropped);
//! - every byte fed is accounted for: frames + skipped garbage + what is left in the buffer;
//! - the frames and errors do not depend on the chunking (same as one-shot decoding).
#![no_main]

use bytes::BytesMut;
use kkt::protocol::frame::{self, Frame, FrameDecoder, FrameError, Parsed, MAX_DATA, MAX_LEN, OVERHEAD};
use libfuzzer_sys::fuzz_target;

/// A decode result with the (buffer-relative) offset of errors removed.
#[derive(Debug, PartialEq, Eq)]
enum Event {
    Frame { code: u8, data: Vec<u8>, skipped: usize },
    BadLength { len: u16 },
    BadCrc { found: u16, computed: u16 },
}

fn event(r: Result<Frame, FrameError>) -> Event {
    match r {
        Ok(f) => Event::Frame { code: f.code, data: f.data.to_vec(), skipped: f.skipped },
        Err(FrameError::BadLength { len, .. }) => Event::BadLength { len },
        Err(FrameError::BadCrc { found, computed, .. }) => Event::BadCrc { found, computed },
        Err(e @ (FrameError::TooLong { .. } | FrameError::Stalled { .. })) => {
            panic!("decoder returned an error that is not its own: {e:?}")
        }
    }
}

fn check_frame(f: &Frame) {
    assert!(f.data.len() <= MAX_DATA, "frame data of {} bytes", f.data.len());
    let mut enc = Vec::new();
    frame::encode(f.code, &f.data, &mut enc).expect("a decoded frame re-encodes");
    assert_eq!(enc.len(), f.data.len() + OVERHEAD + 1);
    match frame::parse(&enc) {
        Parsed::Frame { frame, skipped, consumed } => {
            assert_eq!(skipped, 0);
            assert_eq!(consumed, enc.len());
            assert_eq!(frame.code, f.code);
            assert_eq!(frame.data, &f.data[..]);
        }
        other => panic!("re-encoded frame does not parse: {other:?}"),
    }
    assert_eq!(f.to_bytes().unwrap(), enc);
}

/// Decodes `stream` fed in `chunks` (cycled; empty = one go) and checks the invariants.
fn run(stream: &[u8], chunks: &[usize]) -> Vec<Event> {
    let mut d = FrameDecoder::new();
    let mut buf = BytesMut::new();
    let mut events = Vec::new();
    let mut frame_bytes = 0usize;
    let mut reported_skip = 0usize;
    let mut pos = 0;
    let mut i = 0;
    let mut results = 0usize;
    while pos < stream.len() {
        let n = if chunks.is_empty() { stream.len() } else { chunks[i % chunks.len()] };
        i += 1;
        let n = n.min(stream.len() - pos);
        buf.extend_from_slice(&stream[pos..pos + n]);
        pos += n;
        loop {
            let before = buf.len();
            let Some(r) = d.decode(&mut buf) else {
                assert!(buf.len() < OVERHEAD + MAX_LEN, "{} bytes left waiting", buf.len());
                break;
            };
            assert!(buf.len() < before, "a result consumed nothing");
            results += 1;
            assert!(results <= stream.len(), "more results than bytes");
            if let Ok(f) = &r {
                check_frame(f);
                frame_bytes += f.data.len() + OVERHEAD + 1;
                reported_skip += f.skipped;
            }
            events.push(event(r));
        }
    }
    // Every byte is a frame's, skipped garbage or still waiting in the buffer.
    assert_eq!(frame_bytes as u64 + d.skipped_total + buf.len() as u64, stream.len() as u64);
    assert!(reported_skip as u64 <= d.skipped_total);
    events
}

fuzz_target!(|data: &[u8]| {
    let Some((&head, rest)) = data.split_first() else { return };
    let k = usize::from(head & 7).min(rest.len());
    let chunks: Vec<usize> = rest[..k].iter().map(|&b| usize::from(b) + 1).collect();
    let stream = &rest[k..];
    let chunked = run(stream, &chunks);
    if !chunks.is_empty() {
        let whole = run(stream, &[]);
        assert_eq!(chunked, whole, "chunking changed the result");
    }
});
