//! The optional config file (TOML): device, cashier, timeouts.
//!
//! Looked up at `--config PATH`, `$KKT_CONFIG`, then `kkt/config.toml` in the user's config
//! directory (`~/.config/kkt/config.toml` on Linux). Command-line options win over the file.

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

/// The `[marking]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Marking {
    /// The store's ТС ПИОТ (`https://127.0.0.1:51401` for ЕСМ); options and
    /// $KKT_TSPIOT_URL win.
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

/// Where the default config file lives.
pub fn default_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("kkt").join("config.toml"))
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
    match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str(&text).map_err(|e| format!("config file {}: {e}", path.display())),
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
        Err(e) => Err(format!("config file {}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        std::fs::write(&p, "[marking]\ntspiot_url = \"https://127.0.0.1:51401\"\n").unwrap();
        assert_eq!(load(Some(&p)).unwrap().marking.unwrap().tspiot_url.as_deref(), Some("https://127.0.0.1:51401"));
        std::fs::write(&p, "devise = \"x\"\n").unwrap();
        assert!(load(Some(&p)).unwrap_err().contains("devise"));
        assert!(load(Some(&dir.join("missing.toml"))).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
