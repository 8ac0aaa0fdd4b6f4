//! The optional config file (TOML): device, cashier, timeouts.
//!
//! Looked up at `--config PATH`, `$KKT_CONFIG`, then `kkt/config.toml` in the user's config
//! directory (`~/.config/kkt/config.toml` on Linux, `%APPDATA%\kkt\config.toml` on Windows:
//! [`super::paths::config`]). Command-line options win over the file.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The config file's contents. Unknown keys are an error, so that a typo is not ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Device URI (`tcp://HOST:PORT`, `serial:///dev/ttyUSB0?baud=115200`, `emulator`).
    pub device: Option<String>,
    /// Default answer timeout in seconds (per command; 0x21 keeps its longer default).
    pub timeout: Option<u64>,
    /// The cashier for shift and receipt commands.
    pub cashier: Option<Cashier>,
    /// `kkt serve`'s settings (its options win).
    pub serve: Option<Serve>,
    /// How the driver retries and reconciles (for slow or noisy links, and tests).
    pub driver: Option<Driver>,
    /// Marked goods: the store's ТС ПИОТ.
    pub marking: Option<Marking>,
}

/// The `[marking]` table: the marked goods check (options and environment variables win).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Marking {
    /// The store's ТС ПИОТ (`https://127.0.0.1:51401` for ЕСМ); options and
    /// $KKT_TSPIOT_URL win.
    pub tspiot_url: Option<String>,
    /// Refuse a marked item that no check answered (`--mark-check required`).
    pub require_check: Option<bool>,
    /// The command that signs data with the participant's УКЭП to obtain the ГИС МТ token
    /// (`--sign-command`).
    pub sign_command: Option<String>,
    /// A file holding the ГИС МТ token (`--gismt-token-file`).
    pub token_file: Option<PathBuf>,
    /// The host of `/auth/permissive-access` (`--gismt-auth-url`).
    pub auth_url: Option<String>,
    /// The INN of the legal entity the settings above are for (the first entity).
    pub inn: Option<String>,
    /// The sold-codes store (`--store`): a SQLite path or `postgres://…`.
    pub store: Option<String>,
    /// How long the evidence trail (verdicts) and the sales events are kept, in days (default
    /// 3 years).
    pub retention_days: Option<u32>,
    /// Other legal entities of the till (`[[marking.entity]]`).
    #[serde(default)]
    pub entity: Vec<Entity>,
}

/// One `[[marking.entity]]`: a legal entity that sells through this till, its token source and
/// optionally its own ТС ПИОТ.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entity {
    /// Its INN (10 digits for a company, 12 for an individual entrepreneur).
    pub inn: String,
    /// A file holding its ГИС МТ token.
    pub token_file: Option<PathBuf>,
    /// The command that signs with its УКЭП.
    pub sign_command: Option<String>,
    /// Its own ТС ПИОТ.
    pub tspiot_url: Option<String>,
}

/// The `[driver]` table: retries and reconciliation (the defaults suit a real register).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Driver {
    /// How often a query (or a command that certainly did not reach the register) is repeated,
    /// each sending waiting its own timeout. Without it (the default), a query is repeated as
    /// long as `--timeout` (the whole wait for one command, default 20 s) leaves room, at most
    /// 16 sendings.
    pub retries: Option<u32>,
    /// Pause before the first repetition, in milliseconds (default 200).
    pub retry_delay_ms: Option<u64>,
    /// How often the FN status is asked for after a fiscal command's answer was lost (default 5).
    pub reconcile_attempts: Option<u32>,
    /// Pause between those attempts, in milliseconds (default 1000).
    pub reconcile_delay_ms: Option<u64>,
    /// Read the register's state when connecting (default true).
    pub resync_on_connect: Option<bool>,
}

/// The `[serve]` table: `kkt serve`'s settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Serve {
    /// Where to listen (HOST:PORT).
    pub listen: Option<String>,
    /// A file holding the bearer token.
    pub token_file: Option<PathBuf>,
    /// The journal file.
    pub journal: Option<PathBuf>,
    /// Queue timeout in seconds.
    pub queue_timeout: Option<u64>,
}

