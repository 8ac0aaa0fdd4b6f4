//! ФФД 1.2 settings and service queries (seed 004): FN format (0x0F), OISM host (0x82/0x83),
//! marking-key update host (0x84/0x85), service parameters (0xA2), activation code (0xDD);
//! and the reset of v01.05's FN mock-up (0x40, debug firmware only).

use serde::Serialize;

use super::fields::{self, check_enum, tlv_body};
use super::info::Text;
use super::{
    body_response, no_data_request, DecodeError, DecodeErrorKind, Empty, InputError, Reader, Request, Response,
};
use crate::protocol::tag;

no_data_request!(
    /// 0x0F «Запрос формата ФН».
    GetFnFormat = 0x0F => FnFormat
);

/// Answer to 0x0F.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FnFormat {
    /// FFD the FN works with, chosen at activation: 0 not activated, 1 FFD 1.0/1.05, 3 FFD
    /// 1.1, 4 FFD 1.2.
    pub ffd: u8,
    /// The highest FFD the FN supports (4 for an FN 1.2).
    pub ffd_supported: u8,
}

impl Response for FnFormat {
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let v = FnFormat { ffd: r.byte("ffd")?, ffd_supported: r.byte("ffd_supported")? };
        r.end("data")?;
        Ok(v)
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        out.extend_from_slice(&[self.ffd, self.ffd_supported]);
        Ok(())
    }
}

tlv_body! {
    /// The OISM host: address (30050), port (30051), answer timeout in seconds (30052). Data of
    /// 0x82, answer to 0x83.
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
    pub struct OismHost {
        /// Host name or IP (at most 128).
        address: String = required string(tag::OISM_HOST_ADDRESS),
        /// TCP port.
        port: u16 = required u16(tag::OISM_HOST_TCP_PORT),
        /// Answer timeout in seconds (30 recommended).
        timeout_s: u16 = required u16(tag::OISM_HOST_TIMEOUT),
    }
}

impl OismHost {
    /// A host setting.
    pub fn new(address: &str, port: u16, timeout_s: u16) -> Self {
        Self { address: address.into(), port, timeout_s, ..Self::default() }
    }
}

body_response!(OismHost);

/// 0x82 «Установить настройки взаимодействия с хостом ОИСМ».
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetOismHost(pub OismHost);

impl Request for SetOismHost {
    const CODE: u8 = 0x82;
    type Response = Empty;
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        if self.0.address.is_empty() {
            return Err(InputError::new("address", "must not be empty"));
        }
        fields::encode_body(&self.0, (), out)
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        fields::decode_body(data, ()).map(SetOismHost)
    }
}

no_data_request!(
    /// 0x83 «Запрос настроек взаимодействия с хостом ОИСМ из ККТ».
    GetOismHost = 0x83 => OismHost
);

tlv_body! {
    /// The marking-key update host: address (30060), port (30061). Data of 0x84, answer to 0x85.
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
    pub struct KeyUpdateHost {
        /// Host name or IP (at most 128).
        address: String = required string(tag::MARKING_KEY_UPDATE_HOST_ADDRESS),
        /// TCP port.
        port: u16 = required u16(tag::MARKING_KEY_UPDATE_HOST_TCP_PORT),
    }
}

impl KeyUpdateHost {
    /// A host setting.
    pub fn new(address: &str, port: u16) -> Self {
        Self { address: address.into(), port, ..Self::default() }
    }
}

body_response!(KeyUpdateHost);

/// 0x84 «Установить хост обновления ключей проверки КМ».
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetKeyUpdateHost(pub KeyUpdateHost);

impl Request for SetKeyUpdateHost {
    const CODE: u8 = 0x84;
    type Response = Empty;
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        if self.0.address.is_empty() {
            return Err(InputError::new("address", "must not be empty"));
        }
        fields::encode_body(&self.0, (), out)
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        fields::decode_body(data, ()).map(SetKeyUpdateHost)
    }
}

no_data_request!(
    /// 0x85 «Запрос хоста обновления ключей проверки КМ из ККТ».
    GetKeyUpdateHost = 0x85 => KeyUpdateHost
);

no_data_request!(
    /// 0xA2 «Запрос служебных параметров ККТ»: one line of text.
    GetServiceParams = 0xA2 => Text
);

/// 0xDD «Ввод кода активации для команд ФФД 1.2»: 16 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EnterActivationCode {
    /// The code, `BYTE[16]`.
    #[serde(with = "hex16")]
    pub code: [u8; 16],
}

impl Request for EnterActivationCode {
    const CODE: u8 = 0xDD;
    type Response = Empty;
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        out.extend_from_slice(&self.code);
        Ok(())
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let b = r.take("code", 16)?;
        r.end("data")?;
        let mut code = [0; 16];
        code.copy_from_slice(b);
        Ok(EnterActivationCode { code })
    }
}

