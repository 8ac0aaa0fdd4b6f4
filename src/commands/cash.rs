//! Money counters of v01.05 («Счетчики денежных средств»): cash and electronic totals since
//! the shift opened (0xB0), resetting them (0xB1), the information report (0xB2), and cash in
//! and out (0xB3, 0xB4). Sums are integer kopecks.

use serde::Serialize;

use super::{no_data_request, DecodeError, DecodeErrorKind, Empty, InputError, Reader, Request, Response};
use crate::protocol::types::{self, U40_MAX};

no_data_request!(
    /// 0xB0 «Запрос суммы наличных (электронных)»: the register's money counters since the
    /// shift opened (receipts, corrections, cash in and out).
    GetCashTotals = 0xB0 => CashTotals
);

/// Answer to 0xB0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CashTotals {
    /// Cash in the drawer, kopecks, UINT40.
    pub cash: u64,
    /// Electronic payments through the register, kopecks, UINT40.
    pub electronic: u64,
}

impl Response for CashTotals {
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let v = CashTotals { cash: r.u40("cash")?, electronic: r.u40("electronic")? };
        r.end("data")?;
        Ok(v)
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        types::encode_u40(self.cash, out).map_err(|e| InputError::new("cash", e.to_string()))?;
        types::encode_u40(self.electronic, out).map_err(|e| InputError::new("electronic", e.to_string()))
    }
}

no_data_request!(
    /// 0xB1 «Сброс счетчика денег»: zeroes the money counters kept since the shift opened.
    ResetCashCounters = 0xB1 => Empty
);

no_data_request!(
    /// 0xB2 «Печать информационного отчета»: prints the money operations since the shift
    /// opened (no fiscal document).
    PrintCashReport = 0xB2 => Empty
);

/// Checks a cash sum: more than 0 and within the UINT40 counters of 0xB0.
fn check_amount(amount: u64) -> Result<(), InputError> {
    if amount == 0 {
        return Err(InputError::new("amount", "0 kopecks: the sum must be at least 1 kopeck"));
    }
    if amount > U40_MAX {
        return Err(InputError::new(
            "amount",
            format!("{amount} kopecks is over the register's counter limit of {U40_MAX} (UINT40)"),
        ));
    }
    Ok(())
}

/// Reads a sum sent as VLN (the whole data).
fn read_amount(data: &[u8]) -> Result<u64, DecodeError> {
    if data.is_empty() {
        return Err(DecodeError::new(DecodeErrorKind::Length, "amount", 0, "needs the sum (VLN), got no data"));
    }
    types::decode_vln(data).map_err(|e| DecodeError::new(DecodeErrorKind::Length, "amount", 0, e))
}

/// Defines a cash movement request: the sum in kopecks as VLN.
macro_rules! cash_request {
    ($(#[$m:meta])* $name:ident = $code:expr) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
        pub struct $name {
            /// Sum in kopecks (1 to 2^40 − 1).
            pub amount: u64,
        }

        impl Request for $name {
            const CODE: u8 = $code;
            type Response = Empty;

            fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
                check_amount(self.amount)?;
                types::encode_vln(self.amount, out);
                Ok(())
            }

            fn decode(data: &[u8]) -> Result<Self, DecodeError> {
                Ok($name { amount: read_amount(data)? })
            }
        }
    };
}

cash_request!(
    /// 0xB3 «Внесение наличных денежных средств» (shift must be open).
    CashIn = 0xB3
);

cash_request!(
    /// 0xB4 «Выплата наличных денежных средств» (shift must be open; not more than the cash
    /// in the drawer, else error 0x42).
    CashOut = 0xB4
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bytes<R: Request>(r: &R) -> Result<Vec<u8>, InputError> {
        let mut out = Vec::new();
        r.encode(&mut out).map(|_| out)
    }

    #[test]
    fn totals_0xb0_two_uint40() {
        // 1234567.89 RUB cash (0x075BCD15 kopecks), 150.00 RUB electronic.
        let data = [0x15, 0xCD, 0x5B, 0x07, 0x00, 0x98, 0x3A, 0x00, 0x00, 0x00];
        let t = CashTotals::decode(&data).unwrap();
        assert_eq!(t, CashTotals { cash: 123_456_789, electronic: 15_000 });
        let mut out = Vec::new();
        t.encode(&mut out).unwrap();
        assert_eq!(out, data);
        assert_eq!(serde_json::to_value(t).unwrap(), serde_json::json!({"cash": 123_456_789, "electronic": 15_000}));
        let e = CashTotals::decode(&data[..9]).unwrap_err();
        assert_eq!((e.kind, e.field, e.offset), (DecodeErrorKind::Length, "electronic", 5));
        assert_eq!(CashTotals::decode(&[0; 11]).unwrap_err().kind, DecodeErrorKind::Length);
        let e = CashTotals { cash: 0, electronic: U40_MAX + 1 }.encode(&mut Vec::new()).unwrap_err();
        assert_eq!(e.field, "electronic");
    }

    #[test]
    fn no_data_requests() {
        assert!(bytes(&GetCashTotals).unwrap().is_empty());
        assert!(bytes(&ResetCashCounters).unwrap().is_empty());
        assert!(bytes(&PrintCashReport).unwrap().is_empty());
        assert_eq!(ResetCashCounters::decode(&[0]).unwrap_err().kind, DecodeErrorKind::Length);
    }

    #[test]
    fn cash_in_out_0xb3_0xb4_vln() {
        // Приложение 8: VLN 98 3A = 15000 (150.00 RUB).
        assert_eq!(bytes(&CashIn { amount: 15_000 }).unwrap(), [0x98, 0x3A]);
        assert_eq!(CashIn::decode(&[0x98, 0x3A]).unwrap(), CashIn { amount: 15_000 });
        assert_eq!(bytes(&CashOut { amount: 1 }).unwrap(), [0x01]);
        assert_eq!(bytes(&CashOut { amount: U40_MAX }).unwrap(), [0xFF; 5]);
        for amount in [0, U40_MAX + 1, u64::MAX] {
            let e = CashIn { amount }.encode(&mut Vec::new()).unwrap_err();
            assert_eq!(e.field, "amount", "{amount}");
            assert!(CashOut { amount }.encode(&mut Vec::new()).is_err());
        }
        let e = CashOut::decode(&[]).unwrap_err();
        assert_eq!((e.kind, e.field), (DecodeErrorKind::Length, "amount"));
        assert_eq!(CashOut::decode(&[1; 9]).unwrap_err().kind, DecodeErrorKind::Length);
    }

    proptest! {
        #[test]
        fn cash_requests_roundtrip(amount in 1..=U40_MAX) {
            let b = bytes(&CashIn { amount }).unwrap();
            prop_assert_eq!(b.len(), types::vln_len(amount));
            prop_assert_eq!(CashIn::decode(&b).unwrap(), CashIn { amount });
            let b = bytes(&CashOut { amount }).unwrap();
            prop_assert_eq!(CashOut::decode(&b).unwrap(), CashOut { amount });
        }

        #[test]
        fn cash_totals_roundtrip(cash in 0..=U40_MAX, electronic in 0..=U40_MAX) {
            let t = CashTotals { cash, electronic };
            let mut out = Vec::new();
            t.encode(&mut out).unwrap();
            prop_assert_eq!(out.len(), 10);
            prop_assert_eq!(CashTotals::decode(&out).unwrap(), t);
        }
    }
}
