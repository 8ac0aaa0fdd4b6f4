//! `kkt decode`: frames in hex, explained.

use std::io::Read as _;

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
    /// Read a log file (kkt's `-vvv`/`--log-file` log, the virtual register's, any log with
    /// hex) instead of the arguments or stdin.
    #[arg(long, short = 'f', value_name = "PATH", conflicts_with = "hex")]
    pub file: Option<std::path::PathBuf>,
}

/// A command code: `0x92`, `92h` or `146`.
pub fn parse_code(s: &str) -> Result<u8, String> {
    let r = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")).or_else(|| s.strip_suffix(['h', 'H'])) {
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

/// Where a run of bytes came from in a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// kkt's own frame log (`kkt::frames … dir=tx|rx … hex=…`, what `-vvv` writes).
    Driver,
    /// The virtual register's frame log (`kkt::frames: <- +12ms …` received, `->` sent).
    Emulator,
    /// Anything else: hex in free text, `hex=`/`data=` fields, `>`/`<` markers.
    Text,
}

/// The value of a `key=value` token (quotes taken off).
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    if !line.contains(key) {
        return None;
    }
    line.split_whitespace().find_map(|t| t.strip_prefix(key)).map(|v| v.trim_matches(|c| c == '"' || c == '\''))
}

/// Hex bytes of one token (an optional `0x`), `None` if it is not a whole hex byte string.
fn hex_token(raw: &str) -> Result<Option<Vec<u8>>, String> {
    let mut v = Vec::new();
    Ok(hex_token_into(raw, &mut v)?.then_some(v))
}

/// The value of each byte as a hex digit, 16 for a byte that is not one.
static HEX_DIGIT: [u8; 256] = {
    let mut t = [16u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = match i as u8 {
            b @ b'0'..=b'9' => b - b'0',
            b @ b'a'..=b'f' => b - b'a' + 10,
            b @ b'A'..=b'F' => b - b'A' + 10,
            _ => 16,
        };
        i += 1;
    }
    t
};

fn hex_digit(b: u8) -> u8 {
    HEX_DIGIT[usize::from(b)]
}

/// [`hex_token`] appending to `out` (a log has millions of one-byte tokens: no allocation
/// each): `false`, with `out` as it was, if the token is not a whole hex byte string.
fn hex_token_into(raw: &str, out: &mut Vec<u8>) -> Result<bool, String> {
    let tok = raw.strip_prefix("0x").or_else(|| raw.strip_prefix("0X")).unwrap_or(raw).as_bytes();
    if tok.is_empty() || !tok.iter().all(u8::is_ascii_hexdigit) {
        return Ok(false);
    }
    if tok.len() % 2 != 0 {
        return Err(format!("{raw:?} has an odd number of hex digits; each byte is two digits"));
    }
    out.extend(tok.chunks_exact(2).map(|p| hex_digit(p[0]) << 4 | hex_digit(p[1])));
    Ok(true)
}

/// A token of a line: a run of whole hex bytes (two digits each, one separator between them:
/// `B6 29 00 01`), found as the line is split, or any other token as text.
enum Token<'a> {
    Hex(&'a [u8]),
    Text(&'a str),
}

/// The tokens of an ASCII `line` between separators, as `str::split` gives them (without the
/// empty ones, which say nothing), found on bytes; two-digit tokens one separator apart come
/// as one run.
fn ascii_tokens(line: &str) -> impl Iterator<Item = Token<'_>> {
    let b = line.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < b.len() && is_separator(b[i]) {
            i += 1;
        }
        // `end`: just after the last whole pair's second digit; `at`: where the next pair would be.
        let (start, mut end, mut at) = (i, i, i);
        while let [h, l, rest @ ..] = &b[at..] {
            if hex_digit(*h) | hex_digit(*l) >= 16 {
                break;
            }
            match rest.first() {
                None => {
                    end = at + 2;
                    break;
                }
                Some(c) if is_separator(*c) => {
                    end = at + 2;
                    at += 3;
                }
                Some(_) => break,
            }
        }
        if end > start {
            i = end;
            return Some(Token::Hex(&b[start..end]));
        }
        while i < b.len() && !is_separator(b[i]) {
            i += 1;
        }
        (start < i).then(|| Token::Text(&line[start..i]))
    })
}

/// Whether `b` separates the tokens of a line: what [`char::is_whitespace`] says of an ASCII
/// byte (vertical tab included), a comma or a semicolon.
fn is_separator(b: u8) -> bool {
    static SEPARATOR: [bool; 256] = {
        let mut t = [false; 256];
        let mut i = 0;
        while i < 256 {
            t[i] = matches!(i as u8, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b',' | b';');
            i += 1;
        }
        t
    };
    SEPARATOR[usize::from(b)]
}

