//! Settings: the FN's format (0x0F), the Ethernet interface (0x74/0x75), the OFD (0x76/0x77),
//! the control interface (0x80/0x81), the OISM (0x82/0x83) and key update (0x84/0x85) hosts, the
//! service parameters (0xA2) and the activation code (0xDD). What is set is kept in the state.

use super::{Cx, Handled};
use crate::commands::info::Text;
use crate::commands::network::{
    ControlSettings, GetControlSettings, GetNetworkSettings, GetOfdSettings, NetworkSettings, OfdSettings,
    SetControlSettings, SetNetworkSettings, SetOfdSettings,
};
use crate::commands::settings::*;
use crate::commands::Empty;
use crate::emulator::register::Register;
use crate::protocol::err;

pub(super) fn fn_format(r: &mut Register, _: GetFnFormat, _: &mut Cx) -> Handled<FnFormat> {
    Ok(FnFormat { ffd: r.state.ffd, ffd_supported: 4 })
}

pub(super) fn set_ofd(r: &mut Register, req: SetOfdSettings, _: &mut Cx) -> Handled<Empty> {
    if req.0.host.is_empty() {
        return Err(err::BAD_PARAMETER);
    }
    r.state.ofd = (req.0.host, req.0.port, req.0.timer_s);
    Ok(Empty)
}

pub(super) fn ofd(r: &mut Register, _: GetOfdSettings, _: &mut Cx) -> Handled<OfdSettings> {
    let (h, p, t) = &r.state.ofd;
    Ok(OfdSettings::new(h, *p, *t))
}

pub(super) fn set_oism_host(r: &mut Register, req: SetOismHost, _: &mut Cx) -> Handled<Empty> {
    if req.0.address.is_empty() {
        return Err(err::BAD_PARAMETER);
    }
    r.state.oism_host = (req.0.address, req.0.port, req.0.timeout_s);
    Ok(Empty)
}

pub(super) fn oism_host(r: &mut Register, _: GetOismHost, _: &mut Cx) -> Handled<OismHost> {
    let (a, p, to) = &r.state.oism_host;
    Ok(OismHost::new(a, *p, *to))
}

pub(super) fn set_key_host(r: &mut Register, req: SetKeyUpdateHost, _: &mut Cx) -> Handled<Empty> {
    if req.0.address.is_empty() {
        return Err(err::BAD_PARAMETER);
    }
    r.state.key_host = (req.0.address, req.0.port);
    Ok(Empty)
}

pub(super) fn key_host(r: &mut Register, _: GetKeyUpdateHost, _: &mut Cx) -> Handled<KeyUpdateHost> {
    let (a, p) = &r.state.key_host;
    Ok(KeyUpdateHost::new(a, *p))
}

pub(super) fn service_params(r: &mut Register, _: GetServiceParams, _: &mut Cx) -> Handled<Text> {
    // `kkt demo` recognises the virtual register by this prefix.
    Ok(Text { text: format!("KKT-EMULATOR {} FFD=1.2 FN={}", env!("CARGO_PKG_VERSION"), r.state.fn_number) })
}

pub(super) fn activate(r: &mut Register, req: EnterActivationCode, _: &mut Cx) -> Handled<Empty> {
    if !req.code.iter().all(u8::is_ascii_alphanumeric) {
        return Err(err::BAD_ACTIVATION_CODE);
    }
    match &r.options.activation_code {
        Some(c) if c.as_bytes() == req.code => {
            r.state.activated = true;
            Ok(Empty)
        }
        Some(_) => Err(err::ACTIVATION_REQUIRED),
        None => Ok(Empty),
    }
}

/// 0x75: the Ethernet settings as set (with DHCP, the emulated lease is the last static address).
pub(super) fn network(r: &mut Register, _: GetNetworkSettings, _: &mut Cx) -> Handled<NetworkSettings> {
    let n = &r.state.network;
    Ok(NetworkSettings {
        dhcp: n.dhcp,
        ip: Some(n.ip.clone()),
        mask: Some(n.mask.clone()),
        gateway: Some(n.gateway.clone()),
        ..NetworkSettings::default()
    })
}

/// 0x74: a static address needs all three addresses, each a dotted quad, and a real mask; with
/// DHCP an address given is kept for the emulated lease.
pub(super) fn set_network(r: &mut Register, req: SetNetworkSettings, _: &mut Cx) -> Handled<Empty> {
    let n = req.0;
    if n.dhcp > 1 {
        return Err(err::BAD_PARAMETER);
    }
    let given = |v: &Option<String>| v.as_deref().filter(|s| !s.is_empty()).map(str::to_string);
    let (ip, mask, gateway) = (given(&n.ip), given(&n.mask), given(&n.gateway));
    for v in [&ip, &gateway].into_iter().flatten() {
        if v.len() > 15 || v.parse::<std::net::Ipv4Addr>().is_err() {
            return Err(err::BAD_PARAMETER);
        }
    }
    if let Some(m) = &mask {
        let bits = m.parse::<std::net::Ipv4Addr>().map(u32::from).map_err(|_| err::BAD_PARAMETER)?;
        if bits.leading_ones() + bits.trailing_zeros() != 32 {
            return Err(err::BAD_PARAMETER);
        }
    }
    if n.dhcp == 0 && (ip.is_none() || mask.is_none() || gateway.is_none()) {
        return Err(err::BAD_PARAMETER);
    }
    let s = &mut r.state.network;
    s.dhcp = n.dhcp;
    if let Some(v) = ip {
        s.ip = v;
    }
    if let Some(v) = mask {
        s.mask = v;
    }
    if let Some(v) = gateway {
        s.gateway = v;
    }
    Ok(Empty)
}

/// 0x81: the control interface.
pub(super) fn control(r: &mut Register, _: GetControlSettings, _: &mut Cx) -> Handled<ControlSettings> {
    let c = &r.state.control;
    Ok(ControlSettings { interface: c.interface, tcp_port: c.tcp_port, ..ControlSettings::default() })
}

/// 0x80: kept (the emulator goes on serving where it listens: the switch is for the real
/// register's next start).
pub(super) fn set_control(r: &mut Register, req: SetControlSettings, _: &mut Cx) -> Handled<Empty> {
    if req.0.interface > 1 || (req.0.interface == 1 && req.0.tcp_port == 0) {
        return Err(err::BAD_PARAMETER);
    }
    r.state.control.interface = req.0.interface;
    r.state.control.tcp_port = req.0.tcp_port;
    Ok(Empty)
}
