//! Turns the protocol tables in `protocol/*.tsv` into static Rust arrays.
//!
//! The TSV files are the one place where tags, commands and device error codes are written
//! down; this script only checks them (a malformed row stops the build with its line number)
//! and emits sorted arrays that `src/protocol/tables.rs` searches, and one named constant per row
//! (`tag::ITEM_NAME = 1030`, `cmd::MARKED_ITEM = 0x97`, `err::MARK_ORDER = 0xA3`) from the `ident`
//! column, so that code names a tag, command or error code instead of writing its number.

use std::fmt::Write as _;
use std::path::Path;

fn rows(path: &str, columns: usize) -> Vec<(usize, Vec<String>)> {
    println!("cargo:rerun-if-changed={path}");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut out = Vec::new();
    let mut header_seen = false;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if !header_seen {
            header_seen = true; // first non-comment line is the header
            continue;
        }
        let cols: Vec<String> = line.split('\t').map(|c| c.trim().to_string()).collect();
        if cols.len() != columns {
            panic!("{path}:{n}: expected {columns} tab-separated columns, found {}", cols.len());
        }
        out.push((n, cols));
    }
    out
}

fn code(path: &str, n: usize, s: &str, max: u32) -> u32 {
    let v = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u32::from_str_radix(h, 16)
    } else {
        s.parse()
    }
    .unwrap_or_else(|_| panic!("{path}:{n}: bad number {s:?}"));
    assert!(v <= max, "{path}:{n}: {v} is out of range (max {max})");
    v
}

fn lit(s: &str) -> String {
    format!("{s:?}")
}

/// An `ident` cell: SCREAMING_SNAKE_CASE, not starting with a digit, unique in its table.
fn ident(path: &str, n: usize, s: &str, seen: &mut Vec<String>) -> String {
    let ok = !s.is_empty()
        && s.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit());
    assert!(ok, "{path}:{n}: ident {s:?} is not SCREAMING_SNAKE_CASE");
    assert!(!seen.iter().any(|x| x == s), "{path}:{n}: ident {s} is used twice");
    seen.push(s.to_string());
    s.to_string()
}

/// The doc line of a generated constant.
fn doc(name_en: &str, name_ru: &str) -> String {
    format!("{name_en} ({name_ru}).").replace('\n', " ").replace('[', "\\[").replace(']', "\\]")
}

fn check_sorted_unique(path: &str, mut v: Vec<(u32, usize)>) {
    v.sort();
    for w in v.windows(2) {
        if w[0].0 == w[1].0 {
            panic!("{path}:{}: duplicate code {} (also on line {})", w[1].1, w[1].0, w[0].1);
        }
    }
}

fn variant(path: &str, n: usize, s: &str, allowed: &[(&str, &str)]) -> String {
    allowed.iter().find(|(k, _)| *k == s).map(|(_, v)| v.to_string()).unwrap_or_else(|| {
        let names: Vec<&str> = allowed.iter().map(|(k, _)| *k).collect();
        panic!("{path}:{n}: {s:?} is not one of {names:?}")
    })
}

