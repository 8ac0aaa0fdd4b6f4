//! Device addresses as URIs.
//!
//! | URI | device |
//! |---|---|
//! | `tcp://192.168.1.50:7778` | TCP, one connection per command (as the device documents) |
//! | `tcp://192.168.1.50:7778?mode=persistent` | TCP, one connection kept open |
//! | `serial:///dev/ttyUSB0?baud=115200` | serial line; `data_bits`, `parity` (`none`, `odd`, `even`), `stop_bits`, `flow` (`none`, `software`, `hardware`) may follow |
//! | `/dev/ttyUSB0`, `COM3`, `serial://COM3` | serial line, 115200 8N1 |
//! | `emulator`, `emulator?state=regs.json` | the virtual register, in process (state kept in a file if given) |

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use super::line::{Flow, Parity, SerialConfig, TcpMode};

/// A parsed device address.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeviceUri {
    /// A register on the network.
    Tcp {
        /// Host name or address.
        host: String,
        /// TCP port.
        port: u16,
        /// Connection per command, or persistent.
        mode: TcpMode,
    },
    /// A register on a serial line.
    Serial {
        /// The port (`/dev/ttyUSB0`, `COM3`).
        path: String,
        /// Line settings.
        config: SerialConfig,
    },
    /// The virtual register in this process.
    Emulator {
        /// Where its state is kept between runs, if anywhere.
        state: Option<PathBuf>,
    },
}

/// A device address that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("device address {uri:?}: {message}")]
pub struct UriError {
    /// The address given.
    pub uri: String,
    /// What is wrong.
    pub message: String,
    /// The address the user probably meant (`tcp://127.0.0.1:7778` for `127.0.0.1:7778`).
    pub suggestion: Option<String>,
}

fn err(uri: &str, message: impl Into<String>) -> UriError {
    UriError { uri: uri.to_string(), message: message.into(), suggestion: None }
}

fn did_you_mean(uri: &str, meant: String) -> UriError {
    UriError { uri: uri.to_string(), message: format!("did you mean {meant}?"), suggestion: Some(meant) }
}

/// Levenshtein distance of two short ASCII words (for "did you mean").
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// A mistake that is surely one: `HOST:PORT` without `tcp://`, a misspelt scheme or
/// `emulator`.
fn mistake(uri: &str, s: &str) -> Option<UriError> {
    // HOST:PORT (an address or a host name, no path): TCP without its scheme.
    if let Some((host, port)) = s.rsplit_once(':') {
        let hostlike = !host.is_empty()
            && !host.contains('/')
            && !host.contains('\\')
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'[' || b == b']' || b == b':');
        if hostlike && !is_com_port(host) && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) {
            return Some(did_you_mean(uri, format!("tcp://{s}")));
        }
    }
    if let Some((scheme, rest)) = s.split_once("://") {
        for known in ["tcp", "serial"] {
            let lower = scheme.to_ascii_lowercase();
            let mut a: Vec<char> = lower.chars().collect();
            let mut b: Vec<char> = known.chars().collect();
            a.sort_unstable();
            b.sort_unstable();
            if lower != known && (distance(&lower, known) <= 1 || a == b) {
                return Some(did_you_mean(uri, format!("{known}://{rest}")));
            }
        }
    }
    let word = s.split(['?', ':']).next().unwrap_or(s);
    let rest = &s[word.len()..];
    if word != "emulator"
        && !word.is_empty()
        && word.bytes().all(|b| b.is_ascii_alphabetic())
        && distance(&word.to_ascii_lowercase(), "emulator") <= 2
    {
        return Some(did_you_mean(uri, format!("emulator{rest}")));
    }
    None
}

fn split_query(s: &str) -> (&str, Vec<(&str, &str)>) {
    match s.split_once('?') {
        Some((a, q)) => {
            (a, q.split('&').filter(|p| !p.is_empty()).map(|p| p.split_once('=').unwrap_or((p, ""))).collect())
        }
        None => (s, Vec::new()),
    }
}

