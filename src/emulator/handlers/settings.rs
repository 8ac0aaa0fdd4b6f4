//! Settings: the FN's format (0x0F), the OFD (0x76/0x77), the OISM (0x82/0x83) and key update
//! (0x84/0x85) hosts, the service parameters (0xA2) and the activation code (0xDD).

use super::{Cx, Handled};
use crate::commands::info::Text;
use crate::commands::network::{GetOfdSettings, OfdSettings, SetOfdSettings};
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
