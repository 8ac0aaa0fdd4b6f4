//! The B6 29 frame, sans-IO.
//!
//! ```text
//! B6 29 | LEN: u16 BE = 1 + len(DATA) | CODE | DATA (0..=1023) | CRC: u16 LE
//! ```
//! CRC-16/CCITT-FALSE over LEN, CODE and DATA. A request's CODE is the command; a response's
//! CODE is RESULT (0 done, 1 refused with one error byte).
//!
//! [`parse`] looks at a byte slice and allocates nothing; [`FrameDecoder`] is the streaming
//! decoder over a [`BytesMut`] (also a [`tokio_util::codec::Decoder`]) that skips garbage,
//! reports how much it skipped, waits for partial frames and resynchronises after a bad one.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use crc::{Crc, CRC_16_IBM_3740};

use super::error::DeviceError;

/// The two bytes that start every frame.
pub const MAGIC: [u8; 2] = [0xB6, 0x29];
/// Largest LEN (CODE + DATA).
pub const MAX_LEN: usize = 1024;
/// Largest DATA.
pub const MAX_DATA: usize = MAX_LEN - 1;
/// Bytes of a frame besides CODE and DATA: magic, LEN, CRC.
pub const OVERHEAD: usize = 6;

// Slice-by-16 tables (8 KiB, one static copy), for every length: about 8x faster than the
// byte-wise table on a 1000-byte frame, and 2-3x on a 16-48-byte status answer (measured with
// crc 3.4: 16 bytes 10 ns against 28, 32 bytes 7-14 against 42-84; at 3 bytes both 4 ns).
static CRC: Crc<u16, crc::Table<16>> = Crc::<u16, crc::Table<16>>::new(&CRC_16_IBM_3740);

/// CRC-16/CCITT-FALSE of LEN, CODE and DATA as they stand on the wire.
#[inline]
pub fn crc16(len_code_data: &[u8]) -> u16 {
    CRC.checksum(len_code_data)
}

/// Why bytes that start with B6 29 are not a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// LEN is 0 (no CODE) or larger than 1024.
    #[error("frame at byte {offset}: LEN = {len} is out of range 1..=1024")]
    BadLength {
        /// The LEN field.
        len: u16,
        /// Offset of the frame's B6 in the input.
        offset: usize,
    },
    /// The CRC does not match.
    #[error("frame at byte {offset}: CRC {found:04X} does not match computed {computed:04X}")]
    BadCrc {
        /// CRC read from the frame.
        found: u16,
        /// CRC computed over LEN, CODE and DATA.
        computed: u16,
        /// Offset of the frame's B6 in the input.
        offset: usize,
    },
    /// DATA longer than 1023 bytes was given to the encoder.
    #[error("frame data of {len} bytes is longer than the limit of 1023")]
    TooLong {
        /// Length of the data given.
        len: usize,
    },
    /// A response frame stopped in the middle (its LEN announced more than came): a damaged
    /// LEN, or a line that broke off (the transports' reader, not the parser, tells this).
    #[error("{}", if *need == 0 { format!("the response stopped after {have} bytes without a whole frame") } else { format!("the response frame stopped after {have} of its {need} bytes") })]
    Stalled {
        /// Bytes of the frame received.
        have: usize,
        /// Bytes its header announced (0 while the header itself is incomplete, or when no
        /// frame began: the bytes were all garbage).
        need: usize,
    },
}

impl FrameError {
    /// Offset of the offending frame in the input, when known.
    pub fn offset(&self) -> Option<usize> {
        match self {
            Self::BadLength { offset, .. } | Self::BadCrc { offset, .. } => Some(*offset),
            Self::TooLong { .. } | Self::Stalled { .. } => None,
        }
    }
}

/// A frame borrowed from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameRef<'a> {
    /// Command (request) or RESULT (response).
    pub code: u8,
    /// DATA.
    pub data: &'a [u8],
}

/// A frame owning its data (a cheap slice of the receive buffer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Command (request) or RESULT (response).
    pub code: u8,
    /// DATA.
    pub data: Bytes,
    /// Garbage bytes skipped before this frame.
    pub skipped: usize,
}

impl Frame {
    /// A frame with no garbage before it.
    pub fn new(code: u8, data: impl Into<Bytes>) -> Self {
        Self { code, data: data.into(), skipped: 0 }
    }

    /// The borrowed view.
    pub fn as_ref(&self) -> FrameRef<'_> {
        FrameRef { code: self.code, data: &self.data }
    }

    /// This frame read as a response; see [`FrameRef::response`].
    pub fn response(&self) -> Result<&[u8], ResponseError> {
        self.as_ref().response()
    }

    /// The encoded bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, FrameError> {
        self.as_ref().to_bytes()
    }
}

