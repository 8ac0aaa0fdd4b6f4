//! No module of the library reaches upward: every `crate::…` path in src/ (outside comments and
//! strings) must follow the allowed table below. The layers, bottom up:
//!
//! ```text
//!   protocol ← commands ← marking ← session ← transport ← driver ← journaled
//!                                  ↖ receipt, describe        ↖ emulator, checker (beside the driver)
//!   fsutil, journal: leaves (files, the SQLite journal)
//!   device (opening a URI): on top, beside the binary (cli, server, views)
//! ```
//!
//! A new edge that fits the layering is added here; one that does not is a design error: the
//! lower module defines a trait or a type, the upper one implements or uses it (the driver's
//! `MarkChecker` that the checker implements; the transport's `Responder` that the emulator
//! implements).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each library module and the modules it may use.
const ALLOWED: &[(&str, &[&str])] = &[
    ("fsutil", &[]),
    ("protocol", &[]),
    ("commands", &["protocol"]),
    ("describe", &["protocol", "commands"]),
    ("marking", &["protocol", "commands"]),
    ("session", &["protocol", "commands", "marking"]),
    ("receipt", &["protocol", "commands", "marking"]),
    ("transport", &["protocol"]),
    ("journal", &["protocol", "fsutil"]),
    ("error", &["protocol", "commands", "marking", "session", "transport", "receipt", "journal"]),
    ("driver", &["protocol", "commands", "marking", "session", "transport", "receipt", "error", "fsutil"]),
    (
        "journaled",
        &["protocol", "commands", "marking", "session", "transport", "receipt", "error", "fsutil", "journal", "driver"],
    ),
    ("emulator", &["protocol", "commands", "marking", "session", "transport", "receipt", "fsutil"]),
    ("checker", &["protocol", "commands", "marking", "receipt", "error", "fsutil", "driver"]),
    ("device", &["protocol", "transport", "error", "driver", "emulator"]),
];

/// `line` without its string literals and its comment.
fn code_of(line: &str) -> String {
    let mut out = String::new();
    let (mut in_str, mut escaped) = (false, false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if in_str {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '/' if chars.peek() == Some(&'/') => break,
            _ => out.push(c),
        }
    }
    out
}

/// The library modules each module of src/ names with `crate::…`.
fn edges(src: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(src, &mut files);
    let mut found: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(src).unwrap().to_string_lossy().replace('\\', "/");
        // The binary's modules may use all of the library.
        if matches!(rel.as_str(), "lib.rs" | "main.rs" | "views.rs")
            || rel.starts_with("cli/")
            || rel.starts_with("server/")
        {
            continue;
        }
        let module = rel.split('/').next().unwrap().trim_end_matches(".rs").to_string();
        for (n, line) in std::fs::read_to_string(&f).unwrap().lines().enumerate() {
            let code = code_of(line);
            let mut rest = code.as_str();
            while let Some(i) = rest.find("crate::") {
                rest = &rest[i + 7..];
                let target: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                if !target.is_empty() && target != module {
                    found
                        .entry(module.clone())
                        .or_default()
                        .entry(target)
                        .or_insert_with(|| format!("{rel}:{}", n + 1));
                }
            }
        }
    }
    found
}

#[test]
fn no_module_reaches_upward() {
    let allowed: BTreeMap<&str, BTreeSet<&str>> =
        ALLOWED.iter().map(|(m, a)| (*m, a.iter().copied().collect())).collect();
    let found = edges(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let mut bad = Vec::new();
    for (module, targets) in &found {
        let Some(ok) = allowed.get(module.as_str()) else {
            bad.push(format!("{module}: a new module; add it to ALLOWED in tests/it/layers.rs with its place"));
            continue;
        };
        for (target, at) in targets {
            // Re-exported names at the crate root (`crate::Error`, `crate::Kkt`) are the modules behind them.
            let target = match target.as_str() {
                "Error" | "Result" => "error",
                "Kkt" | "AsyncKkt" => "driver",
                t => t,
            };
            if !ok.contains(target) {
                bad.push(format!("{module} → {target} ({at})"));
            }
        }
    }
    assert!(bad.is_empty(), "edges outside the layering:\n  {}", bad.join("\n  "));
}

#[test]
fn the_table_has_no_cycle() {
    // Every module's allowed modules come before it in ALLOWED: a topological order, so no cycle.
    let order: Vec<&str> = ALLOWED.iter().map(|(m, _)| *m).collect();
    for (i, (m, uses)) in ALLOWED.iter().enumerate() {
        for u in *uses {
            let j =
                order.iter().position(|x| x == u).unwrap_or_else(|| panic!("{m} uses {u}, which is not in the table"));
            assert!(j < i, "{m} uses {u}, listed after it");
        }
    }
}

#[test]
fn comments_and_strings_are_not_edges() {
    assert_eq!(code_of(r#"use crate::protocol; // see crate::driver"#), "use crate::protocol; ");
    assert_eq!(code_of(r#"let s = "crate::driver"; crate::x"#), "let s = ; crate::x");
    assert_eq!(code_of(r#"let u = "http://x"; crate::y"#), "let u = ; crate::y");
}
