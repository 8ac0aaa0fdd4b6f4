//! What the virtual register does with each command: one handler per typed request, in files
//! by command group, and `TABLE`, the one place that says which commands it answers, which
//! it answers only after the activation code (0xDD), and which it refuses as commands it does
//! not know.
//!
//! A handler takes the decoded request (a [`crate::commands`] type) and gives its typed
//! response or the device error code. The table is built from the same types as the commands'
//! registry, so a command without a type cannot be dispatched, and a test proves that every
//! command of `protocol/commands.tsv` has its row.

use std::time::Duration;

use chrono::NaiveDateTime;

use super::register::Register;
use crate::commands::{self, DecodeError, DecodeErrorKind, Request, Response};
use crate::protocol::err;

mod archive;
mod cash;
mod info;
mod marking;
mod printer;
mod receipt;
mod registration;
mod report;
mod settings;
mod shift;

/// What a handler knows besides the request: the device's time, and the extra time the
/// command takes (a key update, the OISM's answer), which the handler adds to.
#[derive(Debug)]
pub(crate) struct Cx {
    /// The device's clock.
    pub t: NaiveDateTime,
    /// Simulated time beyond the line and the command's usual latency.
    pub extra: Duration,
}

/// A handler's answer: the typed response, or the error code.
type Handled<T> = Result<T, u8>;

/// The DATA of a successful answer, or the error code.
pub(crate) type Answer = Result<Vec<u8>, u8>;

/// Decodes the request's DATA, runs its handler, encodes the response.
type Run = fn(&mut Register, &[u8], &mut Cx) -> Answer;

/// What the register does with a command.
#[derive(Clone, Copy)]
pub(crate) enum Access {
    /// Answered.
    Answered(Run),
    /// Answered once the activation code is entered (when the options set one); until then
    /// 0xDD «требуется активация».
    Gated(Run),
    /// A ФФД 1.05 command of v01.05, or 0x40 (the reset of an FN mock-up, debug firmware only):
    /// this register works with ФФД 1.2 (seed 004), which replaced them, and models a real FN,
    /// so it refuses them as commands it does not know, 0x26 «Неизвестная команда» (seed 004
    /// Приложение 3 has no other code for a command of another FFD).
    Legacy,
    /// Not modelled: 0x26. (The cash report, the activation totals, the reset of the cash
    /// counters.)
    NotModelled,
}

impl Access {
    const fn answers(&self) -> bool {
        matches!(self, Access::Answered(_) | Access::Gated(_))
    }
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Access::Answered(_) => "Answered",
            Access::Gated(_) => "Gated",
            Access::Legacy => "Legacy",
            Access::NotModelled => "NotModelled",
        })
    }
}

/// One row of the dispatch table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    /// The command code (the request type's [`Request::CODE`]).
    pub code: u8,
    /// What the register does with it.
    pub access: Access,
}

/// The device error code of a request that does not decode.
pub(crate) fn decode_error_code(e: &DecodeError) -> u8 {
    match e.kind {
        DecodeErrorKind::Length => err::BAD_LENGTH,
        DecodeErrorKind::Tlv => err::BAD_FRAME,
        DecodeErrorKind::Value => err::BAD_PARAMETER,
    }
}

/// The DATA of a typed answer.
pub(crate) fn encode<T: Response>(v: &T) -> Answer {
    let mut out = Vec::new();
    v.encode(&mut out).map_err(|_| err::BAD_PARAMETER)?;
    Ok(out)
}