/// A cashier.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cashier {
    /// Name (tag 1021).
    pub name: Option<String>,
    /// INN, 12 digits (tag 1203).
    pub inn: Option<String>,
}

/// `kkt config ...`.
#[derive(Debug, clap::Subcommand)]
pub enum ConfigCmd {
    /// Write a commented example config (every key, with its environment variable and option)
    /// to --config PATH, $KKT_CONFIG or the default path; an existing file is not overwritten.
    Init,
    /// Print the example config on stdout.
    Example,
    /// Print the config file's path and whether it exists.
    Path,
}

/// The example config: every key, commented out, with its environment variable and option.
pub const EXAMPLE: &str = include_str!("../../fixtures/config.example.toml");

/// Runs `kkt config ...`.
pub fn run(cmd: &ConfigCmd, cli: &super::Cli) -> Result<(), super::device::Failure> {
    use super::device::{output, Failure};
    use super::i18n::tr;
    let path = cli.config.clone().or_else(default_path);
    match cmd {
        ConfigCmd::Example => {
            print!("{EXAMPLE}");
            Ok(())
        }
        ConfigCmd::Path => {
            let p = path.ok_or_else(|| Failure::usage(tr!("config-no-dir"), tr!("hint-config-path")))?;
            let exists = p.exists();
            output(cli.json, &serde_json::json!({"path": p, "exists": exists}), || {
                format!("{} ({})\n", p.display(), if exists { tr!("config-exists") } else { tr!("config-missing") })
            });
            Ok(())
        }
        ConfigCmd::Init => {
            let p = path.ok_or_else(|| Failure::usage(tr!("config-no-dir"), tr!("hint-config-path")))?;
            if p.exists() {
                return Err(Failure::usage(
                    tr!("config-exists-refused", path = p.display().to_string()),
                    tr!("hint-config-exists"),
                ));
            }
            if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| Failure::usage(format!("{}: {e}", dir.display()), tr!("hint-config-path")))?;
            }
            // create_new: a file that appeared meanwhile is not overwritten either.
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&p)
                .map_err(|e| Failure::usage(format!("{}: {e}", p.display()), tr!("hint-config-path")))?;
            std::io::Write::write_all(&mut f, EXAMPLE.as_bytes())
                .map_err(|e| Failure::usage(format!("{}: {e}", p.display()), tr!("hint-config-path")))?;
            output(cli.json, &serde_json::json!({"written": p}), || {
                format!("{}\n", tr!("config-written", path = p.display().to_string()))
            });
            Ok(())
        }
    }
}

/// Where the default config file lives.
pub fn default_path() -> Option<PathBuf> {
    super::paths::config()
}