/// A line of a kkt frame log (the driver's or the register's), as (source, direction, bytes).
fn frame_log_line(line: &str) -> Option<(Source, Option<Direction>, &str)> {
    // A quick look first (most lines of most logs are not kkt's frame lines), then where.
    if !line.contains("kkt::frames") {
        return None;
    }
    let rest = &line[line.find("kkt::frames")? + "kkt::frames".len()..];
    if let (Some(dir), Some(hex)) = (field(line, "dir="), field(line, "hex=")) {
        let d = match dir {
            "tx" => Direction::Request,
            _ => Direction::Response,
        };
        return Some((Source::Driver, Some(d), hex));
    }
    let rest = rest.trim_start_matches(':').trim_start();
    // The register's own log: `<-` it received a request, `->` it sent a response.
    let (d, after) = if let Some(a) = rest.strip_prefix("<-") {
        (Direction::Request, a)
    } else if let Some(a) = rest.strip_prefix("->") {
        (Direction::Response, a)
    } else {
        return None;
    };
    if after.contains("not logged") {
        // A request whose data the register did not log (personal data): no bytes.
        return Some((Source::Emulator, Some(d), ""));
    }
    let hex = after.split_whitespace().find(|t| !t.starts_with('+')).unwrap_or("");
    Some((Source::Emulator, Some(d), hex))
}

/// A line that `tracing` wrote for kkt: a level word, then a `kkt` target or span.
fn is_kkt_log_line(line: &str) -> bool {
    let mut words = line.split_whitespace();
    let level = words.nth(1).is_some_and(|w| matches!(w, "TRACE" | "DEBUG" | "INFO" | "WARN" | "ERROR"));
    level && (line.contains(" kkt::") || line.contains(" kkt_command{") || line.contains(": kkt"))
}

/// Extracts the frames' bytes from a log or free text, line by line:
///
/// * kkt's own log (`-vvv`, `--log-file`): the `kkt::frames` lines, `dir=tx` a request and
///   `dir=rx` a response, the bytes in `hex=`; the pieces of a response read in several
///   chunks are joined;
/// * the virtual register's log (`kkt emulator -vvv`): `<-` a request it received, `->` the
///   response it sent (when one log holds both, as an in-process register's does, kkt's own
///   lines are used: the register's are the same frames);
/// * any other log: a `hex=` or `data=` field, else every token that is a whole hex byte string
///   (an optional `0x` each, separated by spaces, commas or semicolons); timestamps and words
///   are not; a `>` token marks what follows as requests and `<` as responses, as the protocol
///   documents do. CRLF line ends are fine.
pub fn segments(text: &str, default: Direction) -> Result<Vec<Segment>, String> {
    let mut runs: Vec<(Source, Direction, Vec<u8>)> = Vec::new();
    let mut current = default;
    let mut scratch = Vec::new();
    let push = |runs: &mut Vec<(Source, Direction, Vec<u8>)>, src: Source, kind: Direction, bytes: &[u8]| match runs
        .last_mut()
    {
        Some((s, k, b)) if *s == src && *k == kind => b.extend_from_slice(bytes),
        _ => runs.push((src, kind, bytes.to_vec())),
    };
    // Pushes what `scratch` gathered, if anything (an empty push could start a run).
    let flush = |runs: &mut Vec<(Source, Direction, Vec<u8>)>, kind: Direction, scratch: &mut Vec<u8>| {
        if !scratch.is_empty() {
            push(runs, Source::Text, kind, scratch);
            scratch.clear();
        }
    };
    for line in text.lines() {
        if let Some((src, dir, hex)) = frame_log_line(line) {
            let kind = dir.unwrap_or(current);
            let bytes = hex_token(hex)?.unwrap_or_default();
            // A new request always starts a run of its own (a frame per line).
            if kind == Direction::Request {
                runs.push((src, kind, bytes));
            } else {
                push(&mut runs, src, kind, &bytes);
            }
            continue;
        }
        if is_kkt_log_line(line) {
            // Another line of kkt's own log (a command's span, an event): no frame bytes.
            continue;
        }
        if let Some(v) = field(line, "hex=").or_else(|| field(line, "data=")) {
            let dir = field(line, "dir=").or_else(|| field(line, "direction="));
            let kind = match dir {
                Some("tx" | "request" | "req" | "out" | ">") => Direction::Request,
                Some("rx" | "response" | "resp" | "in" | "<") => Direction::Response,
                _ if line.split_whitespace().any(|t| t == "<" || t == "<<") => Direction::Response,
                _ if line.split_whitespace().any(|t| t == ">" || t == ">>") => Direction::Request,
                _ => current,
            };
            current = kind;
            if let Some(b) = hex_token(v)? {
                push(&mut runs, Source::Text, kind, &b);
            }
            continue;
        }
        // An ASCII line (every log of hex) is split on bytes; another on chars, whose Unicode
        // spaces separate too. Either way the same tokens.
        // (One of the two, statically: no call through `dyn` per token.)
        let ascii = line.is_ascii();
        let by_bytes = ascii.then(|| ascii_tokens(line));
        let by_chars =
            (!ascii).then(|| line.split(|c: char| c.is_whitespace() || c == ',' || c == ';').map(Token::Text));
        let tokens = by_bytes.into_iter().flatten().chain(by_chars.into_iter().flatten());
        // The bytes of the line's tokens gather in `scratch` until the direction changes or the
        // line ends: one push for them all, as a push for each would join them.
        scratch.clear();
        for token in tokens {
            let mut tok = match token {
                Token::Hex(run) => {
                    scratch.extend(run.chunks(3).map(|p| hex_digit(p[0]) << 4 | hex_digit(p[1])));
                    continue;
                }
                Token::Text(t) => t,
            };
            if let Some(rest) = tok.strip_prefix('<') {
                flush(&mut runs, current, &mut scratch);
                current = Direction::Response;
                runs.push((Source::Text, current, Vec::new()));
                tok = rest.trim_start_matches('<').trim_start_matches('-');
            } else if let Some(rest) = tok.strip_prefix('>') {
                flush(&mut runs, current, &mut scratch);
                current = Direction::Request;
                runs.push((Source::Text, current, Vec::new()));
                tok = rest.trim_start_matches('>');
            }
            hex_token_into(tok, &mut scratch)?;
        }
        flush(&mut runs, current, &mut scratch);
    }
    let driver = runs.iter().any(|(s, _, b)| *s == Source::Driver && !b.is_empty());
    let out: Vec<Segment> = runs
        .into_iter()
        .filter(|(s, _, b)| !(b.is_empty() || driver && *s == Source::Emulator))
        .map(|(_, kind, bytes)| Segment { kind, bytes })
        .collect();
    Ok(out)
}