/// A response frame that is not a success.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// RESULT 1 with one error code: the device refused the command.
    #[error(transparent)]
    Device(#[from] DeviceError),
    /// RESULT 1 with other than one byte of data.
    #[error("error response (RESULT 1) with {len} bytes of data; exactly 1 error code byte expected")]
    MalformedError {
        /// Length of the data.
        len: usize,
    },
    /// RESULT is neither 0 nor 1.
    #[error("response RESULT {0:#04x} is neither 0 (done) nor 1 (error)")]
    UnknownResult(u8),
}

/// RESULT of a successful response.
pub const RESULT_OK: u8 = 0;
/// RESULT of a refusal (one error code byte follows).
pub const RESULT_ERROR: u8 = 1;

impl<'a> FrameRef<'a> {
    /// Reads the frame as a response: RESULT 0 gives the command's output; RESULT 1 with one
    /// byte gives the device error from the table.
    pub fn response(&self) -> Result<&'a [u8], ResponseError> {
        match (self.code, self.data) {
            (RESULT_OK, d) => Ok(d),
            (RESULT_ERROR, [code]) => Err(DeviceError::new(*code).into()),
            (RESULT_ERROR, d) => Err(ResponseError::MalformedError { len: d.len() }),
            (r, _) => Err(ResponseError::UnknownResult(r)),
        }
    }

    /// Appends the encoded frame to `out`.
    pub fn encode(&self, out: &mut impl BufMut) -> Result<(), FrameError> {
        encode(self.code, self.data, out)
    }

    /// The encoded frame as a new vector.
    pub fn to_bytes(&self) -> Result<Vec<u8>, FrameError> {
        let mut v = Vec::with_capacity(self.data.len() + OVERHEAD + 1);
        self.encode(&mut v)?;
        Ok(v)
    }
}

/// Appends the frame `code` + `data` to `out`.
pub fn encode(code: u8, data: &[u8], out: &mut impl BufMut) -> Result<(), FrameError> {
    if data.len() > MAX_DATA {
        return Err(FrameError::TooLong { len: data.len() });
    }
    let len = (data.len() + 1) as u16;
    let mut crc = CRC.digest();
    crc.update(&len.to_be_bytes());
    crc.update(&[code]);
    crc.update(data);
    out.put_slice(&MAGIC);
    out.put_u16(len);
    out.put_u8(code);
    out.put_slice(data);
    out.put_u16_le(crc.finalize());
    Ok(())
}

/// What [`parse`] found at the start of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed<'a> {
    /// A whole valid frame after `skipped` garbage bytes; `consumed` bytes (garbage included)
    /// may be dropped from the buffer.
    Frame {
        /// The frame.
        frame: FrameRef<'a>,
        /// Garbage bytes before the frame.
        skipped: usize,
        /// Bytes used, garbage and frame.
        consumed: usize,
    },
    /// A frame starts (or may start) but is not complete. `skipped` garbage bytes before it may
    /// be dropped; at least `needed` more bytes are required.
    Incomplete {
        /// Garbage bytes before the possible frame.
        skipped: usize,
        /// More bytes needed before the frame can be judged.
        needed: usize,
    },
    /// A B6 29 header that is not a valid frame. Drop `consumed` bytes (the garbage and the
    /// frame's B6) and parse again to resynchronise on the next B6 29.
    Invalid {
        /// What check failed, and where.
        error: FrameError,
        /// Garbage bytes before the bad header.
        skipped: usize,
        /// Bytes to drop before parsing again.
        consumed: usize,
    },
}

/// Finds the first frame in `buf`. Never allocates, never panics.
pub fn parse(buf: &[u8]) -> Parsed<'_> {
    // Find B6 29; a lone B6 at the very end may be the start of one.
    let start = buf.windows(2).position(|w| w == MAGIC);
    let Some(start) = start else {
        let keep = usize::from(buf.last() == Some(&MAGIC[0]));
        return Parsed::Incomplete { skipped: buf.len() - keep, needed: 2 - keep + 2 };
    };
    let rest = &buf[start..];
    if rest.len() < 4 {
        return Parsed::Incomplete { skipped: start, needed: 4 - rest.len() };
    }
    let len = u16::from_be_bytes([rest[2], rest[3]]);
    if len == 0 || usize::from(len) > MAX_LEN {
        return Parsed::Invalid {
            error: FrameError::BadLength { len, offset: start },
            skipped: start,
            consumed: start + 1,
        };
    }
    let total = 4 + usize::from(len) + 2;
    if rest.len() < total {
        return Parsed::Incomplete { skipped: start, needed: total - rest.len() };
    }
    let body = &rest[2..4 + usize::from(len)];
    let found = u16::from_le_bytes([rest[total - 2], rest[total - 1]]);
    let computed = crc16(body);
    if found != computed {
        return Parsed::Invalid {
            error: FrameError::BadCrc { found, computed, offset: start },
            skipped: start,
            consumed: start + 1,
        };
    }
    Parsed::Frame {
        frame: FrameRef { code: rest[4], data: &rest[5..4 + usize::from(len)] },
        skipped: start,
        consumed: start + total,
    }
}

