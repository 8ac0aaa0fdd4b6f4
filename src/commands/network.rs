//! Connection settings of v01.05 («Настройки ККТ»): the Ethernet address (0x74/0x75), the OFD
//! server (0x76/0x77) and the control interface (0x80/0x81). Each is a TLV body of service
//! tags 300xx; tags the layout does not name are kept and written back.

use std::net::Ipv4Addr;

use serde::Serialize;

use super::fields::{self, check_enum, tlv_body};
use super::{body_response, no_data_request, DecodeError, Empty, InputError, Request};
use crate::protocol::tag;

/// Longest OFD domain name (tag 30040; the tag table's limit, checked by a test).
pub const HOST_MAX: usize = 128;

/// Checks a dotted-quad IPv4 address as the register takes it (ASCII, at most 15 characters).
pub fn check_ipv4(field: &'static str, s: &str) -> Result<Ipv4Addr, InputError> {
    s.parse::<Ipv4Addr>().map_err(|_| {
        InputError::new(field, format!("{s:?} is not an IPv4 address like 192.168.1.10 (at most 15 characters)"))
    })
}

fn check_mask(field: &'static str, s: &str) -> Result<(), InputError> {
    let m = u32::from(check_ipv4(field, s)?);
    if m.leading_ones() + m.trailing_zeros() != 32 {
        return Err(InputError::new(field, format!("{s:?} is not a subnet mask (ones, then zeros)")));
    }
    Ok(())
}

/// Checks a host name: 1 to 128 characters, labels of letters, digits and '-' (not at either
/// end of a label) separated by dots; an IPv4 address passes too.
pub fn check_host(field: &'static str, s: &str) -> Result<(), InputError> {
    if s.is_empty() {
        return Err(InputError::new(field, "must not be empty"));
    }
    if s.len() > HOST_MAX {
        return Err(InputError::new(field, format!("{} characters is longer than the limit of {HOST_MAX}", s.len())));
    }
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len())
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if !s.trim_end_matches('.').split('.').all(label_ok) {
        return Err(InputError::new(
            field,
            format!(
                "{s:?} is not a host name (Latin letters, digits, '-' and dots, labels of 1 to 63; \
                 write a Cyrillic domain in punycode, xn--…)"
            ),
        ));
    }
    Ok(())
}

fn check_port(field: &'static str, port: u16) -> Result<(), InputError> {
    if port == 0 {
        return Err(InputError::new(field, "0 is not a TCP port (1 to 65535)"));
    }
    Ok(())
}

tlv_body! {
    /// The Ethernet interface's settings: DHCP (30001), address (30002), mask (30003), gateway
    /// (30004), each address as ASCII of at most 15 characters. Data of 0x74, answer to 0x75.
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
    pub struct NetworkSettings {
        /// 0 static address, 1 dynamic (DHCP).
        dhcp: u8 = required byte(tag::USE_DHCP),
        /// IP address.
        ip: Option<String> = optional string(tag::IP_ADDRESS),
        /// Subnet mask.
        mask: Option<String> = optional string(tag::SUBNET_MASK),
        /// Default gateway.
        gateway: Option<String> = optional string(tag::DEFAULT_GATEWAY),
    }
}

impl NetworkSettings {
    /// A static address.
    pub fn fixed(ip: &str, mask: &str, gateway: &str) -> Self {
        Self { dhcp: 0, ip: Some(ip.into()), mask: Some(mask.into()), gateway: Some(gateway.into()), ..Self::default() }
    }

    /// An address from DHCP (no address tags are sent).
    pub fn dhcp() -> Self {
        Self { dhcp: 1, ..Self::default() }
    }

    /// What 0x74 accepts: with a static address, all three addresses and a real mask; with
    /// DHCP, any address given must still be one (an empty one is allowed).
    fn check(&self) -> Result<(), InputError> {
        check_enum("dhcp", self.dhcp, &[0, 1])?;
        let fields = [("ip", &self.ip), ("mask", &self.mask), ("gateway", &self.gateway)];
        for (field, v) in fields {
            match (self.dhcp, v.as_deref()) {
                (0, None | Some("")) => {
                    return Err(InputError::new(field, "required with a static address (dhcp = 0)"))
                }
                (_, None | Some("")) => {}
                (_, Some(s)) if field == "mask" => check_mask(field, s)?,
                (_, Some(s)) => {
                    check_ipv4(field, s)?;
                }
            }
        }
        Ok(())
    }
}

body_response!(NetworkSettings);

no_data_request!(
    /// 0x75 «Запрос сетевых настроек из ККТ».
    GetNetworkSettings = 0x75 => NetworkSettings
);

/// 0x74 «Установить сетевые настройки ККТ».
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetNetworkSettings(pub NetworkSettings);