/// The text of a log as saved on any system: UTF-8 (with or without a BOM), UTF-16 with a BOM
/// (what Windows PowerShell's `>` writes), or a legacy code page (a vendor driver's log in
/// windows-1251: its words are not needed, its hex is ASCII). Line ends are LF or CRLF alike:
/// [`segments`] splits on any whitespace.
pub fn log_text(bytes: Vec<u8>) -> String {
    if let Some((enc, bom)) = encoding_rs::Encoding::for_bom(&bytes) {
        return enc.decode_without_bom_handling(&bytes[bom..]).0.into_owned();
    }
    // UTF-8 keeps its buffer (a log of many megabytes is not copied).
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => encoding_rs::WINDOWS_1251.decode_without_bom_handling(e.as_bytes()).0.into_owned(),
    }
}

/// Runs `kkt decode`.
pub fn run(args: &Args, json: bool) -> u8 {
    use super::i18n::tr;
    use std::io::Write as _;
    let mut text = args.hex.join(" ");
    if let Some(p) = &args.file {
        match std::fs::read(p) {
            Ok(b) => text = log_text(b),
            Err(e) => {
                print_error(json, "input", None, &format!("{}: {e}", p.display()), &tr!("hint-decode"));
                return exit::INPUT;
            }
        }
    } else if args.hex.is_empty() || text.trim() == "-" {
        let mut bytes = Vec::new();
        if let Err(e) = std::io::stdin().read_to_end(&mut bytes) {
            print_error(json, "input", None, &format!("cannot read stdin: {e}"), &tr!("hint-decode"));
            return exit::INPUT;
        }
        text = log_text(bytes);
    }
    let default = if args.response { Direction::Response } else { Direction::Request };
    let segs = match segments(&text, default) {
        Ok(s) => s,
        Err(e) => {
            print_error(json, "input", None, &e, &tr!("hint-decode"));
            return exit::INPUT;
        }
    };
    if segs.is_empty() {
        print_error(json, "input", None, &tr!("decode-no-hex"), &tr!("hint-decode"));
        return exit::INPUT;
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut status = exit::OK;
    let mut last_request = None;
    let mut frames = 0;
    let mut closed = false;
    let fail = |out: &mut std::io::BufWriter<std::io::StdoutLock<'_>>, msg: &str| {
        let _ = out.flush();
        print_error(json, "frame", None, msg, &tr!("hint-decode-frame"));
    };
    'segments: for seg in segs {
        let mut at = 0usize; // offset in the segment
        while at < seg.bytes.len() {
            match frame::parse(&seg.bytes[at..]) {
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
                    let written = if json {
                        serde_json::to_writer(&mut out, &d).map_err(std::io::Error::from).and_then(|()| writeln!(out))
                    } else {
                        write!(out, "{d}")
                    };
                    if written.is_err() {
                        // The reader went away (`| head`): stop writing, quietly.
                        closed = true;
                        break 'segments;
                    }
                    at += consumed;
                }
                Parsed::Invalid { error, consumed, skipped } => {
                    // kkt's own log masks the customer's data (`*`) in a request: the CRC no
                    // longer matches, but the frame is whole. Explain it, saying so.
                    if let Some((fixed, len)) = masked_frame(&seg.bytes[at + skipped..]) {
                        if let Parsed::Frame { frame, .. } = frame::parse(&fixed) {
                            frames += 1;
                            if seg.kind == Direction::Request {
                                last_request = Some(frame.code);
                            }
                            let mut d = describe(frame, seg.kind, None, skipped);
                            d.crc_ok = false;
                            d.note =
                                Some("personal data masked (*) in the log: the CRC is the original frame's".into());
                            let written = if json {
                                serde_json::to_writer(&mut out, &d)
                                    .map_err(std::io::Error::from)
                                    .and_then(|()| writeln!(out))
                            } else {
                                write!(out, "{d}")
                            };
                            if written.is_err() {
                                closed = true;
                                break 'segments;
                            }
                            at += skipped + len;
                            continue;
                        }
                    }
                    fail(&mut out, &format!("malformed frame: {}", shift_offset(&error.to_string(), at)));
                    status = exit::INPUT;
                    at += consumed;
                }
                Parsed::Incomplete { skipped, needed } => {
                    if seg.bytes.len() - at > skipped {
                        let msg = format!(
                            "incomplete frame at byte {}: {} more bytes needed (LEN says more than was given)",
                            at + skipped,
                            needed
                        );
                        fail(&mut out, &msg);
                        status = exit::INPUT;
                    }
                    break;
                }
            }
        }
    }
    if !closed && out.flush().is_err() {
        closed = true;
    }
    drop(out);
    if frames == 0 && status == exit::OK && !closed {
        print_error(json, "frame", None, &tr!("decode-no-frame"), &tr!("hint-decode-frame"));
        status = exit::INPUT;
    }
    status
}