fn is_com_port(s: &str) -> bool {
    let u = s.to_ascii_uppercase();
    u.strip_prefix("COM").is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

impl FromStr for DeviceUri {
    type Err = UriError;

    fn from_str(uri: &str) -> Result<Self, UriError> {
        let s = uri.trim();
        if s.is_empty() {
            return Err(err(uri, "empty"));
        }
        if let Some(e) = mistake(uri, s) {
            return Err(e);
        }
        if let Some(rest) = s.strip_prefix("tcp://") {
            let (addr, query) = split_query(rest);
            let addr = addr.trim_end_matches('/');
            let (host, port) =
                addr.rsplit_once(':').ok_or_else(|| err(uri, "expected tcp://HOST:PORT (the port is required)"))?;
            let host = host.trim_start_matches('[').trim_end_matches(']');
            if host.is_empty() {
                return Err(err(uri, "the host is empty"));
            }
            let port: u16 = port.parse().map_err(|_| err(uri, format!("port {port:?} is not a number 1..65535")))?;
            if port == 0 {
                return Err(err(uri, "port 0 is not a port"));
            }
            let mut mode = TcpMode::PerCommand;
            for (k, v) in query {
                match (k, v) {
                    ("mode", "persistent") => mode = TcpMode::Persistent,
                    ("mode", "per_command" | "per-command") => mode = TcpMode::PerCommand,
                    ("mode", v) => return Err(err(uri, format!("mode={v}: expected persistent or per_command"))),
                    (k, _) => return Err(err(uri, format!("unknown parameter {k:?} (tcp knows: mode)"))),
                }
            }
            return Ok(DeviceUri::Tcp { host: host.to_string(), port, mode });
        }
        if s == "emulator" || s.starts_with("emulator?") || s.starts_with("emulator:") {
            let rest = s.trim_start_matches("emulator").trim_start_matches("://").trim_start_matches(':');
            let (path, query) = split_query(rest);
            if !path.is_empty() && path != "/" {
                return Err(err(uri, "expected emulator or emulator?state=FILE"));
            }
            let mut state = None;
            for (k, v) in query {
                match k {
                    "state" if !v.is_empty() => state = Some(PathBuf::from(v)),
                    "state" => return Err(err(uri, "state= needs a file name")),
                    k => return Err(err(uri, format!("unknown parameter {k:?} (emulator knows: state)"))),
                }
            }
            return Ok(DeviceUri::Emulator { state });
        }
        let rest = if let Some(r) = s.strip_prefix("serial://") {
            r
        } else if let Some(r) = s.strip_prefix("serial:") {
            r
        } else if s.contains("://") {
            return Err(err(uri, "unknown scheme (expected tcp://, serial://, a port path, COMn or emulator)"));
        } else {
            s
        };
        let (path, query) = split_query(rest);
        if path.is_empty() {
            return Err(err(uri, "the serial port is empty"));
        }
        // serial://COM3 and serial:///dev/ttyUSB0 (a host part is not used).
        let path = if is_com_port(path.trim_start_matches('/')) { path.trim_start_matches('/') } else { path };
        let mut config = SerialConfig::default();
        for (k, v) in query {
            let bad = |what: &str| err(uri, format!("{k}={v}: expected {what}"));
            match k {
                "baud" => config.baud = v.parse().ok().filter(|b| *b > 0).ok_or_else(|| bad("a baud rate"))?,
                "data_bits" => {
                    config.data_bits = v.parse().ok().filter(|b| (5..=8).contains(b)).ok_or_else(|| bad("5..8"))?
                }
                "stop_bits" => {
                    config.stop_bits = v.parse().ok().filter(|b| (1..=2).contains(b)).ok_or_else(|| bad("1 or 2"))?
                }
                "parity" => {
                    config.parity = match v {
                        "none" | "n" | "N" => Parity::None,
                        "odd" | "o" | "O" => Parity::Odd,
                        "even" | "e" | "E" => Parity::Even,
                        _ => return Err(bad("none, odd or even")),
                    }
                }
                "flow" => {
                    config.flow = match v {
                        "none" => Flow::None,
                        "software" | "xonxoff" => Flow::Software,
                        "hardware" | "rtscts" => Flow::Hardware,
                        _ => return Err(bad("none, software or hardware")),
                    }
                }
                k => {
                    return Err(err(
                        uri,
                        format!("unknown parameter {k:?} (serial knows: baud, data_bits, parity, stop_bits, flow)"),
                    ))
                }
            }
        }
        Ok(DeviceUri::Serial { path: path.to_string(), config })
    }
}

impl fmt::Display for DeviceUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceUri::Tcp { host, port, mode } => {
                let host = if host.contains(':') { format!("[{host}]") } else { host.clone() };
                write!(f, "tcp://{host}:{port}")?;
                if *mode == TcpMode::Persistent {
                    f.write_str("?mode=persistent")?;
                }
                Ok(())
            }
            DeviceUri::Serial { path, config } => {
                let sep = if path.starts_with('/') { "//" } else { "" };
                write!(f, "serial:{sep}{path}?baud={}", config.baud)?;
                let d = SerialConfig::default();
                if config.data_bits != d.data_bits {
                    write!(f, "&data_bits={}", config.data_bits)?;
                }
                if config.parity != d.parity {
                    write!(f, "&parity={}", config.parity)?;
                }
                if config.stop_bits != d.stop_bits {
                    write!(f, "&stop_bits={}", config.stop_bits)?;
                }
                if config.flow != d.flow {
                    write!(f, "&flow={}", config.flow)?;
                }
                Ok(())
            }
            DeviceUri::Emulator { state: None } => f.write_str("emulator"),
            DeviceUri::Emulator { state: Some(p) } => write!(f, "emulator?state={}", p.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> DeviceUri {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn forms() {
        assert_eq!(
            p("tcp://192.168.1.50:7778"),
            DeviceUri::Tcp { host: "192.168.1.50".into(), port: 7778, mode: TcpMode::PerCommand }
        );
        assert_eq!(p("tcp://kkt.local:1?mode=persistent").to_string(), "tcp://kkt.local:1?mode=persistent");
        assert_eq!(p("tcp://[::1]:5555"), DeviceUri::Tcp { host: "::1".into(), port: 5555, mode: TcpMode::PerCommand });
        assert_eq!(p("tcp://[::1]:5555").to_string(), "tcp://[::1]:5555");
        let DeviceUri::Serial { path, config } = p("serial:///dev/ttyUSB0?baud=9600&parity=even&stop_bits=2") else {
            panic!()
        };
        assert_eq!(
            (path.as_str(), config.baud, config.parity, config.stop_bits),
            ("/dev/ttyUSB0", 9600, Parity::Even, 2)
        );
        assert_eq!(p("/dev/ttyS0"), DeviceUri::Serial { path: "/dev/ttyS0".into(), config: SerialConfig::default() });
        assert_eq!(p("COM3"), DeviceUri::Serial { path: "COM3".into(), config: SerialConfig::default() });
        assert_eq!(p("serial://COM12"), DeviceUri::Serial { path: "COM12".into(), config: SerialConfig::default() });
        // Windows' own name for ports above COM9, as Device Manager and the vendor drivers give it.
        assert_eq!(p(r"\\.\COM12"), DeviceUri::Serial { path: r"\\.\COM12".into(), config: SerialConfig::default() });
        assert_eq!(p(r"serial://\\.\COM12?baud=57600").to_string(), r"serial:\\.\COM12?baud=57600");
        assert_eq!(p("serial:///dev/ttyUSB0").to_string(), "serial:///dev/ttyUSB0?baud=115200");
        assert_eq!(p("emulator"), DeviceUri::Emulator { state: None });
        assert_eq!(p("emulator?state=/tmp/r.json"), DeviceUri::Emulator { state: Some("/tmp/r.json".into()) });
        assert_eq!(p("emulator://?state=x").to_string(), "emulator?state=x");
        // Round trip of the printed form.
        for s in ["tcp://h:1", "serial:///dev/ttyUSB0?baud=57600&data_bits=7&flow=hardware", "serial:COM3?baud=115200"]
        {
            assert_eq!(p(&p(s).to_string()), p(s), "{s}");
        }
    }

    #[test]
    fn errors_name_the_problem() {
        for (s, needle) in [
            ("", "empty"),
            ("tcp://host", "port is required"),
            ("tcp://host:http", "not a number"),
            ("tcp://host:0", "port 0"),
            ("tcp://:7778", "host is empty"),
            ("tcp://h:1?mode=fast", "mode=fast"),
            ("tcp://h:1?retries=3", "unknown parameter"),
            ("serial:///dev/ttyUSB0?baud=fast", "baud=fast"),
            ("serial:///dev/ttyUSB0?parity=mark", "none, odd or even"),
            ("serial:///dev/ttyUSB0?speed=1", "unknown parameter"),
            ("http://x", "unknown scheme"),
            ("emulator?state=", "needs a file"),
            ("emulator?x=1", "unknown parameter"),
        ] {
            let e = s.parse::<DeviceUri>().unwrap_err();
            assert!(e.to_string().contains(needle), "{s}: {e}");
        }
    }

    #[test]
    fn likely_mistakes_say_what_was_meant() {
        for (s, meant) in [
            ("127.0.0.1:7778", "tcp://127.0.0.1:7778"),
            ("kkt.local:7778", "tcp://kkt.local:7778"),
            ("emulatr", "emulator"),
            ("emualtor?state=x.json", "emulator?state=x.json"),
            ("tpc://10.0.0.5:7778", "tcp://10.0.0.5:7778"),
            ("serail:///dev/ttyUSB0", "serial:///dev/ttyUSB0"),
        ] {
            let e = s.parse::<DeviceUri>().unwrap_err();
            assert_eq!(e.suggestion.as_deref(), Some(meant), "{s}: {e}");
            assert!(e.to_string().contains(&format!("did you mean {meant}?")), "{e}");
        }
        for s in ["COM3", "/dev/ttyUSB0", "emulator", "ttyS0", "http://x"] {
            assert!(s.parse::<DeviceUri>().map_or_else(|e| e.suggestion.is_none(), |_| true), "{s}");
        }
    }
}