/// A row: `row!(Type => handler)`, `row!(Type => handler, gated)`, with `decode_error = f` to
/// answer a request that does not decode with another code than [`decode_error_code`];
/// `row!(Type, legacy)`, `row!(Type, not_modelled)`.
macro_rules! row {
    (@run $req:ty, $handler:path, $map:path) => {
        |reg: &mut Register, data: &[u8], cx: &mut Cx| -> Answer {
            let req = <$req as Request>::decode(data).map_err(|e| $map(&e))?;
            let resp: <$req as Request>::Response = $handler(reg, req, cx)?;
            encode(&resp)
        }
    };
    ($req:ty => $handler:path) => {
        Entry { code: <$req as Request>::CODE, access: Access::Answered(row!(@run $req, $handler, decode_error_code)) }
    };
    ($req:ty => $handler:path, decode_error = $map:path) => {
        Entry { code: <$req as Request>::CODE, access: Access::Answered(row!(@run $req, $handler, $map)) }
    };
    ($req:ty => $handler:path, gated) => {
        Entry { code: <$req as Request>::CODE, access: Access::Gated(row!(@run $req, $handler, decode_error_code)) }
    };
    ($req:ty => $handler:path, gated, decode_error = $map:path) => {
        Entry { code: <$req as Request>::CODE, access: Access::Gated(row!(@run $req, $handler, $map)) }
    };
    ($req:ty, legacy) => {
        Entry { code: <$req as Request>::CODE, access: Access::Legacy }
    };
    ($req:ty, not_modelled) => {
        Entry { code: <$req as Request>::CODE, access: Access::NotModelled }
    };
}

use commands::{
    archive as a, cash as c, document as d, info as i, marking as m, network as n, printer as p, receipt as r,
    registration as g, report as o, settings as s, shift as h,
};

/// Every command of the table: what the register does with it.
pub(crate) const TABLE: &[Entry] = &[
    // Information.
    row!(i::GetStatus => info::status),
    row!(i::GetSerial => info::serial),
    row!(i::GetFirmwareVersion => info::firmware),
    row!(i::GetModel => info::model),
    row!(i::GetFnSerial => info::fn_serial),
    row!(i::GetFnFirmwareVersion => info::fn_firmware),
    row!(i::GetFnValidity => info::fn_validity),
    row!(i::GetFnStatus => info::fn_status),
    row!(i::GetFnErrors => info::fn_errors),
    row!(i::GetRegistration => info::registration),
    row!(i::GetConfigVersion => info::config_version),
    row!(i::GetTcpIp => info::tcp_ip),
    row!(i::GetOfdExchangeStatus => info::ofd_status),
    row!(i::SetDateTime => info::set_datetime),
    row!(i::GetDateTime => info::datetime),
    row!(i::GetLineWidth => info::line_width),
    // The shift.
    row!(h::GetShiftParams => shift::params),
    row!(h::BeginShiftOpen => shift::begin_open),
    row!(h::ShiftOpenData => shift::open_data),
    row!(h::OpenShift => shift::open),
    row!(h::BeginShiftClose => shift::begin_close),
    row!(h::ShiftCloseData => shift::close_data),
    row!(h::CloseShift => shift::close),
    // Receipts.
    row!(d::CancelDocument => receipt::cancel),
    row!(r::OpenReceipt => receipt::open),
    row!(r::OpenCorrectionReceipt => receipt::open_correction),
    row!(r::UnmarkedItem => receipt::item, gated),
    row!(r::MarkedItem => receipt::marked_item, gated, decode_error = receipt::marked_item_decode_error),
    row!(r::ReceiptRequisites => receipt::requisites, gated),
    row!(r::Payment => receipt::payment),
    row!(r::FormReceipt => receipt::form),
    row!(r::FormCorrectionReceipt => receipt::form_correction),
    // Marked goods.
    row!(m::GetMarkingStatus => marking::status),
    row!(m::CheckMarkLocal => marking::check_local, gated),
    row!(m::CheckMarkOnline => marking::check_online, gated),
    row!(m::KeepMarkCheck => marking::keep, gated),
    row!(m::ClearMarkChecks => marking::clear, gated),
    row!(m::GetFnMemory => marking::fn_memory),
    row!(m::GetNotificationState => marking::notifications),
    // The archive.
    row!(a::FindDocument => archive::find),
    row!(a::ReadDocumentAsTlv => archive::read_tlv),
    row!(a::PrintOfdConfirmation => archive::ofd_confirmation),
    row!(a::GetUnconfirmedCount => archive::unconfirmed),
    row!(a::GetActivationTotals, not_modelled),
    row!(a::RequestDocumentTlv => archive::request_tlv),
    row!(a::ReadDocumentTlv => archive::read_next_tlv),
    row!(a::PrintDocument => archive::print_copy),
    row!(a::ReadRegistrationTlv => archive::read_registration),
    // Cash.
    row!(c::GetCashTotals => cash::totals),
    row!(c::CashIn => cash::cash_in),
    row!(c::CashOut => cash::cash_out),
    row!(c::ResetCashCounters, not_modelled),
    row!(c::PrintCashReport, not_modelled),
    // The printer.
    row!(p::PrintLine => printer::line),
    row!(p::Cut => printer::cut),
    row!(p::PrintQr => printer::qr),
    row!(p::PrintBarcode => printer::barcode),
    row!(p::WriteFormattedLines => printer::write_buffer, decode_error = printer::buffer_decode_error),
    row!(p::PrintBuffer => printer::print_buffer),
    row!(p::GetPrintSettings => printer::settings),
    row!(p::SetPrintSettings => printer::set_settings),
    // Settings.
    row!(s::GetFnFormat => settings::fn_format),
    row!(n::SetOfdSettings => settings::set_ofd),
    row!(n::GetOfdSettings => settings::ofd),
    row!(s::SetOismHost => settings::set_oism_host),
    row!(s::GetOismHost => settings::oism_host),
    row!(s::SetKeyUpdateHost => settings::set_key_host),
    row!(s::GetKeyUpdateHost => settings::key_host),
    row!(s::GetServiceParams => settings::service_params),
    row!(s::EnterActivationCode => settings::activate),
    row!(n::GetNetworkSettings => settings::network),
    row!(n::SetNetworkSettings => settings::set_network),
    row!(n::GetControlSettings => settings::control),
    row!(n::SetControlSettings => settings::set_control),
    // Reports.
    row!(o::BeginSettlementReport => report::begin_settlement),
    row!(o::SettlementReportData => report::settlement_data),
    row!(o::FormSettlementReport => report::form_settlement),
    row!(o::BeginFnClose => report::begin_fn_close),
    row!(o::FnCloseData => report::fn_close_data),
    row!(o::FormFnClose => report::form_fn_close),
    // Registration.
    row!(g::BeginRegistration => registration::begin, gated),
    row!(g::RegistrationData => registration::data, gated),
    row!(g::FormRegistration => registration::form, gated),
    // ФФД 1.05 and the FN mock-up.
    row!(g::BeginRegistration105, legacy),
    row!(g::FormRegistration105, legacy),
    row!(g::RegistrationData105, legacy),
    row!(r::ReceiptAutomatData, legacy),
    row!(r::CorrectionAutomatData, legacy),
    row!(r::Item105, legacy),
    row!(r::AgentData, legacy),
    row!(r::CorrectionData105, legacy),
    row!(h::CashierData, legacy),
    row!(a::GetActivationParameter, legacy),
    row!(s::ResetMockFn, legacy),
];