/// Streaming frame decoder over a [`BytesMut`].
///
/// Feed it the bytes as they arrive; it returns one frame or one error per call, or `None`
/// when it needs more bytes. Garbage before a frame is dropped and counted in
/// [`Frame::skipped`]; after a bad frame it resynchronises on the next B6 29.
#[derive(Debug, Default, Clone)]
pub struct FrameDecoder {
    /// Garbage dropped since the last frame, reported with the next one.
    pending_skip: usize,
    /// Bytes dropped as garbage over the decoder's life.
    pub skipped_total: u64,
}

impl FrameDecoder {
    /// A new decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// The next frame or error from `buf`, or `None` if more bytes are needed.
    #[inline]
    pub fn decode(&mut self, buf: &mut BytesMut) -> Option<Result<Frame, FrameError>> {
        match parse(buf) {
            Parsed::Frame { frame, skipped, consumed } => {
                let code = frame.code;
                let data_len = frame.data.len();
                let skipped_now = self.take_skip(skipped);
                if data_len == 0 {
                    // No DATA (a query, a bare "done"): nothing to share, no reference count to
                    // take and give back (about half the frames of an exchange).
                    buf.advance(consumed);
                    return Some(Ok(Frame { code, data: Bytes::new(), skipped: skipped_now }));
                }
                // One split (one reference count taken), then the frame's own view of its DATA.
                let mut whole = buf.split_to(consumed);
                whole.advance(skipped + 5);
                whole.truncate(data_len);
                Some(Ok(Frame { code, data: whole.freeze(), skipped: skipped_now }))
            }
            Parsed::Incomplete { skipped, .. } => {
                self.drop_garbage(buf, skipped);
                None
            }
            Parsed::Invalid { error, consumed, .. } => {
                self.drop_garbage(buf, consumed);
                Some(Err(error))
            }
        }
    }

    /// After [`FrameDecoder::decode`] gave `None`: the length of the frame begun in `buf` (from
    /// its LEN; 0 while its header is incomplete), or `None` when no frame has begun.
    pub fn pending_len(&self, buf: &[u8]) -> Option<usize> {
        if buf.is_empty() || buf[0] != MAGIC[0] {
            return None;
        }
        if buf.len() < 4 {
            return Some(0);
        }
        Some(4 + usize::from(u16::from_be_bytes([buf[2], buf[3]])) + 2)
    }

    fn drop_garbage(&mut self, buf: &mut BytesMut, n: usize) {
        buf.advance(n);
        self.pending_skip += n;
        self.skipped_total += n as u64;
    }

    fn take_skip(&mut self, skipped: usize) -> usize {
        self.skipped_total += skipped as u64;
        std::mem::take(&mut self.pending_skip) + skipped
    }
}

#[cfg(feature = "tokio")]
impl tokio_util::codec::Decoder for FrameDecoder {
    /// A frame, or a typed error for a bad one (after which decoding goes on).
    type Item = Result<Frame, FrameError>;
    type Error = std::io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, Self::Error> {
        Ok(FrameDecoder::decode(self, src))
    }
}

