//! Cash in the drawer: totals (0xB0), cash in (0xB3) and out (0xB4).

use super::{Cx, Handled};
use crate::commands::cash::*;
use crate::commands::Empty;
use crate::emulator::register::Register;
use crate::protocol::err;
use crate::session::SessionState;

pub(super) fn totals(r: &mut Register, _: GetCashTotals, _: &mut Cx) -> Handled<CashTotals> {
    Ok(CashTotals { cash: r.state.cash, electronic: r.state.electronic })
}

pub(super) fn cash_in(r: &mut Register, req: CashIn, _: &mut Cx) -> Handled<Empty> {
    r.need_fiscal()?;
    r.state.session = r.order(SessionState::cash_in)?;
    r.state.cash = r.state.cash.saturating_add(req.amount);
    Ok(Empty)
}

pub(super) fn cash_out(r: &mut Register, req: CashOut, _: &mut Cx) -> Handled<Empty> {
    r.need_fiscal()?;
    let next = r.order(SessionState::cash_out)?;
    if req.amount > r.state.cash {
        return Err(err::CASH_SHORT);
    }
    r.state.session = next;
    r.state.cash -= req.amount;
    Ok(Empty)
}
