//! The scenario file: what the OISM answers for which code, how slow the register is, and
//! which faults the servers inject. TOML or JSON (chosen by the file's extension).

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What the OISM says about a code's planned status (tag 2109), or that it cannot be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OismStatus {
    /// 2109 = 1: the planned status is correct.
    #[default]
    Correct,
    /// 2109 = 2: the planned status is incorrect.
    Incorrect,
    /// 2109 = 3: the item's circulation is suspended.
    Suspended,
    /// No answer: 0x92 answers error 0xCC.
    Unreachable,
}

/// A rule of the OISM model: codes it applies to and the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeRule {
    /// The code (GS written as `\u001d` in JSON/TOML strings), or a pattern with `*` (any
    /// characters), e.g. `"0104600439931256*"`; also matched against the GTIN+serial.
    #[serde(rename = "match")]
    pub pattern: String,
    /// The OISM's answer.
    pub status: OismStatus,
    /// Whether the crypto tail is valid (FN and OISM checks); default true.
    #[serde(default = "yes")]
    pub crypto_valid: bool,
    /// Extra OISM latency for this code, in milliseconds.
    #[serde(default)]
    pub latency_ms: u64,
    /// The FN refuses the code at 0x91 with this error code (e.g. `0xCE`, product code not
    /// recognised; `0xD0`, not a marking code) instead of checking it.
    #[serde(default)]
    pub fn_error: Option<u8>,
}

fn yes() -> bool {
    true
}

/// When a fault applies to a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FaultAction {
    /// Close the connection after receiving the command, without executing it.
    CloseBefore,
    /// Execute the command, then close the connection without answering.
    CloseAfter,
    /// Answer with one byte of the response flipped (the CRC no longer matches).
    Corrupt,
    /// Answer with one byte of the response left out.
    Drop,
    /// Answer after an extra delay (`delay_ms`).
    Delay,
}

/// A fault injected by the servers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// The command code, e.g. `0x24` in TOML or `36` in JSON.
    pub command: u8,
    /// What to do.
    pub action: FaultAction,
    /// How many times (0 = every time); default once.
    #[serde(default = "one")]
    pub times: u32,
    /// Delay for `delay`, in milliseconds.
    #[serde(default)]
    pub delay_ms: u64,
    /// Which response byte `corrupt`/`drop` touch (counted from 0; default the last).
    #[serde(default)]
    pub byte: Option<usize>,
}

fn one() -> u32 {
    1
}

/// Realistic timing (off by default: every answer is instant).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    /// Simulate the time the serial line takes: 10 bits per byte at this speed (0 = off).
    #[serde(default)]
    pub baud: u32,
    /// Time per command, in milliseconds, by command code (default: [`Timing::default_latency_ms`]).
    #[serde(default)]
    pub latency_ms: Vec<(u8, u64)>,
    /// Key update at shift open (0x21) in transfer mode, milliseconds.
    #[serde(default = "key_update_ms")]
    pub key_update_ms: u64,
    /// OISM answer time for 0x92, milliseconds.
    #[serde(default = "oism_ms")]
    pub oism_ms: u64,
}

fn key_update_ms() -> u64 {
    15_000
}

fn oism_ms() -> u64 {
    1_500
}

impl Default for Timing {
    fn default() -> Self {
        Self { baud: 115_200, latency_ms: Vec::new(), key_update_ms: key_update_ms(), oism_ms: oism_ms() }
    }
}

impl Timing {
    /// A register's usual time for `command` when the table does not say.
    pub fn default_latency_ms(command: u8) -> u64 {
        match crate::protocol::command_info(command).map(|c| c.class) {
            Some(crate::protocol::CommandClass::Fiscal) => 400,
            Some(crate::protocol::CommandClass::Marking) => 150,
            Some(crate::protocol::CommandClass::Document) => 50,
            _ => 20,
        }
    }

    /// The time `command` takes (without OISM or key update).
    pub fn latency(&self, command: u8) -> Duration {
        let ms = self
            .latency_ms
            .iter()
            .find(|(c, _)| *c == command)
            .map_or(Self::default_latency_ms(command), |(_, ms)| *ms);
        Duration::from_millis(ms)
    }

    /// The time `bytes` take on the serial line.
    pub fn line(&self, bytes: usize) -> Duration {
        if self.baud == 0 {
            return Duration::ZERO;
        }
        Duration::from_micros(bytes as u64 * 10 * 1_000_000 / u64::from(self.baud))
    }
}

