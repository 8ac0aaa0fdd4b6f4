//! Commands about the open document as a whole (v01.05).

use super::{no_data_request, Empty};

no_data_request!(
    /// 0x10 «Отменить любой открытый документ в ККТ»: drops the document begun and every datum
    /// sent for it. Nothing is formed; with no document open the register may refuse it.
    CancelDocument = 0x10 => Empty
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::{DecodeErrorKind, Request, Response};

    #[test]
    fn cancel_0x10_has_no_data_either_way() {
        let mut out = Vec::new();
        CancelDocument.encode(&mut out).unwrap();
        assert!(out.is_empty());
        assert_eq!(CancelDocument::decode(&[]).unwrap(), CancelDocument);
        assert_eq!(CancelDocument::decode(&[0]).unwrap_err().kind, DecodeErrorKind::Length);
        assert_eq!(<CancelDocument as Request>::Response::decode(&[]).unwrap(), Empty);
        assert_eq!(Empty::decode(&[1]).unwrap_err().kind, DecodeErrorKind::Length);
    }
}
