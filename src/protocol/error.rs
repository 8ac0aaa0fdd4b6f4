//! Device error codes: the byte after RESULT 01, with the table's texts.

use std::fmt;

use super::tables::{error_info, ErrorCategory, ErrorInfo};

/// A command the register refused, with the code it answered.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeviceError {
    /// The error code byte.
    pub code: u8,
}

impl DeviceError {
    /// The error with code `code`.
    pub const fn new(code: u8) -> Self {
        Self { code }
    }

    /// The table's row for this code, if the code is documented.
    pub fn info(&self) -> Option<&'static ErrorInfo> {
        error_info(self.code)
    }

    /// The table's Russian text (or a note that the code is undocumented).
    pub fn text_ru(&self) -> &'static str {
        self.info().map_or("Недокументированный код ошибки", |i| i.name_ru)
    }

    /// The English text.
    pub fn text_en(&self) -> &'static str {
        self.info().map_or("Undocumented error code", |i| i.name_en)
    }

    /// What the user should do, in English.
    pub fn hint_en(&self) -> &'static str {
        self.info().map_or("See the register's documentation for this code", |i| i.hint_en)
    }

    /// What the user should do, in Russian.
    pub fn hint_ru(&self) -> &'static str {
        self.info().map_or("См. документацию ККТ по этому коду", |i| i.hint_ru)
    }

    /// The family of the error, if the code is documented.
    pub fn category(&self) -> Option<ErrorCategory> {
        self.info().map(|i| i.category)
    }
}

impl fmt::Debug for DeviceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceError({:#04x} {})", self.code, self.text_en())
    }
}

impl fmt::Display for DeviceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "device error {:#04X}: {} ({})", self.code, self.text_ru(), self.text_en())
    }
}

impl std::error::Error for DeviceError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carries_code_and_both_texts() {
        let e = DeviceError::new(0x02);
        let s = e.to_string();
        assert!(s.contains("0x02"), "{s}");
        assert!(s.contains(e.text_ru()) && s.contains(e.text_en()));
        assert!(e.info().is_some());
        assert!(DeviceError::new(0xFF).info().is_none() || DeviceError::new(0xFF).text_en() != "");
    }
}
