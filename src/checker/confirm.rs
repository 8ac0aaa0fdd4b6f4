//! The cashier's answer to a verdict that asks (seed 002: iMark's Enter/Esc), carried over
//! interfaces that cannot ask in the middle of a sale: `POST /v1/marks/check` gives an `ask`
//! verdict a confirmation token, bound to the code, the reasons and the time; a receipt item
//! that carries it (`mark_confirmation`) lets exactly those reasons pass for that code within
//! 10 minutes. A new reason, another code, an expired or altered token: refused.
//!
//! The token is `PAYLOAD.MAC`: the payload (Base64url JSON: print view, reason keys, time,
//! entity) is readable, so a refusal can say what changed; the MAC (HMAC-SHA256 over the whole
//! code and the payload) is made with a key kept private in the cache directory, shared by the
//! till's processes (`kkt mark check` and `kkt serve` issue tokens `kkt receipt` accepts).

use std::path::{Path, PathBuf};

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::marking::Verdict;

/// How long a confirmation holds.
pub const DEFAULT_TTL_MS: i64 = 10 * 60 * 1000;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Payload {
    /// The code's print view (the MAC covers the whole code).
    pv: String,
    /// The reasons accepted (`rule:field`), sorted.
    r: Vec<String>,
    /// When it was issued (Unix ms).
    t: i64,
    /// The legal entity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    i: Option<String>,
}

/// Why a confirmation does not let a verdict pass.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfirmError {
    /// Not a token this till issued.
    #[error("the confirmation is not one this till issued for this code (altered, or from another till)")]
    Invalid,
    /// Issued for another code.
    #[error("the confirmation was given for another code ({0})")]
    OtherCode(String),
    /// Too old.
    #[error("the confirmation expired: given {age_s} s ago, valid {ttl_s} s (check the code again)")]
    Expired {
        /// Its age, seconds.
        age_s: i64,
        /// Its validity, seconds.
        ttl_s: i64,
    },
    /// The check now gives a reason the cashier did not accept.
    #[error("the check now gives a reason the cashier did not accept: {}", .0.join(", "))]
    NewReasons(Vec<String>),
    /// Issued for another legal entity.
    #[error("the confirmation was given for another legal entity ({0})")]
    OtherEntity(String),
}

/// Issues and verifies confirmations.
pub struct Confirmations {
    key: ring::hmac::Key,
    ttl_ms: i64,
}

impl std::fmt::Debug for Confirmations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Confirmations").field("ttl_ms", &self.ttl_ms).finish_non_exhaustive()
    }
}

/// The key file in a cache directory.
pub fn key_file(dir: &Path) -> PathBuf {
    dir.join("mark-confirm.key")
}