/// The row of each code (`u8::MAX`: none). Building it fails the compilation if a code has
/// two rows.
const INDEX: [u8; 256] = {
    assert!(TABLE.len() < u8::MAX as usize);
    let mut index = [u8::MAX; 256];
    let mut i = 0;
    while i < TABLE.len() {
        assert!(index[TABLE[i].code as usize] == u8::MAX, "a command with two rows");
        index[TABLE[i].code as usize] = i as u8;
        i += 1;
    }
    index
};

/// The row of command `code`.
pub(crate) fn entry(code: u8) -> Option<&'static Entry> {
    TABLE.get(usize::from(INDEX[usize::from(code)]))
}

/// A set of rows, for the lists below.
#[derive(Clone, Copy)]
enum Rows {
    /// Answered (gated or not).
    Answered,
    /// Answered only after activation.
    Gated,
    /// Refused as ФФД 1.05.
    Legacy,
}

impl Rows {
    const fn holds(self, a: &Access) -> bool {
        match self {
            Rows::Answered => a.answers(),
            Rows::Gated => matches!(a, Access::Gated(_)),
            Rows::Legacy => matches!(a, Access::Legacy),
        }
    }

    const fn count(self) -> usize {
        let mut n = 0;
        let mut i = 0;
        while i < TABLE.len() {
            if self.holds(&TABLE[i].access) {
                n += 1;
            }
            i += 1;
        }
        n
    }