/// A whole frame with a wrong CRC whose personal tags' values are masked with `*` (as kkt's
/// log writes a request), with the CRC made right again, and its length.
fn masked_frame(bytes: &[u8]) -> Option<(Vec<u8>, usize)> {
    if bytes.len() < 7 || bytes[..2] != frame::MAGIC {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([bytes[2], bytes[3]]));
    let total = 4 + len + 2;
    if len == 0 || bytes.len() < total {
        return None;
    }
    let mut fixed = Vec::with_capacity(total);
    frame::encode(bytes[4], &bytes[5..4 + len], &mut fixed).ok()?;
    // Masked exactly where the log masks: the frame is its own redaction, with a `*` in it.
    let redacted = kkt::transport::redact(&fixed);
    (redacted.as_ref() == fixed.as_slice() && bytes[5..4 + len].contains(&b'*')).then_some((fixed, total))
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

    proptest::proptest! {
        /// An ASCII line is split on bytes, with two-digit tokens read on the way; any other line
        /// on chars. A token that is not hex (`ж`) makes the line take the other way: the same
        /// segments, or the same refusal, either way.
        #[test]
        fn ascii_lines_read_as_any_line(parts in proptest::collection::vec(
            proptest::sample::select(vec![
                "B6", "29", "0", "00", "8C", "EF", "ab", "0xB6", "0X2900", "B6290001", "<", ">", "<<", ">>",
                "<-", "<B6", ">29", "B6>", "12:00:01.123", "TX:", "xyz", "1", "123",
            ]),
            0..24,
        ), seps in proptest::collection::vec(proptest::sample::select(vec![" ", "  ", "\t", ",", ";", "\x0B", "\x0C", ", "]), 24)) {
            let mut line = String::new();
            for (p, s) in parts.iter().zip(&seps) {
                line += p;
                line += s;
            }
            let other = format!("{line} ж");
            for d in [Direction::Request, Direction::Response] {
                proptest::prop_assert_eq!(segments(&line, d), segments(&other, d), "{:?}", line);
            }
        }
    }

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
        want(&log_text(crlf.as_bytes().to_vec()));
        // PowerShell's `>`: UTF-16 LE with a BOM.
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(crlf.encode_utf16().flat_map(u16::to_le_bytes));
        want(&log_text(utf16));
        // UTF-8 with a BOM (Notepad).
        want(&log_text([b"\xEF\xBB\xBF".as_slice(), crlf.as_bytes()].concat()));
        // A vendor driver's windows-1251 log: "Команда" before the bytes.
        let cp1251 = [b"\xCA\xEE\xEC\xE0\xED\xE4\xE0 > B6 29 00 01 01 8C EF\r\n< B6 29 00\r\n".as_slice()].concat();
        let text = log_text(cp1251);
        assert!(text.starts_with("Команда"), "{text}");
        want(&text);
    }
}