mod hex16 {
    pub(super) fn serialize<S: serde::Serializer>(b: &[u8; 16], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode_upper(b))
    }
}

/// The request code 0x40 takes (v01.05: «задается жестко и должно быть равно 0x16»).
pub const RESET_MOCK_CODE: u8 = 0x16;

/// 0x40 «Сброс состояния МГМ ФН (массогабаритный макет ФН)»: a debug firmware with an FN
/// mock-up returns it to «настройка»; a real FN does not take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ResetMockFn {
    /// Must be [`RESET_MOCK_CODE`].
    pub request_code: u8,
}

impl Default for ResetMockFn {
    fn default() -> Self {
        Self { request_code: RESET_MOCK_CODE }
    }
}

impl Request for ResetMockFn {
    const CODE: u8 = 0x40;
    type Response = Empty;
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        check_enum("request_code", self.request_code, &[RESET_MOCK_CODE])?;
        out.push(self.request_code);
        Ok(())
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let request_code = r.byte("request_code")?;
        r.end("data")?;
        if request_code != RESET_MOCK_CODE {
            return Err(DecodeError::new(
                DecodeErrorKind::Value,
                "request_code",
                0,
                format!("{request_code:#04x}; must be {RESET_MOCK_CODE:#04x}"),
            ));
        }
        Ok(Self { request_code })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_roundtrip() {
        let h = OismHost::new("82.202.183.18", 21701, 30);
        let mut out = Vec::new();
        SetOismHost(h.clone()).encode(&mut out).unwrap();
        assert_eq!(
            hex::encode_upper(&out),
            "6275 0D00 38322E3230322E3138332E3138 6375 0200 C554 6475 0200 1E00".replace(' ', "")
        );
        assert_eq!(SetOismHost::decode(&out).unwrap().0, h);
        assert_eq!(<OismHost as Response>::decode(&out).unwrap(), h);
        let k = KeyUpdateHost::new("test.okp.atlas-kard.ru", 31101);
        let mut out = Vec::new();
        SetKeyUpdateHost(k.clone()).encode(&mut out).unwrap();
        assert_eq!(SetKeyUpdateHost::decode(&out).unwrap().0, k);
        let long = KeyUpdateHost::new(&"a".repeat(129), 1);
        assert_eq!(SetKeyUpdateHost(long).encode(&mut Vec::new()).unwrap_err().field, "address");
        assert_eq!(SetOismHost(OismHost::new("", 1, 1)).encode(&mut Vec::new()).unwrap_err().field, "address");
    }

    #[test]
    fn activation_code_and_format() {
        let c = EnterActivationCode { code: *b"0123456789ABCDEF" };
        let mut out = Vec::new();
        c.encode(&mut out).unwrap();
        assert_eq!(EnterActivationCode::decode(&out).unwrap(), c);
        assert_eq!(EnterActivationCode::decode(&out[..15]).unwrap_err().kind, DecodeErrorKind::Length);
        assert_eq!(FnFormat::decode(&[4, 4]).unwrap(), FnFormat { ffd: 4, ffd_supported: 4 });
    }

    #[test]
    fn mock_reset_0x40() {
        let mut out = Vec::new();
        ResetMockFn::default().encode(&mut out).unwrap();
        assert_eq!(out, [0x16]);
        assert_eq!(ResetMockFn { request_code: 0 }.encode(&mut Vec::new()).unwrap_err().field, "request_code");
        assert_eq!(ResetMockFn::decode(&[0x16]).unwrap(), ResetMockFn::default());
        let e = ResetMockFn::decode(&[0x15]).unwrap_err();
        assert_eq!((e.kind, e.field), (DecodeErrorKind::Value, "request_code"));
        assert_eq!(ResetMockFn::decode(&[0x16, 0]).unwrap_err().kind, DecodeErrorKind::Length);
    }

    proptest::proptest! {
        #[test]
        fn hosts_roundtrip_any(address in "[a-z0-9.-]{1,128}", port in proptest::prelude::any::<u16>(), timeout in proptest::prelude::any::<u16>()) {
            let h = OismHost::new(&address, port, timeout);
            let mut out = Vec::new();
            SetOismHost(h.clone()).encode(&mut out).unwrap();
            proptest::prop_assert_eq!(&SetOismHost::decode(&out).unwrap().0, &h);
            proptest::prop_assert_eq!(<OismHost as Response>::decode(&out).unwrap(), h);
            let k = KeyUpdateHost::new(&address, port);
            let mut out = Vec::new();
            SetKeyUpdateHost(k.clone()).encode(&mut out).unwrap();
            proptest::prop_assert_eq!(SetKeyUpdateHost::decode(&out).unwrap().0, k);
        }
    }
}