fn main() {
    let out_dir = std::env::var("OUT_DIR").unwrap();
    let mut src = String::new();

    // tags.tsv: tag, ident, type, max_len, repeatable, personal, name_ru, name_en, source
    let path = "protocol/tags.tsv";
    let types = [
        ("byte", "TagType::Byte"),
        ("u16", "TagType::U16"),
        ("u32", "TagType::U32"),
        ("u40", "TagType::U40"),
        ("vln", "TagType::Vln"),
        ("fvln", "TagType::Fvln"),
        ("unixtime", "TagType::UnixTime"),
        ("datetime3", "TagType::DateTime3"),
        ("datetime5", "TagType::DateTime5"),
        ("string", "TagType::String"),
        ("bytes", "TagType::Bytes"),
        ("stlv", "TagType::Stlv"),
    ];
    let yes_no = [("yes", "true"), ("no", "false")];
    let mut tags: Vec<(u32, String)> = Vec::new();
    let mut seen = Vec::new();
    let mut idents = Vec::new();
    let mut consts = String::new();
    for (n, c) in rows(path, 9) {
        let tag = code(path, n, &c[0], 65535);
        let id = ident(path, n, &c[1], &mut idents);
        let ty = variant(path, n, &c[2], &types);
        let max_len = code(path, n, &c[3], 65535);
        let rep = variant(path, n, &c[4], &yes_no);
        let personal = variant(path, n, &c[5], &yes_no);
        assert!(!c[6].is_empty() && !c[7].is_empty(), "{path}:{n}: empty name");
        seen.push((tag, n));
        writeln!(consts, "    #[doc = {}]\n    pub const {id}: u16 = {tag};", lit(&doc(&c[7], &c[6]))).unwrap();
        tags.push((
            tag,
            format!(
                "TagInfo {{ tag: {tag}, ident: {}, ty: {ty}, max_len: {max_len}, repeatable: {rep}, personal: {personal}, name_ru: {}, name_en: {}, source: {} }},\n",
                lit(&c[1]), lit(&c[6]), lit(&c[7]), lit(&c[8])
            ),
        ));
    }
    writeln!(src, "/// Tag numbers by name (protocol/tags.tsv, column `ident`).\npub mod tag {{\n{consts}}}").unwrap();
    check_sorted_unique(path, seen);
    tags.sort_by_key(|t| t.0);
    writeln!(src, "pub(crate) static TAGS: [TagInfo; {}] = [", tags.len()).unwrap();
    tags.iter().for_each(|t| src.push_str(&t.1));
    src.push_str("];\n");
    // A direct index: the 256-tag page of a tag, then its row (u16::MAX: none). `tag_info` is
    // then two array reads, not a search (the TLV walk asks it once per TLV).
    let mut pages: Vec<u32> = tags.iter().map(|t| t.0 >> 8).collect();
    pages.dedup();
    assert!(pages.len() < 255, "too many tag pages");
    let mut page_index = vec![255u8; 256];
    for (i, p) in pages.iter().enumerate() {
        page_index[*p as usize] = i as u8;
    }
    writeln!(src, "pub(crate) static TAG_PAGE: [u8; 256] = {page_index:?};").unwrap();
    writeln!(src, "pub(crate) static TAG_SLOT: [[u16; 256]; {}] = [", pages.len()).unwrap();
    for p in &pages {
        let mut slots = vec![u16::MAX; 256];
        for (row, t) in tags.iter().enumerate() {
            if t.0 >> 8 == *p {
                slots[(t.0 & 0xFF) as usize] = row as u16;
            }
        }
        writeln!(src, "    {slots:?},").unwrap();
    }
    src.push_str("];\n");

    // commands.tsv: code, ident, class, timeout_ms, name_ru, name_en, source
    let path = "protocol/commands.tsv";
    let classes = [
        ("query", "CommandClass::Query"),
        ("setting", "CommandClass::Setting"),
        ("document", "CommandClass::Document"),
        ("fiscal", "CommandClass::Fiscal"),
        ("marking", "CommandClass::Marking"),
        ("service", "CommandClass::Service"),
    ];
    let mut cmds: Vec<(u32, String)> = Vec::new();
    let mut seen = Vec::new();
    let mut idents = Vec::new();
    let mut consts = String::new();
    for (n, c) in rows(path, 7) {
        let code_v = code(path, n, &c[0], 255);
        let id = ident(path, n, &c[1], &mut idents);
        let class = variant(path, n, &c[2], &classes);
        let timeout = code(path, n, &c[3], 600_000);
        seen.push((code_v, n));
        writeln!(consts, "    #[doc = {}]\n    pub const {id}: u8 = {code_v:#04X};", lit(&doc(&c[5], &c[4]))).unwrap();
        cmds.push((
            code_v,
            format!(
                "CommandInfo {{ code: {code_v}, ident: {}, class: {class}, timeout_ms: {timeout}, name_ru: {}, name_en: {}, source: {} }},\n",
                lit(&c[1]), lit(&c[4]), lit(&c[5]), lit(&c[6])
            ),
        ));
    }
    writeln!(src, "/// Command codes by name (protocol/commands.tsv, column `ident`).\npub mod cmd {{\n{consts}}}")
        .unwrap();
    check_sorted_unique(path, seen);
    cmds.sort_by_key(|t| t.0);
    writeln!(src, "pub(crate) static COMMANDS: [CommandInfo; {}] = [", cmds.len()).unwrap();
    cmds.iter().for_each(|t| src.push_str(&t.1));
    src.push_str("];\n");

    // errors.tsv: code, ident, category, name_ru, name_en, hint_ru, hint_en, source
    let path = "protocol/errors.tsv";
    let cats = [
        ("frame", "ErrorCategory::Frame"),
        ("sequence", "ErrorCategory::Sequence"),
        ("fn_state", "ErrorCategory::FnState"),
        ("fn_resource", "ErrorCategory::FnResource"),
        ("marking", "ErrorCategory::Marking"),
        ("data", "ErrorCategory::DataValue"),
        ("link", "ErrorCategory::Link"),
        ("hardware", "ErrorCategory::Hardware"),
    ];
    let mut errs: Vec<(u32, String)> = Vec::new();
    let mut seen = Vec::new();
    let mut idents = Vec::new();
    let mut consts = String::new();
    for (n, c) in rows(path, 8) {
        let code_v = code(path, n, &c[0], 255);
        let id = ident(path, n, &c[1], &mut idents);
        let cat = variant(path, n, &c[2], &cats);
        seen.push((code_v, n));
        writeln!(consts, "    #[doc = {}]\n    pub const {id}: u8 = {code_v:#04X};", lit(&doc(&c[4], &c[3]))).unwrap();
        errs.push((
            code_v,
            format!(
                "ErrorInfo {{ code: {code_v}, ident: {}, category: {cat}, name_ru: {}, name_en: {}, hint_ru: {}, hint_en: {}, source: {} }},\n",
                lit(&c[1]), lit(&c[3]), lit(&c[4]), lit(&c[5]), lit(&c[6]), lit(&c[7])
            ),
        ));
    }
    writeln!(src, "/// Device error codes by name (protocol/errors.tsv, column `ident`).\npub mod err {{\n{consts}}}")
        .unwrap();
    check_sorted_unique(path, seen);
    errs.sort_by_key(|t| t.0);
    writeln!(src, "pub(crate) static ERRORS: [ErrorInfo; {}] = [", errs.len()).unwrap();
    errs.iter().for_each(|t| src.push_str(&t.1));
    src.push_str("];\n");

    std::fs::write(Path::new(&out_dir).join("tables.rs"), src).unwrap();
}
