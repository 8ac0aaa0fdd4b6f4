//! Counts heap allocations on the codec's hot paths with a counting global allocator.
//!
//! `cargo bench --bench alloc`
//!
//! Asserts that `frame::parse` + a `tlv::iter` walk (into the STLVs) over a 1000-byte 0x97
//! frame, `frame::encode` into a buffer with room, and the steady state of `FrameDecoder` on a
//! reused `BytesMut` allocate nothing, and prints the counts of the paths that do allocate by
//! design (owned trees, non-ASCII text).

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use bytes::BytesMut;
use kkt::protocol::frame::{self, FrameDecoder, Parsed};
use kkt::protocol::tables::tag_info;
use kkt::protocol::tlv::{self, is_stlv, Value};
use kkt::protocol::types;

mod common;
use common::data_0x97;

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(l.size(), Relaxed);
        System.alloc(l)
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(l.size(), Relaxed);
        System.alloc_zeroed(l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(new, Relaxed);
        System.realloc(p, l, new)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// (allocations, bytes) made by `f`.
fn count<R>(f: impl FnOnce() -> R) -> (usize, usize, R) {
    let (a, b) = (ALLOCS.load(Relaxed), BYTES.load(Relaxed));
    let r = black_box(f());
    (ALLOCS.load(Relaxed) - a, BYTES.load(Relaxed) - b, r)
}

fn walk(data: &[u8]) -> usize {
    let mut n = 0;
    for t in tlv::iter(data) {
        let t = t.expect("valid TLV");
        n += 1;
        if is_stlv(t.tag) {
            n += walk(t.value);
        }
    }
    n
}

/// Decodes every typed non-string value in the list (into the STLVs).
fn decode_values(data: &[u8], strings: bool) -> usize {
    let mut n = 0;
    for t in tlv::iter(data).map_while(Result::ok) {
        let Some(info) = tag_info(t.tag) else { continue };
        if is_stlv(t.tag) {
            n += decode_values(t.value, strings);
            continue;
        }
        if matches!(info.ty, kkt::protocol::TagType::String | kkt::protocol::TagType::Bytes) != strings {
            continue;
        }
        black_box(Value::decode(info.ty, t.value).unwrap());
        n += 1;
    }
    n
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` runs this too. Both just run.
    let data = data_0x97();
    let mut f = Vec::new();
    frame::encode(0x97, &data, &mut f).unwrap();
    assert_eq!(f.len(), 1000);

    let mut failures = Vec::new();
    let mut report = |what: &str, allocs: usize, bytes: usize, must_be_zero: bool| {
        let verdict = match (must_be_zero, allocs) {
            (true, 0) => "ok (must be 0)",
            (true, _) => "FAIL (must be 0)",
            (false, _) => "by design",
        };
        println!("{what:<58} {allocs:>6} allocations {bytes:>8} bytes   {verdict}");
        if must_be_zero && allocs != 0 {
            failures.push(what.to_string());
        }
    };
    const N: usize = 1000;

    // parse + iter: the hot path of reading a frame.
    let (a, b, tlvs) = count(|| {
        let mut tlvs = 0;
        for _ in 0..N {
            let Parsed::Frame { frame, .. } = frame::parse(black_box(&f)) else { panic!("not a frame") };
            tlvs += walk(frame.data);
        }
        tlvs
    });
    assert_eq!(tlvs % N, 0);
    report(&format!("{N} x (frame::parse + tlv::iter walk, {} TLVs)", tlvs / N), a, b, true);

    let (a, b, _) = count(|| (0..N).filter(|_| matches!(frame::parse(black_box(&f)), Parsed::Frame { .. })).count());
    report(&format!("{N} x frame::parse"), a, b, true);

    let (a, b, _) = count(|| (0..N).map(|_| walk(black_box(&data))).sum::<usize>());
    report(&format!("{N} x tlv::iter walk (into STLVs)"), a, b, true);

    // Typed values that are not text: no allocation either.
    let (a, b, n) = count(|| (0..N).map(|_| decode_values(black_box(&data), false)).sum::<usize>());
    report(&format!("{N} x Value::decode of the {} numeric values", n / N), a, b, true);

    // encode into a buffer that has room.
    let mut out = Vec::with_capacity(f.len());
    let (a, b, _) = count(|| {
        for _ in 0..N {
            out.clear();
            frame::encode(0x97, black_box(&data), &mut out).unwrap();
        }
    });
    assert_eq!(out, f);
    report(&format!("{N} x frame::encode into a reused Vec"), a, b, true);

    // The streaming decoder on a reused BytesMut: the first round may allocate (the buffer
    // becomes shared when the first frame is split off); after that, nothing.
    let stream: Vec<u8> = f.iter().copied().cycle().take(f.len() * 16).collect();
    let mut dec = FrameDecoder::new();
    let mut buf = BytesMut::with_capacity(stream.len());
    let mut round = |buf: &mut BytesMut| {
        buf.extend_from_slice(&stream);
        let mut n = 0;
        while let Some(r) = dec.decode(buf) {
            black_box(r.unwrap());
            n += 1;
        }
        assert_eq!(n, 16);
    };
    let (a, b, _) = count(|| round(&mut buf));
    report("FrameDecoder, first round of 16 frames (warm-up)", a, b, false);
    let (a, b, _) = count(|| (0..N).for_each(|_| round(&mut buf)));
    report(&format!("FrameDecoder, {N} more rounds of 16 frames (steady state)"), a, b, true);

    // By design: owned trees and owned text.
    let (a, b, _) = count(|| tlv::parse_tree(black_box(&data), &is_stlv).unwrap());
    report("tlv::parse_tree (owned tree), once", a, b, false);
    let (a, b, n) = count(|| decode_values(black_box(&data), true));
    report(&format!("Value::decode of the {n} string/bytes values, once"), a, b, false);
    let cyr = types::cp866("Молоко").unwrap();
    let (a, b, _) = count(|| types::decode_cp866(black_box(&cyr)).len());
    report("types::decode_cp866, Cyrillic (owned String), once", a, b, false);
    let (a, b, _) = count(|| types::decode_cp866(black_box(b"Milk 1L")).len());
    report("types::decode_cp866, ASCII (borrowed), once", a, b, true);

    if !failures.is_empty() {
        eprintln!("allocations on paths that must not allocate: {failures:?}");
        std::process::exit(1);
    }
    println!("alloc: every hot path checked allocates nothing");
}