/// Reads the config: the explicit path must exist; the default path may be absent.
pub fn load(explicit: Option<&Path>) -> Result<Config, String> {
    let (path, required) = match explicit {
        Some(p) => (p.to_path_buf(), true),
        None => match default_path() {
            Some(p) => (p, false),
            None => return Ok(Config::default()),
        },
    };
    match std::fs::read(&path) {
        Ok(bytes) => {
            let text = super::device::text(&bytes).map_err(|m| format!("config file {}: {m}", path.display()))?;
            toml::from_str(&text).map_err(|e| format!("config file {}: {e}", path.display()))
        }
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
        Err(e) => Err(format!("config file {}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_names_every_key_and_parses_with_all_of_them() {
        // Uncomment every `# key = value` line (and the table headers): the example must then
        // be a valid config, so that no key in it is misspelt.
        let mut text = String::new();
        for line in EXAMPLE.lines() {
            let t = line.trim_start_matches("# ");
            let is_setting =
                t.split_once(" = ").is_some_and(|(k, _)| k.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
            if t.starts_with('[') || is_setting {
                text += t;
                text.push('\n');
            }
        }
        let c: Config = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert!(c.device.is_some() && c.timeout.is_some() && c.cashier.is_some());
        assert!(c.serve.is_some() && c.driver.is_some() && c.marking.is_some());
        let s = c.serve.unwrap();
        assert!(s.listen.is_some() && s.token_file.is_some() && s.journal.is_some() && s.queue_timeout.is_some());
        let d = c.driver.unwrap();
        assert!(d.retries.is_some() && d.retry_delay_ms.is_some() && d.reconcile_attempts.is_some());
        assert!(d.reconcile_delay_ms.is_some() && d.resync_on_connect.is_some());
        // Every key names its environment variable or says it has none, and its option.
        for key in ["device", "timeout", "KKT_DEVICE", "KKT_CONFIG", "KKT_JOURNAL", "--cashier-inn", "--tspiot-url"] {
            assert!(EXAMPLE.contains(key), "{key}");
        }
    }

    #[test]
    fn reads_and_refuses_unknown_keys() {
        let dir = std::env::temp_dir().join(format!("kkt-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("c.toml");
        std::fs::write(&p, "device = \"tcp://127.0.0.1:7777\"\ntimeout = 30\n[cashier]\nname = \"Иванова А.А.\"\ninn = \"500100732259\"\n").unwrap();
        let c = load(Some(&p)).unwrap();
        assert_eq!(c.device.as_deref(), Some("tcp://127.0.0.1:7777"));
        assert_eq!(c.timeout, Some(30));
        assert_eq!(c.cashier.unwrap().inn.as_deref(), Some("500100732259"));
        std::fs::write(&p, "[serve]\nlisten = \"127.0.0.1:9000\"\njournal = \"/tmp/j.sqlite\"\n").unwrap();
        assert_eq!(load(Some(&p)).unwrap().serve.unwrap().listen.as_deref(), Some("127.0.0.1:9000"));
        std::fs::write(&p, "[driver]\nretries = 0\nresync_on_connect = false\n").unwrap();
        assert_eq!(load(Some(&p)).unwrap().driver.unwrap().retries, Some(0));
        // Notepad's UTF-8 with a byte-order mark, and its "Unicode" (UTF-16 LE).
        std::fs::write(&p, "\u{feff}[cashier]\nname = \"Петрова\"\n").unwrap();
        assert_eq!(load(Some(&p)).unwrap().cashier.unwrap().name.as_deref(), Some("Петрова"));
        let utf16: Vec<u8> = "\u{feff}timeout = 7\r\n".encode_utf16().flat_map(u16::to_le_bytes).collect();
        std::fs::write(&p, utf16).unwrap();
        assert_eq!(load(Some(&p)).unwrap().timeout, Some(7));
        std::fs::write(&p, b"[cashier]\nname = \"\xCF\xE5\xF2\xF0\xEE\xE2\xE0\"\n").unwrap();
        assert!(load(Some(&p)).unwrap_err().contains("not UTF-8"));
        std::fs::write(&p, "[marking]\ntspiot_url = \"https://127.0.0.1:51401\"\n").unwrap();
        assert_eq!(load(Some(&p)).unwrap().marking.unwrap().tspiot_url.as_deref(), Some("https://127.0.0.1:51401"));
        std::fs::write(
            &p,
            "[marking]\nrequire_check = true\nsign_command = \"sign\"\ninn = \"7701234567\"\n\
             [[marking.entity]]\ninn = \"500100732259\"\ntoken_file = \"/etc/kkt/ip.token\"\n\
             [[marking.entity]]\ninn = \"7702345678\"\nsign_command = \"sign2\"\ntspiot_url = \"https://10.0.0.5:51401\"\n",
        )
        .unwrap();
        let m = load(Some(&p)).unwrap().marking.unwrap();
        assert_eq!((m.require_check, m.inn.as_deref()), (Some(true), Some("7701234567")));
        assert_eq!(m.entity.len(), 2);
        assert_eq!(m.entity[1].tspiot_url.as_deref(), Some("https://10.0.0.5:51401"));
        std::fs::write(&p, "[[marking.entity]]\ninn = \"1\"\ntoken = \"secret\"\n").unwrap();
        assert!(load(Some(&p)).unwrap_err().contains("token"), "a token in the config file is refused");
        std::fs::write(&p, "devise = \"x\"\n").unwrap();
        assert!(load(Some(&p)).unwrap_err().contains("devise"));
        assert!(load(Some(&dir.join("missing.toml"))).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