impl Confirmations {
    /// With a key of the caller's (tests, one process).
    pub fn with_key(key: &[u8], ttl_ms: i64) -> Confirmations {
        Confirmations { key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key), ttl_ms }
    }

    /// With the key of a cache directory, created (private, 0600) on first use.
    pub fn in_dir(dir: &Path, ttl_ms: i64) -> std::io::Result<Confirmations> {
        let path = key_file(dir);
        std::fs::create_dir_all(dir)?;
        for _ in 0..50 {
            match std::fs::read_to_string(&path) {
                Ok(t) => match hex::decode(t.trim()) {
                    Ok(k) if k.len() == 32 => return Ok(Self::with_key(&k, ttl_ms)),
                    // Being written by another process this very moment.
                    _ => std::thread::sleep(std::time::Duration::from_millis(10)),
                },
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let key = super::token::random_bytes::<32>();
                    match crate::fsutil::private_options().write(true).create_new(true).open(&path) {
                        Ok(mut f) => {
                            std::io::Write::write_all(&mut f, hex::encode(key).as_bytes())?;
                            f.sync_all()?;
                            return Ok(Self::with_key(&key, ttl_ms));
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                        Err(e) => return Err(e),
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Err(std::io::Error::other(format!("{}: not a key", path.display())))
    }

    /// How long a confirmation holds, ms.
    pub fn ttl_ms(&self) -> i64 {
        self.ttl_ms
    }

    fn message(code: &str, payload_b64: &str) -> Vec<u8> {
        [code.as_bytes(), b"\n", payload_b64.as_bytes()].concat()
    }

    fn mac(&self, code: &str, payload_b64: &str) -> String {
        B64.encode(ring::hmac::sign(&self.key, &Self::message(code, payload_b64)).as_ref())
    }

    /// The token for `v` (its code, its reasons, `now_ms`).
    pub fn issue(&self, v: &Verdict, now_ms: i64) -> String {
        let mut r: Vec<String> = v.reasons.iter().map(|r| r.key()).collect();
        r.sort();
        r.dedup();
        let p = Payload { pv: v.print_view.clone(), r, t: now_ms, i: v.inn.clone().filter(|i| !i.is_empty()) };
        let payload = B64.encode(serde_json::to_vec(&p).expect("serializable"));
        let mac = self.mac(&v.code, &payload);
        format!("{payload}.{mac}")
    }

    /// Whether `token` lets `v` pass at `now_ms`: issued here for this code, not expired, and every
    /// reason `v` gives was among those accepted.
    pub fn verify(&self, token: &str, v: &Verdict, now_ms: i64) -> Result<(), ConfirmError> {
        let (payload, mac) = token.trim().split_once('.').ok_or(ConfirmError::Invalid)?;
        let p: Payload =
            B64.decode(payload).ok().and_then(|b| serde_json::from_slice(&b).ok()).ok_or(ConfirmError::Invalid)?;
        // Compared in constant time by ring.
        let ok = B64
            .decode(mac)
            .is_ok_and(|tag| ring::hmac::verify(&self.key, &Self::message(&v.code, payload), &tag).is_ok());
        if !ok {
            if p.pv != v.print_view {
                return Err(ConfirmError::OtherCode(p.pv));
            }
            return Err(ConfirmError::Invalid);
        }
        let age = now_ms - p.t;
        if age > self.ttl_ms || age < -60_000 {
            return Err(ConfirmError::Expired { age_s: age / 1000, ttl_s: self.ttl_ms / 1000 });
        }
        let inn = v.inn.clone().filter(|i| !i.is_empty());
        if let (Some(a), Some(b)) = (&p.i, &inn) {
            if a != b {
                return Err(ConfirmError::OtherEntity(a.clone()));
            }
        }
        let new: Vec<String> = v.reasons.iter().map(|r| r.key()).filter(|k| !p.r.contains(k)).collect();
        if !new.is_empty() {
            return Err(ConfirmError::NewReasons(new));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::rules::{judge, Evidence, Local, Settings};
    use crate::checker::CodeInfo;
    use crate::marking::MarkingCode;
    use crate::marking::Strictness;

    const NOW: i64 = 1_700_000_000_000;

    fn verdict(code: &str, info: CodeInfo) -> Verdict {
        let ev = Evidence::Online { info, req_id: Some("r".into()), req_timestamp: Some(1), host: None };
        let s = Settings { strictness: Strictness::Ask, ..Settings::default() };
        judge(&MarkingCode::parse(code).unwrap(), &ev, &Local::default(), &s, NOW)
    }

    const A: &str = "0104670540176099215'W9Um\u{1d}93dGVz";
    const B: &str = "0104670540176099215LnOjv\u{1d}93dGVz";

    #[test]
    fn a_confirmation_lets_exactly_its_reasons_pass() {
        let c = Confirmations::with_key(b"0123456789abcdef0123456789abcdef", DEFAULT_TTL_MS);
        let sold = verdict(A, CodeInfo { sold: Some(true), ..CodeInfo::default() });
        let t = c.issue(&sold, NOW);
        assert_eq!(c.verify(&t, &sold, NOW + 60_000), Ok(()));
        // Ten minutes and more: expired.
        assert!(matches!(c.verify(&t, &sold, NOW + DEFAULT_TTL_MS + 1), Err(ConfirmError::Expired { .. })));
        // Another code.
        let other = verdict(B, CodeInfo { sold: Some(true), ..CodeInfo::default() });
        assert!(matches!(c.verify(&t, &other, NOW), Err(ConfirmError::OtherCode(_))));
        // A new reason.
        let more = verdict(A, CodeInfo { sold: Some(true), is_blocked: Some(true), ..CodeInfo::default() });
        assert_eq!(c.verify(&t, &more, NOW), Err(ConfirmError::NewReasons(vec!["blocked:isBlocked".into()])));
        // Fewer reasons (one gone): what is left was accepted.
        let both = verdict(A, CodeInfo { sold: Some(true), is_blocked: Some(true), ..CodeInfo::default() });
        let t2 = c.issue(&both, NOW);
        assert_eq!(c.verify(&t2, &sold, NOW), Ok(()));
        // Altered, or from another key.
        let mut bad = t.clone();
        bad.push('x');
        assert_eq!(c.verify(&bad, &sold, NOW), Err(ConfirmError::Invalid));
        let c2 = Confirmations::with_key(b"another key of thirty-two bytes!", DEFAULT_TTL_MS);
        assert_eq!(c2.verify(&t, &sold, NOW), Err(ConfirmError::Invalid));
        assert_eq!(c.verify("garbage", &sold, NOW), Err(ConfirmError::Invalid));
    }

    #[test]
    fn the_key_is_shared_through_the_cache_directory() {
        let dir = std::env::temp_dir().join(format!("kkt-confirm-{}", std::process::id()));
        let a = Confirmations::in_dir(&dir, DEFAULT_TTL_MS).unwrap();
        let b = Confirmations::in_dir(&dir, DEFAULT_TTL_MS).unwrap();
        let v = verdict(A, CodeInfo { sold: Some(true), ..CodeInfo::default() });
        assert_eq!(b.verify(&a.issue(&v, NOW), &v, NOW), Ok(()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(key_file(&dir)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