    /// The codes of the rows, in the table's order (`N` is [`Rows::count`]).
    const fn codes<const N: usize>(self) -> [u8; N] {
        let mut out = [0u8; N];
        let mut n = 0;
        let mut i = 0;
        while i < TABLE.len() {
            if self.holds(&TABLE[i].access) {
                out[n] = TABLE[i].code;
                n += 1;
            }
            i += 1;
        }
        out
    }
}

/// Commands this register answers (some only after activation, [`GATED`]); anything else is
/// 0x26.
pub const COMMANDS: &[u8] = &Rows::Answered.codes::<{ Rows::Answered.count() }>();

/// Commands closed until the activation code is entered (when the options set one).
pub const GATED: &[u8] = &Rows::Gated.codes::<{ Rows::Gated.count() }>();

/// The ФФД 1.05 commands of v01.05 and 0x40 (the FN mock-up's reset), refused as commands the
/// register does not know (0x26): it works with ФФД 1.2 (seed 004) and models a real FN.
pub const REFUSED_LEGACY: &[u8] = &Rows::Legacy.codes::<{ Rows::Legacy.count() }>();

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::cmd;

    #[test]
    fn the_table_covers_the_command_table() {
        let missing: Vec<String> = crate::protocol::tables::commands()
            .iter()
            .filter(|c| entry(c.code).is_none())
            .map(|c| format!("{:#04x} {}", c.code, c.name_en))
            .collect();
        assert!(missing.is_empty(), "commands the emulator's table does not say what to do with: {missing:?}");
        assert_eq!(TABLE.len(), crate::protocol::tables::commands().len());
        for e in TABLE {
            assert!(commands::TYPED_CODES.contains(&e.code), "{:#04x} has a row but no type", e.code);
            assert_eq!(entry(e.code).map(|x| x.code), Some(e.code));
            assert_eq!(COMMANDS.contains(&e.code), e.access.answers(), "{:#04x}", e.code);
        }
        assert!(entry(0x11).is_none() && entry(0xFF).is_none());
    }

    #[test]
    fn answered_gated_and_refused() {
        for c in GATED {
            assert!(COMMANDS.contains(c) && !REFUSED_LEGACY.contains(c));
        }
        let mut gated = GATED.to_vec();
        gated.sort_unstable();
        assert_eq!(
            gated,
            [
                cmd::CHECK_MARK,
                cmd::CHECK_MARK_ONLINE,
                cmd::KEEP_MARK_CHECK,
                cmd::CLEAR_MARK_CHECKS,
                cmd::ITEM,
                cmd::MARKED_ITEM,
                cmd::RECEIPT_REQUISITES,
                cmd::BEGIN_REGISTRATION,
                cmd::REGISTRATION_DATA,
                cmd::FORM_REGISTRATION
            ]
        );
        let mut legacy = REFUSED_LEGACY.to_vec();
        legacy.sort_unstable();
        assert_eq!(legacy, [0x12, 0x13, 0x16, 0x1F, 0x2B, 0x2C, 0x2E, 0x2F, 0x34, 0x3F, 0x40]);
        // The commands the register answers (a regression pin; 0x31, 0x32, 0x35, 0x36, 0x39 and
        // 0x3B were added with the archive of issue 16; issue 17 added the network, print and
        // control settings, 0x74/0x75, 0x78/0x79, 0x80/0x81).
        let mut answered = COMMANDS.to_vec();
        answered.sort_unstable();
        assert_eq!(
            answered,
            [
                0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0E, 0x0F, 0x10, 0x14, 0x15, 0x17,
                0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x2D, 0x30, 0x31, 0x32, 0x35, 0x36,
                0x39, 0x3A, 0x3B, 0x50, 0x61, 0x62, 0x63, 0x64, 0x65, 0x69, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78,
                0x79, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x90, 0x91, 0x92, 0x94, 0x95, 0x96, 0x97, 0x98, 0x9D, 0x9E,
                0xA2, 0xB0, 0xB3, 0xB4, 0xBB, 0xDD, 0xE1, 0xE2, 0xE3, 0xE4, 0xE5, 0xE6
            ]
        );
    }
}
