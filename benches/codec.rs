//! Codec benchmarks: frame decode/encode of the capture frames, a ~1000-byte 0x97 frame
//! (marked item) with its TLV walk, and cp866 text.
//!
//! `cargo bench --bench codec -- --warm-up-time 1 --measurement-time 3`
//!
//! Throughput is in bytes of the frame (or of the TLV list / text) per second.

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kkt::protocol::frame::{self, FrameDecoder, Parsed};
use kkt::protocol::tlv::{self, is_stlv};
use kkt::protocol::types;

mod common;
use common::{data_0x97, item_name};

/// Every frame of fixtures/captures.tsv (the frames of captures.md): (name, bytes).
fn captures() -> Vec<(String, Vec<u8>)> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/captures.tsv"))
        .expect("fixtures/captures.tsv");
    let v: Vec<_> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("name\t") && !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            (c[0].to_string(), hex::decode(c[3].replace(' ', "")).expect("hex"))
        })
        .collect();
    assert!(!v.is_empty());
    v
}

/// (code, data) of a frame that parses.
fn split(bytes: &[u8]) -> (u8, &[u8]) {
    match frame::parse(bytes) {
        Parsed::Frame { frame, .. } => (frame.code, frame.data),
        other => panic!("not a frame: {other:?}"),
    }
}

/// Walks a TLV list with `iter`, into the STLVs, and sums the value bytes (so nothing is
/// optimised away).
fn walk(data: &[u8]) -> usize {
    let mut n = 0;
    for t in tlv::iter(data) {
        let t = t.expect("valid TLV");
        n += usize::from(t.tag) + t.value.len();
        if is_stlv(t.tag) {
            n += walk(t.value);
        }
    }
    n
}

fn captures_bench(c: &mut Criterion) {
    let caps = captures();
    let total: usize = caps.iter().map(|(_, b)| b.len()).sum();
    let stream: Vec<u8> = caps.iter().flat_map(|(_, b)| b.iter().copied()).collect();

    // All the capture frames, one after another.
    let mut g = c.benchmark_group("captures");
    g.throughput(Throughput::Bytes(total as u64));
    g.bench_function("parse", |b| {
        b.iter(|| {
            for (_, f) in &caps {
                black_box(frame::parse(black_box(f)));
            }
        })
    });
    g.bench_function("decoder", |b| {
        let mut d = FrameDecoder::new();
        let mut buf = BytesMut::with_capacity(stream.len());
        b.iter(|| {
            buf.extend_from_slice(&stream);
            while let Some(r) = d.decode(&mut buf) {
                black_box(r.unwrap());
            }
        })
    });
    g.bench_function("encode", |b| {
        let frames: Vec<(u8, &[u8])> = caps.iter().map(|(_, f)| split(f)).collect();
        let mut out = Vec::with_capacity(total);
        b.iter(|| {
            out.clear();
            for &(code, data) in &frames {
                frame::encode(code, data, &mut out).unwrap();
            }
            black_box(&out);
        })
    });
    g.finish();

    // Each capture frame on its own.
    let mut g = c.benchmark_group("capture");
    for (name, f) in &caps {
        g.throughput(Throughput::Bytes(f.len() as u64));
        g.bench_with_input(BenchmarkId::new("parse", name), f, |b, f| b.iter(|| black_box(frame::parse(black_box(f)))));
        g.bench_with_input(BenchmarkId::new("decoder", name), f, |b, f| {
            let mut d = FrameDecoder::new();
            let mut buf = BytesMut::with_capacity(f.len());
            b.iter(|| {
                buf.extend_from_slice(f);
                black_box(d.decode(&mut buf))
            })
        });
        let (code, data) = split(f);
        g.bench_with_input(BenchmarkId::new("encode", name), &(code, data), |b, &(code, data)| {
            let mut out = Vec::with_capacity(f.len());
            b.iter(|| {
                out.clear();
                frame::encode(code, black_box(data), &mut out).unwrap();
                black_box(&out);
            })
        });
    }
    g.finish();
}

fn marked_item_bench(c: &mut Criterion) {
    let data = data_0x97();
    let mut f = Vec::new();
    frame::encode(0x97, &data, &mut f).unwrap();
    // A stream of many such frames for the streaming decoder.
    let copies = 16;
    let stream: Vec<u8> = f.iter().copied().cycle().take(f.len() * copies).collect();

    let mut g = c.benchmark_group("0x97_1000B");
    g.throughput(Throughput::Bytes(f.len() as u64));
    g.bench_function("parse", |b| b.iter(|| black_box(frame::parse(black_box(&f)))));
    g.bench_function("encode", |b| {
        let mut out = Vec::with_capacity(f.len());
        b.iter(|| {
            out.clear();
            frame::encode(0x97, black_box(&data), &mut out).unwrap();
            black_box(&out);
        })
    });
    g.bench_function("tlv_iter", |b| b.iter(|| black_box(walk(black_box(&data)))));
    g.bench_function("tlv_parse_tree", |b| b.iter(|| black_box(tlv::parse_tree(black_box(&data), &is_stlv).unwrap())));
    g.bench_function("parse+tlv_iter", |b| {
        b.iter(|| {
            let Parsed::Frame { frame, .. } = frame::parse(black_box(&f)) else { unreachable!() };
            black_box(walk(frame.data))
        })
    });
    g.finish();

    let mut g = c.benchmark_group("0x97_1000B_x16_stream");
    g.throughput(Throughput::Bytes(stream.len() as u64));
    g.bench_function("decoder", |b| {
        let mut d = FrameDecoder::new();
        let mut buf = BytesMut::with_capacity(stream.len());
        b.iter(|| {
            buf.extend_from_slice(&stream);
            while let Some(r) = d.decode(&mut buf) {
                black_box(r.unwrap());
            }
        })
    });
    g.finish();
}

fn cp866_bench(c: &mut Criterion) {
    let name = item_name();
    let bytes = types::cp866(&name).unwrap();
    assert_eq!(bytes.len(), 128);
    let mut g = c.benchmark_group("cp866_128_chars");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("decode", |b| b.iter(|| black_box(types::decode_cp866(black_box(&bytes)))));
    g.bench_function("encode", |b| {
        let mut out = Vec::with_capacity(256);
        b.iter(|| {
            out.clear();
            types::encode_cp866(black_box(&name), &mut out).unwrap();
            black_box(&out);
        })
    });
    g.finish();
}

criterion_group!(benches, captures_bench, marked_item_bench, cp866_bench);
criterion_main!(benches);
