//! `kkt decode`: frames in hex, explained.

use std::io::Read as _;

use bytes::BytesMut;

use super::{exit, print_error};
use kkt::describe::{describe, Direction};
use kkt::protocol::frame::{self, Parsed};

/// Arguments of `kkt decode`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Decode the frames as responses (default: requests). In the input, a `<` token marks
    /// the frames after it as responses and `>` as requests, as the protocol documents do.
    #[arg(long)]
    pub response: bool,
    /// The command a response answers (e.g. 0x92), to decode its output. Without it a
    /// response takes the code of the request before it in the same input.
    #[arg(long, value_parser = parse_code)]
    pub command: Option<u8>,
    /// Hex bytes: "B6 29 00 01 01 8C EF", "B6290001018CEF", "0xB6,0x29,...", or a log line.
    pub hex: Vec<String>,
}

fn parse_code(s: &str) -> Result<u8, String> {
    let r = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u8::from_str_radix(h, 16),
        None => s.parse(),
    };
    r.map_err(|_| format!("{s:?} is not a command code (0x00..0xFF)"))
}

/// A run of bytes with one direction.
#[derive(Debug, PartialEq, Eq)]
pub struct Segment {
    /// Which way the bytes went.
    pub kind: Direction,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// Extracts hex bytes from free text: tokens that are whole hex byte strings (an optional
/// `0x` each, separated by spaces, commas or semicolons) are kept; timestamps and words are
/// not. `<` and `>` tokens switch the direction.
pub fn segments(text: &str, default: Direction) -> Result<Vec<Segment>, String> {
    let mut out = vec![Segment { kind: default, bytes: Vec::new() }];
    for raw in text.split(|c: char| c.is_whitespace() || c == ',' || c == ';') {
        let mut tok = raw;
        let mut marker = None;
        if let Some(rest) = tok.strip_prefix('<') {
            marker = Some(Direction::Response);
            tok = rest.trim_start_matches('<');
        } else if let Some(rest) = tok.strip_prefix('>') {
            marker = Some(Direction::Request);
            tok = rest.trim_start_matches('>');
        }
        if let Some(kind) = marker {
            out.push(Segment { kind, bytes: Vec::new() });
        }
        let tok = tok.strip_prefix("0x").or_else(|| tok.strip_prefix("0X")).unwrap_or(tok);
        if tok.is_empty() || !tok.bytes().all(|b| b.is_ascii_hexdigit()) {
            continue;
        }
        if tok.len() % 2 != 0 {
            return Err(format!("{raw:?} has an odd number of hex digits; each byte is two digits"));
        }
        if let Ok(b) = hex::decode(tok) {
            if let Some(s) = out.last_mut() {
                s.bytes.extend_from_slice(&b);
            }
        }
    }
    out.retain(|s| !s.bytes.is_empty());
    Ok(out)
}

/// The text of a log as saved on any system: UTF-8 (with or without a BOM), UTF-16 with a BOM
/// (what Windows PowerShell's `>` writes), or a legacy code page (a vendor driver's log in
/// windows-1251: its words are not needed, its hex is ASCII). Line ends are LF or CRLF alike:
/// [`segments`] splits on any whitespace.
pub fn log_text(bytes: &[u8]) -> String {
    if let Some((enc, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        return enc.decode_without_bom_handling(&bytes[bom..]).0.into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::WINDOWS_1251.decode_without_bom_handling(bytes).0.into_owned(),
    }
}

/// Runs `kkt decode`.
pub fn run(args: &Args, json: bool) -> u8 {
    let mut text = args.hex.join(" ");
    if args.hex.is_empty() || text.trim() == "-" {
        let mut bytes = Vec::new();
        if let Err(e) = std::io::stdin().read_to_end(&mut bytes) {
            print_error(json, "input", None, &format!("cannot read stdin: {e}"), "");
            return exit::INPUT;
        }
        text = log_text(&bytes);
    }
    let default = if args.response { Direction::Response } else { Direction::Request };
    let segs = match segments(&text, default) {
        Ok(s) => s,
        Err(e) => {
            print_error(json, "input", None, &e, "give the frame as hex bytes, e.g. kkt decode B6 29 00 01 01 8C EF");
            return exit::INPUT;
        }
    };
    if segs.is_empty() {
        print_error(
            json,
            "input",
            None,
            "no hex bytes in the input",
            "give the frame as hex, e.g. kkt decode B6 29 00 01 01 8C EF",
        );
        return exit::INPUT;
    }
    let mut status = exit::OK;
    let mut last_request = None;
    let mut frames = 0;
    for seg in segs {
        let mut buf = BytesMut::from(&seg.bytes[..]);
        let mut base = 0usize; // offset of buf[0] in the segment
        loop {
            match frame::parse(&buf) {
                Parsed::Frame { frame, skipped, consumed } => {
                    frames += 1;
                    let command = match seg.kind {
                        Direction::Request => {
                            last_request = Some(frame.code);
                            None
                        }
                        Direction::Response => args.command.or(last_request),
                    };
                    let d = describe(frame, seg.kind, command, skipped);
                    if json {
                        println!("{}", serde_json::to_string(&d).unwrap_or_default());
                    } else {
                        print!("{d}");
                    }
                    let _ = buf.split_to(consumed);
                    base += consumed;
                }
                Parsed::Invalid { error, consumed, .. } => {
                    let msg = format!("malformed frame: {}", shift_offset(&error.to_string(), base));
                    print_error(json, "frame", None, &msg, "check that the whole frame was copied");
                    status = exit::INPUT;
                    let _ = buf.split_to(consumed);
                    base += consumed;
                }
                Parsed::Incomplete { skipped, needed } => {
                    if buf.len() > skipped {
                        let msg = format!(
                            "incomplete frame at byte {}: {} more bytes needed (LEN says more than was given)",
                            base + skipped,
                            needed
                        );
                        print_error(json, "frame", None, &msg, "check that the whole frame was copied");
                        status = exit::INPUT;
                    }
                    break;
                }
            }
        }
    }
    if frames == 0 && status == exit::OK {
        print_error(json, "frame", None, "no B6 29 frame found in the input", "a frame starts with the bytes B6 29");
        status = exit::INPUT;
    }
    status
}

/// Rewrites "at byte N" in a message to the offset in the whole segment.
fn shift_offset(msg: &str, base: usize) -> String {
    if let Some(rest) = msg.strip_prefix("frame at byte ") {
        let (num, tail) = rest.split_once(':').unwrap_or((rest, ""));
        if let Ok(n) = num.parse::<usize>() {
            return format!("frame at byte {}:{tail}", n + base);
        }
    }
    msg.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_from_a_log_line() {
        let s = segments("2024-01-05 12:00:01.123 TX: B6 29 00 01 01 8C EF", Direction::Request).unwrap();
        assert_eq!(s, vec![Segment { kind: Direction::Request, bytes: vec![0xB6, 0x29, 0, 1, 1, 0x8C, 0xEF] }]);
        let s = segments("> B6290001018CEF < 0xB6,0x29,0x00", Direction::Request).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[1], Segment { kind: Direction::Response, bytes: vec![0xB6, 0x29, 0] });
        assert!(segments("B6 29 0", Direction::Request).is_err());
    }

    #[test]
    fn windows_logs_crlf_utf16_and_cp1251() {
        let frame = vec![0xB6, 0x29, 0, 1, 1, 0x8C, 0xEF];
        let want = |t: &str| {
            let s = segments(t, Direction::Request).unwrap();
            assert_eq!(s.len(), 2, "{t:?}");
            assert_eq!((s[0].kind, &s[0].bytes), (Direction::Request, &frame));
            assert_eq!((s[1].kind, &s[1].bytes), (Direction::Response, &vec![0xB6, 0x29, 0]));
        };
        let crlf = "12:00:01 > B6 29 00 01 01 8C EF\r\n12:00:02 < B6 29 00\r\n";
        want(&log_text(crlf.as_bytes()));
        // PowerShell's `>`: UTF-16 LE with a BOM.
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(crlf.encode_utf16().flat_map(u16::to_le_bytes));
        want(&log_text(&utf16));
        // UTF-8 with a BOM (Notepad).
        want(&log_text(&[b"\xEF\xBB\xBF".as_slice(), crlf.as_bytes()].concat()));
        // A vendor driver's windows-1251 log: "Команда" before the bytes.
        let cp1251 = [b"\xCA\xEE\xEC\xE0\xED\xE4\xE0 > B6 29 00 01 01 8C EF\r\n< B6 29 00\r\n".as_slice()].concat();
        let text = log_text(&cp1251);
        assert!(text.starts_with("Команда"), "{text}");
        want(&text);
    }
}