/// The scenario file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The OISM's answer for codes no rule matches.
    #[serde(default)]
    pub default_status: OismStatus,
    /// Rules by code, first match wins.
    #[serde(default)]
    pub codes: Vec<CodeRule>,
    /// Verification key ids (AI 91) the FN holds: 44-character tails with these ids are
    /// checked in the FN (tag 2100 = 4), others are not (2100 = 3).
    #[serde(default)]
    pub fn_keys: Vec<String>,
    /// Realistic timing; absent = instant.
    #[serde(default)]
    pub timing: Option<Timing>,
    /// Faults for the servers to inject.
    #[serde(default)]
    pub faults: Vec<Fault>,
}

/// A scenario file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// Not readable.
    #[error("scenario {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid TOML/JSON for the format.
    #[error("scenario {path}: {message}")]
    Format {
        /// The file.
        path: String,
        /// What is wrong, with the place.
        message: String,
    },
}

fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for p in &parts[1..parts.len() - 1] {
        match rest.find(p) {
            Some(i) => rest = &rest[i + p.len()..],
            None => return false,
        }
    }
    true
}

impl Scenario {
    /// Reads a scenario: JSON if the name ends in `.json`, TOML otherwise.
    pub fn load(path: &std::path::Path) -> Result<Scenario, ScenarioError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io { path: name.clone(), source })?;
        if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(&text).map_err(|e| ScenarioError::Format { path: name, message: e.to_string() })
        } else {
            toml::from_str(&text).map_err(|e| ScenarioError::Format { path: name, message: e.to_string() })
        }
    }

    /// The rule for a code (raw text as scanned, and its GTIN+serial if parsed).
    pub fn rule(&self, code: &str, product_id: Option<&str>) -> Option<&CodeRule> {
        self.codes.iter().find(|r| glob(&r.pattern, code) || product_id.is_some_and(|p| glob(&r.pattern, p)))
    }

    /// Whether the FN holds key `id`.
    pub fn fn_has_key(&self, id: &str) -> bool {
        self.fn_keys.iter().any(|k| k == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{cmd, err};

    #[test]
    fn the_example_fixture_loads() {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/emulator/scenario.toml");
        let s = Scenario::load(&p).unwrap();
        assert_eq!(s.fn_keys, vec!["EE06"]);
        assert_eq!(s.codes.len(), 5);
        assert!(!s.codes[3].crypto_valid);
        assert_eq!((s.codes[3].fn_error, s.codes[4].fn_error), (None, Some(err::CODE_NOT_RECOGNISED)));
        assert_eq!(s.faults.len(), 2);
        assert_eq!(s.timing.unwrap().latency(cmd::CLOSE_SHIFT), Duration::from_millis(1200));
        let e = Scenario::load(std::path::Path::new("/nonexistent.toml")).unwrap_err();
        assert!(e.to_string().contains("/nonexistent.toml"));
    }

    #[test]
    fn glob_matches() {
        assert!(glob("abc", "abc"));
        assert!(!glob("abc", "abcd"));
        assert!(glob("ab*", "abcd"));
        assert!(glob("*cd", "abcd"));
        assert!(glob("a*c*e", "abcde"));
        assert!(!glob("a*c*e", "abde"));
        assert!(glob("*", ""));
        assert!(!glob("ab*ba", "aba"));
    }

    #[test]
    fn toml_and_json_scenarios() {
        let t: Scenario = toml::from_str(
            r#"
default_status = "correct"
fn_keys = ["FFD0"]
[[codes]]
match = "0104600439931256*"
status = "incorrect"
[[codes]]
match = "04640078016372gDDJ2VMOqvdNG"
status = "unreachable"
latency_ms = 100
[timing]
baud = 9600
latency_ms = [[0x24, 700]]
[[faults]]
command = 0x24
action = "close_after"
"#,
        )
        .unwrap();
        assert_eq!(t.rule("0104600439931256215Bd", None).unwrap().status, OismStatus::Incorrect);
        assert_eq!(t.rule("xx", Some("04640078016372gDDJ2VMOqvdNG")).unwrap().status, OismStatus::Unreachable);
        assert!(t.rule("0109", None).is_none());
        let timing = t.timing.as_ref().unwrap();
        assert_eq!(timing.latency(cmd::FORM_RECEIPT), Duration::from_millis(700));
        assert_eq!(timing.key_update_ms, 15_000);
        assert_eq!(timing.line(96), Duration::from_millis(100));
        assert_eq!(
            t.faults[0],
            Fault { command: cmd::FORM_RECEIPT, action: FaultAction::CloseAfter, times: 1, delay_ms: 0, byte: None }
        );
        let j: Scenario = serde_json::from_str(r#"{"codes":[{"match":"*","status":"suspended"}]}"#).unwrap();
        assert_eq!(j.rule("anything", None).unwrap().status, OismStatus::Suspended);
        assert!(toml::from_str::<Scenario>("bogus = 1").is_err());
    }
}