impl Request for SetNetworkSettings {
    const CODE: u8 = 0x74;
    type Response = Empty;
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        self.0.check()?;
        fields::encode_body(&self.0, (), out)
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        fields::decode_body(data, ()).map(SetNetworkSettings)
    }
}

tlv_body! {
    /// The OFD server: domain name (30040), IP address (30005), TCP port (30006), exchange timer
    /// in seconds (30009). Data of 0x76, answer to 0x77.
    ///
    /// The domain name is required; the IP is optional and used only when the name does not
    /// resolve (v01.05, note to 0x76).
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
    pub struct OfdSettings {
        /// The OFD's domain name (at most 128 characters).
        host: String = required string(tag::OFD_DOMAIN_NAME),
        /// The OFD's IP address (at most 15 characters), if set.
        ip: Option<String> = optional string(tag::OFD_IP_ADDRESS),
        /// TCP port.
        port: u16 = required u16(tag::OFD_TCP_PORT),
        /// Interval of the OFD exchange timer, seconds.
        timer_s: u16 = required u16(tag::OFD_TIMER_INTERVAL),
    }
}

impl OfdSettings {
    /// An OFD server by name.
    pub fn new(host: &str, port: u16, timer_s: u16) -> Self {
        Self { host: host.into(), port, timer_s, ..Self::default() }
    }

    fn check(&self) -> Result<(), InputError> {
        check_host("host", &self.host)?;
        if let Some(ip) = self.ip.as_deref().filter(|s| !s.is_empty()) {
            check_ipv4("ip", ip)?;
        }
        check_port("port", self.port)
    }
}

body_response!(OfdSettings);

no_data_request!(
    /// 0x77 «Запрос настроек ОФД из ККТ».
    GetOfdSettings = 0x77 => OfdSettings
);

/// 0x76 «Установить настройки ОФД в ККТ».
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetOfdSettings(pub OfdSettings);

impl Request for SetOfdSettings {
    const CODE: u8 = 0x76;
    type Response = Empty;
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        self.0.check()?;
        fields::encode_body(&self.0, (), out)
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        fields::decode_body(data, ()).map(SetOfdSettings)
    }
}

tlv_body! {
    /// How the register is controlled: interface (30030) and TCP port (30032). Data of 0x80,
    /// answer to 0x81.
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
    pub struct ControlSettings {
        /// 0 RS-232, 1 Ethernet (TCP/IP).
        interface: u8 = required byte(tag::CONTROL_INTERFACE),
        /// The TCP port the register listens on.
        tcp_port: u16 = required u16(tag::CONTROL_TCP_PORT),
    }
}

impl ControlSettings {
    /// Control over RS-232 (the port value is kept for a later switch to Ethernet).
    pub fn rs232(tcp_port: u16) -> Self {
        Self { interface: 0, tcp_port, ..Self::default() }
    }

    /// Control over Ethernet on `tcp_port`.
    pub fn ethernet(tcp_port: u16) -> Self {
        Self { interface: 1, tcp_port, ..Self::default() }
    }
}

body_response!(ControlSettings);

no_data_request!(
    /// 0x81 «Запрос параметров управления ККТ».
    GetControlSettings = 0x81 => ControlSettings
);

/// 0x80 «Установить параметры управления ККТ». Switching the interface cuts the link the
/// command came over once the register applies it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetControlSettings(pub ControlSettings);