#[cfg(feature = "tokio")]
impl tokio_util::codec::Encoder<FrameRef<'_>> for FrameDecoder {
    type Error = std::io::Error;

    fn encode(&mut self, item: FrameRef<'_>, dst: &mut BytesMut) -> Result<(), Self::Error> {
        dst.reserve(item.data.len() + OVERHEAD + 1);
        encode(item.code, item.data, dst).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    #[test]
    fn status_request_matches_capture() {
        let mut v = Vec::new();
        encode(0x01, &[], &mut v).unwrap();
        assert_eq!(v, hex("B6290001018CEF"));
        let mut v = Vec::new();
        encode(0x30, &[1, 0, 0, 0], &mut v).unwrap();
        assert_eq!(v, hex("B6 29 00 05 30 01 00 00 00 95 C8"));
    }

    #[test]
    fn error_response_is_a_device_error() {
        let b = hex("B629000201E0BF24");
        let Parsed::Frame { frame, .. } = parse(&b) else { panic!() };
        let e = frame.response().unwrap_err();
        assert_eq!(e, ResponseError::Device(DeviceError::new(0xE0)));
    }

    #[test]
    fn garbage_partial_bad_len_bad_crc() {
        let good = hex("B6290001018CEF");
        let mut buf = BytesMut::new();
        let mut d = FrameDecoder::new();
        buf.extend_from_slice(&[0x00, 0xFF, 0xB6]);
        assert_eq!(d.decode(&mut buf), None);
        assert_eq!(&buf[..], &[0xB6]); // a trailing B6 is kept
        buf.extend_from_slice(&good[1..4]);
        assert_eq!(d.decode(&mut buf), None);
        buf.extend_from_slice(&good[4..]);
        let f = d.decode(&mut buf).unwrap().unwrap();
        assert_eq!((f.code, f.skipped, f.data.len()), (0x01, 2, 0));
        assert!(buf.is_empty());

        // LEN = 0, then LEN = 1025, then a bad CRC, then a good frame.
        buf.extend_from_slice(&hex("B6290000"));
        buf.extend_from_slice(&hex("B6290401"));
        let mut bad_crc = good.clone();
        bad_crc[6] ^= 1;
        buf.extend_from_slice(&bad_crc);
        buf.extend_from_slice(&good);
        assert!(matches!(d.decode(&mut buf), Some(Err(FrameError::BadLength { len: 0, offset: 0 }))));
        assert!(matches!(d.decode(&mut buf), Some(Err(FrameError::BadLength { len: 1025, .. }))));
        assert!(matches!(d.decode(&mut buf), Some(Err(FrameError::BadCrc { .. }))));
        let f = d.decode(&mut buf).unwrap().unwrap();
        assert_eq!(f.code, 0x01);
        assert_eq!(f.skipped, 4 + 4 + 7);
        assert_eq!(d.decode(&mut buf), None);
    }

    #[test]
    fn too_long_is_refused() {
        let mut v = Vec::new();
        assert_eq!(encode(1, &[0; 1024], &mut v), Err(FrameError::TooLong { len: 1024 }));
        assert!(encode(1, &[0; 1023], &mut v).is_ok());
        assert_eq!(v.len(), 1023 + 7);
    }

    fn frames() -> impl Strategy<Value = Vec<(u8, Vec<u8>)>> {
        prop::collection::vec((any::<u8>(), prop::collection::vec(any::<u8>(), 0..200)), 1..6)
    }

    proptest! {
        #[test]
        fn roundtrip(code: u8, data in prop::collection::vec(any::<u8>(), 0..=MAX_DATA)) {
            let mut v = Vec::new();
            encode(code, &data, &mut v).unwrap();
            let Parsed::Frame { frame, skipped, consumed } = parse(&v) else { panic!() };
            prop_assert_eq!((frame.code, frame.data, skipped, consumed), (code, &data[..], 0, v.len()));
            prop_assert_eq!(frame.to_bytes().unwrap(), v);
        }

        #[test]
        fn any_chunking_gives_the_same_frames(fs in frames(), garbage in prop::collection::vec(any::<u8>().prop_filter("no B6", |b| *b != 0xB6), 0..10), cuts in prop::collection::vec(1usize..50, 0..40)) {
            let mut stream = garbage.clone();
            for (c, d) in &fs {
                encode(*c, d, &mut stream).unwrap();
            }
            let mut d = FrameDecoder::new();
            let mut buf = BytesMut::new();
            let mut got = Vec::new();
            let mut pos = 0;
            let mut cuts = cuts.into_iter();
            while pos < stream.len() {
                let n = cuts.next().unwrap_or(stream.len()).min(stream.len() - pos);
                buf.extend_from_slice(&stream[pos..pos + n]);
                pos += n;
                while let Some(r) = d.decode(&mut buf) {
                    let f = r.expect("valid stream");
                    got.push((f.code, f.data.to_vec(), f.skipped));
                }
            }
            prop_assert_eq!(got.len(), fs.len());
            for (i, ((c, data, skipped), (ec, ed))) in got.iter().zip(&fs).enumerate() {
                prop_assert_eq!((c, data), (ec, ed));
                prop_assert_eq!(*skipped, if i == 0 { garbage.len() } else { 0 });
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
            let mut d = FrameDecoder::new();
            let mut buf = BytesMut::from(&bytes[..]);
            let mut n = 0;
            while let Some(_r) = d.decode(&mut buf) {
                n += 1;
                prop_assert!(n <= bytes.len());
            }
        }
    }
}
