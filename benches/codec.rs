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
use kkt::protocol::tlv::{self, is_stlv, TlvWriter};
use kkt::protocol::types::{self, Decimal};

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

/// 128 characters of Cyrillic item name.
fn item_name() -> String {
    let base = "Молоко питьевое ультрапастеризованное \"Домик в деревне\" 3,2% жирности, ПЭТ-бутылка 1,4 л; ";
    let s: String = base.chars().cycle().take(128).collect();
    assert_eq!(s.chars().count(), 128);
    s
}

/// DATA of a 0x97 «send marked item» request making a frame of exactly 1000 bytes: item name
/// (128 Cyrillic characters), price, quantity, VAT, the DataMatrix code of seed 004's example
/// (0x1D group separators), marking tags, supplier data and 1260 industry requisites
/// (1262 BYTE, 1263/1264/1265 strings) filling the rest.
fn data_0x97() -> Vec<u8> {
    const DATA_LEN: usize = 1000 - frame::OVERHEAD - 1;
    let km = b"010464007801637221gDDJ2VMOqvdNG\x1d91FFD0\x1d92dGVzdIjNx7Hb93pmLsV+niIDiJWV8ZFAjQdF9b2BO/o=";
    let mut w = TlvWriter::new();
    w.string(1030, &item_name()).unwrap();
    w.vln(1079, 15_000).unwrap();
    w.fvln(1023, Decimal::new(1, 0)).unwrap();
    w.byte(1199, 1).unwrap();
    w.byte(1214, 4).unwrap();
    w.byte(1212, 33).unwrap();
    w.raw(2000, km).unwrap();
    w.byte(2100, 0).unwrap();
    w.byte(2110, 1).unwrap();
    w.byte(2102, 0).unwrap();
    w.byte(2108, 0).unwrap();
    w.string(1230, "643").unwrap();
    w.string(1231, "10702070/201123/3012345").unwrap();
    w.string(1191, "Партия 2023-11-20, склад №3").unwrap();
    w.string(1225, "ООО \"Молочный комбинат\"").unwrap();
    w.string(1226, "7740000076  ").unwrap();
    w.string(1171, "+74951234567").unwrap();
    let values = [
        "Сведения о разрешительном режиме: ветеринарный сертификат ",
        "id1=00000000-0000-0000-0000-000000000000&id2=2&id3=34567&",
        "mode=1&vsd=5b2f3a8e-9c11-4d8a-a1f0-6e2d4c7b9a01&srv=mercury&",
    ];
    let (date, number) = ("21.11.2023", "1556/23");
    let overhead = 4 + (4 + 1) + (4 + date.len()) + (4 + number.len()) + 4;
    for i in 0.. {
        let left = DATA_LEN - w.as_bytes().len();
        if left == 0 {
            break;
        }
        let room = left.checked_sub(overhead).expect("room for one more 1260");
        // Leave either nothing or enough for one more requisite.
        let len = if room <= 256 { room } else { room.min(200) };
        let value: String = values[i % values.len()].chars().cycle().take(len).collect();
        w.stlv(1260, |s| {
            s.byte(1262, 30)?;
            s.string(1263, date)?;
            s.string(1264, number)?;
            s.string(1265, &value)?;
            Ok(())
        })
        .unwrap();
    }
    let data = w.into_bytes();
    assert_eq!(data.len(), DATA_LEN);
    data
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