impl Request for SetControlSettings {
    const CODE: u8 = 0x80;
    type Response = Empty;
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        check_enum("interface", self.0.interface, &[0, 1])?;
        if self.0.interface == 1 {
            check_port("tcp_port", self.0.tcp_port)?;
        }
        fields::encode_body(&self.0, (), out)
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        fields::decode_body(data, ()).map(SetControlSettings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::{DecodeErrorKind, Response};
    use proptest::prelude::*;

    #[test]
    fn limits_agree_with_the_tag_table() {
        let max = |t: u16| usize::from(crate::protocol::tag_info(t).unwrap().max_len);
        assert_eq!(HOST_MAX, max(tag::OFD_DOMAIN_NAME));
    }

    fn tlv(tag: u16, value: &[u8]) -> Vec<u8> {
        let mut v = tag.to_le_bytes().to_vec();
        v.extend_from_slice(&(value.len() as u16).to_le_bytes());
        v.extend_from_slice(value);
        v
    }

    fn encoded<R: Request>(r: &R) -> Result<Vec<u8>, InputError> {
        let mut out = Vec::new();
        r.encode(&mut out).map(|_| out)
    }

    fn roundtrip<T: Response + PartialEq + std::fmt::Debug>(data: &[u8]) -> T {
        let v = T::decode(data).unwrap();
        let mut out = Vec::new();
        v.encode(&mut out).unwrap();
        assert_eq!(out, data, "re-encoding differs");
        v
    }

    fn network_bytes() -> Vec<u8> {
        [tlv(30001, &[0]), tlv(30002, b"192.168.10.58"), tlv(30003, b"255.255.255.0"), tlv(30004, b"192.168.10.1")]
            .concat()
    }

    #[test]
    fn network_0x75_answer_and_0x74_request() {
        let data = network_bytes();
        assert_eq!(&data[..5], [0x31, 0x75, 0x01, 0x00, 0x00], "tag 30001 = 0x7531, LE");
        let n: NetworkSettings = roundtrip(&data);
        assert_eq!(n, NetworkSettings::fixed("192.168.10.58", "255.255.255.0", "192.168.10.1"));
        // Built in code, it is written in the documented order: the same bytes.
        assert_eq!(encoded(&SetNetworkSettings(n.clone())).unwrap(), data);
        assert_eq!(SetNetworkSettings::decode(&data).unwrap(), SetNetworkSettings(n));
        // DHCP: only 30001 is needed.
        assert_eq!(encoded(&SetNetworkSettings(NetworkSettings::dhcp())).unwrap(), tlv(30001, &[1]));
        let n: NetworkSettings = roundtrip(&[tlv(30001, &[1]), tlv(30002, b"")].concat());
        assert_eq!((n.dhcp, n.ip.as_deref(), n.mask.as_deref()), (1, Some(""), None));
        assert!(encoded(&SetNetworkSettings(n)).is_ok());
        let e = NetworkSettings::decode(&tlv(30002, b"10.0.0.1")).unwrap_err();
        assert_eq!((e.kind, e.field), (DecodeErrorKind::Value, "dhcp"));
    }

    #[test]
    fn network_0x74_checks_addresses() {
        let cases = [
            (NetworkSettings { ip: None, ..NetworkSettings::fixed("", "255.255.255.0", "10.0.0.1") }, "ip"),
            (NetworkSettings::fixed("10.0.0.256", "255.255.255.0", "10.0.0.1"), "ip"),
            (NetworkSettings::fixed("10.0.0.5", "255.0.255.0", "10.0.0.1"), "mask"),
            (NetworkSettings::fixed("10.0.0.5", "255.255.255.0", "gateway"), "gateway"),
            (NetworkSettings::fixed("10.0.0.5", "255.255.255.0", ""), "gateway"),
            (NetworkSettings { dhcp: 2, ..NetworkSettings::dhcp() }, "dhcp"),
            (NetworkSettings { ip: Some("10.0.0".into()), ..NetworkSettings::dhcp() }, "ip"),
        ];
        for (n, field) in cases {
            let e = encoded(&SetNetworkSettings(n.clone())).unwrap_err();
            assert_eq!(e.field, field, "{n:?}: {e}");
        }
        assert!(encoded(&SetNetworkSettings(NetworkSettings::fixed("10.0.0.5", "255.255.255.252", "10.0.0.1"))).is_ok());
    }

    #[test]
    fn unknown_tags_are_kept_in_place() {
        let data = [tlv(30002, b"10.0.0.5"), tlv(30099, &[7]), tlv(30001, &[0])].concat();
        let n: NetworkSettings = roundtrip(&data);
        assert_eq!(n.extra.raw(30099), Some(&[7][..]));
        let j = serde_json::to_value(&n).unwrap();
        assert_eq!(j["extra"][0]["tag"], 30099);
        assert_eq!(j["mask"], serde_json::Value::Null);
    }

    fn ofd_bytes() -> Vec<u8> {
        [
            tlv(30040, b"connect.ofd-ya.ru"),
            tlv(30005, b"91.107.67.212"),
            tlv(30006, &7779u16.to_le_bytes()),
            tlv(30009, &60u16.to_le_bytes()),
        ]
        .concat()
    }

    #[test]
    fn ofd_0x77_answer_and_0x76_request() {
        let data = ofd_bytes();
        assert_eq!(&data[..4], [0x58, 0x75, 0x11, 0x00], "tag 30040 = 0x7558, 17 bytes");
        let o: OfdSettings = roundtrip(&data);
        let expected =
            OfdSettings { ip: Some("91.107.67.212".into()), ..OfdSettings::new("connect.ofd-ya.ru", 7779, 60) };
        assert_eq!(o, expected);
        assert_eq!(encoded(&SetOfdSettings(o)).unwrap(), data);
        // Without the IP (optional since the domain name is mandatory).
        let data = [tlv(30040, b"ofd.example"), tlv(30006, &[0x5B, 0x1E]), tlv(30009, &[0x3C, 0])].concat();
        let o: OfdSettings = roundtrip(&data);
        assert_eq!(o, OfdSettings::new("ofd.example", 7771, 60));
        assert_eq!(encoded(&SetOfdSettings(o)).unwrap(), data);
        let e = OfdSettings::decode(&[tlv(30040, b"a.ru"), tlv(30006, &[1, 0])].concat()).unwrap_err();
        assert_eq!(e.field, "timer_s");
        let e =
            OfdSettings::decode(&[tlv(30040, b"a.ru"), tlv(30006, &[1]), tlv(30009, &[1, 0])].concat()).unwrap_err();
        assert_eq!((e.kind, e.field), (DecodeErrorKind::Value, "port"));
    }

    #[test]
    fn ofd_0x76_checks_host_ip_and_port() {
        let long = format!("{}.ru", "a".repeat(63) + "." + &"b".repeat(63));
        assert_eq!(long.len(), 130);
        let cases = [
            (OfdSettings::new("", 7779, 60), "host", "empty"),
            (OfdSettings::new(&long, 7779, 60), "host", "128"),
            (OfdSettings::new("ofd example.ru", 7779, 60), "host", "host name"),
            (OfdSettings::new("-ofd.ru", 7779, 60), "host", "host name"),
            (OfdSettings::new("офд.рф", 7779, 60), "host", "host name"),
            (OfdSettings::new("ofd.ru", 0, 60), "port", "65535"),
            (OfdSettings { ip: Some("1.2.3".into()), ..OfdSettings::new("ofd.ru", 7779, 60) }, "ip", "IPv4"),
        ];
        for (o, field, words) in cases {
            let e = encoded(&SetOfdSettings(o)).unwrap_err();
            assert_eq!(e.field, field, "{e}");
            assert!(e.to_string().contains(words), "{e}");
        }
        assert!(encoded(&SetOfdSettings(OfdSettings::new(&"a".repeat(63), 1, 0))).is_ok());
        assert!(encoded(&SetOfdSettings(OfdSettings::new("91.107.67.212", 65535, 60))).is_ok());
    }

    #[test]
    fn control_0x81_answer_and_0x80_request() {
        let data = [tlv(30030, &[1]), tlv(30032, &5555u16.to_le_bytes())].concat();
        assert_eq!(data, [0x4E, 0x75, 1, 0, 1, 0x50, 0x75, 2, 0, 0xB3, 0x15]);
        let c: ControlSettings = roundtrip(&data);
        assert_eq!(c, ControlSettings::ethernet(5555));
        assert_eq!(encoded(&SetControlSettings(c)).unwrap(), data);
        assert!(encoded(&SetControlSettings(ControlSettings::rs232(0))).is_ok());
        let e = encoded(&SetControlSettings(ControlSettings::ethernet(0))).unwrap_err();
        assert_eq!(e.field, "tcp_port");
        let e =
            encoded(&SetControlSettings(ControlSettings { interface: 2, ..ControlSettings::rs232(1) })).unwrap_err();
        assert_eq!(e.field, "interface");
        assert_eq!(ControlSettings::decode(&tlv(30030, &[0])).unwrap_err().field, "tcp_port");
    }

    #[test]
    fn queries_have_no_data() {
        assert!(encoded(&GetNetworkSettings).unwrap().is_empty());
        assert!(encoded(&GetOfdSettings).unwrap().is_empty());
        assert!(encoded(&GetControlSettings).unwrap().is_empty());
        assert_eq!(GetOfdSettings::decode(&[0]).unwrap_err().kind, DecodeErrorKind::Length);
    }

    proptest! {
        #[test]
        fn settings_roundtrip(
            a in any::<[u8; 4]>(),
            prefix in 0u32..=32,
            host in "[a-z0-9]{1,20}(\\.[a-z0-9]{1,20}){0,3}",
            port in 1u16..,
            timer: u16,
            ip in proptest::option::of(any::<[u8; 4]>()),
        ) {
            let ip_s = Ipv4Addr::from(a).to_string();
            let mask = Ipv4Addr::from(u32::MAX.checked_shl(32 - prefix).unwrap_or(0)).to_string();
            let n = NetworkSettings::fixed(&ip_s, &mask, &ip_s);
            let b = encoded(&SetNetworkSettings(n.clone())).unwrap();
            prop_assert_eq!(SetNetworkSettings::decode(&b).unwrap().0, n);

            let o = OfdSettings { ip: ip.map(|a| Ipv4Addr::from(a).to_string()), ..OfdSettings::new(&host, port, timer) };
            let b = encoded(&SetOfdSettings(o.clone())).unwrap();
            prop_assert_eq!(SetOfdSettings::decode(&b).unwrap().0, o);

            let c = ControlSettings::ethernet(port);
            let b = encoded(&SetControlSettings(c.clone())).unwrap();
            prop_assert_eq!(SetControlSettings::decode(&b).unwrap().0, c);
        }
    }
}
