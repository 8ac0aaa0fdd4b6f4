//! Tokens and passwords: never printed, never logged, never in an error text.

use std::fmt;
use std::path::Path;

/// A secret string. `Debug` and `Display` show `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value (surrounding whitespace trimmed).
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into().trim().to_string())
    }

    /// The value, for the one header that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Removes the secret from a text that came from elsewhere (a server's error description).
    pub fn scrub(&self, text: &str) -> String {
        if self.0.len() < 4 {
            return text.to_string();
        }
        text.replace(&self.0, "***")
    }

    /// From the environment variable `env`, else the file `file` (first the explicit path, then
    /// the path in `file_env`). None when neither is set; an unreadable file is an error that
    /// names the path, not the content.
    pub fn from_env_or_file(env: &str, file: Option<&Path>, file_env: &str) -> Result<Option<Secret>, SecretFileError> {
        if let Ok(v) = std::env::var(env) {
            if !v.trim().is_empty() {
                return Ok(Some(Secret::new(v)));
            }
        }
        let path = file.map(Path::to_path_buf).or_else(|| std::env::var_os(file_env).map(Into::into));
        match path {
            Some(p) => std::fs::read_to_string(&p)
                .map(|s| Some(Secret::new(s)).filter(|s| !s.0.is_empty()))
                .map_err(|source| SecretFileError { path: p, source }),
            None => Ok(None),
        }
    }

    /// From a file (None when it is empty); an unreadable file is an error that names the path,
    /// not the content.
    pub fn from_file(p: &Path) -> Result<Option<Secret>, SecretFileError> {
        std::fs::read_to_string(p)
            .map(|s| Some(Secret::new(s)).filter(|s| !s.0.is_empty()))
            .map_err(|source| SecretFileError { path: p.to_path_buf(), source })
    }
}

/// A token file that cannot be read (the message names the path, never the content).
#[derive(Debug, thiserror::Error)]
#[error("cannot read the token file {}: {source}", path.display())]
pub struct SecretFileError {
    /// The file.
    pub path: std::path::PathBuf,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_shown() {
        let s = Secret::new(" tok-123456 \n");
        assert_eq!(s.expose(), "tok-123456");
        assert_eq!(format!("{s:?} {s}"), "Secret(***) ***");
        assert_eq!(s.scrub("bad token tok-123456!"), "bad token ***!");
    }

    #[test]
    fn from_file() {
        let p = std::env::temp_dir().join(format!("kkt-secret-{}", std::process::id()));
        std::fs::write(&p, "abc-token\n").unwrap();
        let s = Secret::from_env_or_file("KKT_TEST_UNSET_VAR_X", Some(&p), "KKT_TEST_UNSET_VAR_Y").unwrap();
        assert_eq!(s.unwrap().expose(), "abc-token");
        std::fs::remove_file(&p).unwrap();
        let e = Secret::from_env_or_file("KKT_TEST_UNSET_VAR_X", Some(&p), "KKT_TEST_UNSET_VAR_Y").unwrap_err();
        assert!(e.to_string().contains("cannot read the token file"));
        assert!(matches!(Secret::from_env_or_file("KKT_TEST_UNSET_VAR_X", None, "KKT_TEST_UNSET_VAR_Y"), Ok(None)));
    }
}
