//! ФФД 1.2 settings and service queries (seed 004): FN format (0x0F), OISM host (0x82/0x83),
//! marking-key update host (0x84/0x85), service parameters (0xA2), activation code (0xDD).

use serde::Serialize;

use super::fields::{required, TlvBuilder, TlvFields, WireOrder};
use super::info::Text;
use super::receipt::is_empty_list;
use super::{no_data_request, read_write_response, DecodeError, Empty, InputError, Reader, Request, Response, TlvList};

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

/// The OISM host: address (30050), port (30051), answer timeout in seconds (30052). Data of
/// 0x82, answer to 0x83.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct OismHost {
    /// Tag 30050, host name or IP (at most 128).
    pub address: String,
    /// Tag 30051, TCP port.
    pub port: u16,
    /// Tag 30052, answer timeout in seconds (30 recommended).
    pub timeout_s: u16,
    /// Tags the layout does not name, kept as sent.
    #[serde(skip_serializing_if = "is_empty_list")]
    pub extra: TlvList,
    /// The tag order of a decoded body (re-encoding keeps it); `Default` for a new one.
    #[serde(skip)]
    pub order: WireOrder,
}

impl OismHost {
    /// A host setting.
    pub fn new(address: &str, port: u16, timeout_s: u16) -> Self {
        Self { address: address.into(), port, timeout_s, ..Self::default() }
    }

    fn write(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        let mut b = TlvBuilder::new();
        b.string(30050, "address", &self.address)?.u16(30051, "port", self.port)?.u16(
            30052,
            "timeout_s",
            self.timeout_s,
        )?;
        b.finish(&self.extra, &self.order, out);
        Ok(())
    }

    fn read(data: &[u8]) -> Result<Self, DecodeError> {
        let mut f = TlvFields::parse(data, 0, "tlv")?;
        let mut v = Self {
            address: required(f.string(30050), 30050, "address")?,
            port: required(f.u16(30051, "port")?, 30051, "port")?,
            timeout_s: required(f.u16(30052, "timeout_s")?, 30052, "timeout_s")?,
            ..Self::default()
        };
        (v.extra, v.order) = f.finish();
        Ok(v)
    }
}

read_write_response!(OismHost);

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
        self.0.write(out)
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        OismHost::read(data).map(SetOismHost)
    }
}

no_data_request!(
    /// 0x83 «Запрос настроек взаимодействия с хостом ОИСМ из ККТ».
    GetOismHost = 0x83 => OismHost
);

/// The marking-key update host: address (30060), port (30061). Data of 0x84, answer to 0x85.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct KeyUpdateHost {
    /// Tag 30060, host name or IP (at most 128).
    pub address: String,
    /// Tag 30061, TCP port.
    pub port: u16,
    /// Tags the layout does not name, kept as sent.
    #[serde(skip_serializing_if = "is_empty_list")]
    pub extra: TlvList,
    /// The tag order of a decoded body (re-encoding keeps it); `Default` for a new one.
    #[serde(skip)]
    pub order: WireOrder,
}

impl KeyUpdateHost {
    /// A host setting.
    pub fn new(address: &str, port: u16) -> Self {
        Self { address: address.into(), port, ..Self::default() }
    }

    fn write(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        let mut b = TlvBuilder::new();
        b.string(30060, "address", &self.address)?.u16(30061, "port", self.port)?;
        b.finish(&self.extra, &self.order, out);
        Ok(())
    }

    fn read(data: &[u8]) -> Result<Self, DecodeError> {
        let mut f = TlvFields::parse(data, 0, "tlv")?;
        let mut v = Self {
            address: required(f.string(30060), 30060, "address")?,
            port: required(f.u16(30061, "port")?, 30061, "port")?,
            ..Self::default()
        };
        (v.extra, v.order) = f.finish();
        Ok(v)
    }
}

read_write_response!(KeyUpdateHost);

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
        self.0.write(out)
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        KeyUpdateHost::read(data).map(SetKeyUpdateHost)
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
    /// The code, BYTE[16].
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
    pub fn serialize<S: serde::Serializer>(b: &[u8; 16], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode_upper(b))
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
        assert_eq!(EnterActivationCode::decode(&out[..15]).unwrap_err().kind, super::super::DecodeErrorKind::Length);
        assert_eq!(FnFormat::decode(&[4, 4]).unwrap(), FnFormat { ffd: 4, ffd_supported: 4 });
    }
}
