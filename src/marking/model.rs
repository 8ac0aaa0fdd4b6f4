//! What ГИС МТ's `/codes/check` (seed 003 §1.5) and the Local Module's `/cis/outCheck` answer,
//! read leniently: every field optional, `null` as absent, numbers as JSON numbers or strings,
//! the tobacco price as `mrp` or `mpr` (real services send `mrp`, the methodology writes `mpr`).

use serde::{Deserialize, Deserializer, Serialize};

/// One code's information from a check answer.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CodeInfo {
    /// The code from the request (ГИС МТ drops the GS).
    pub cis: Option<String>,
    /// The code without its crypto part.
    pub print_view: Option<String>,
    /// The GTIN.
    pub gtin: Option<String>,
    /// Product groups (seed 003 §1.5.1: 3 tobacco, 8 milk, 13 water, 15 beer, …).
    #[serde(deserialize_with = "lenient_u32_list")]
    pub group_ids: Option<Vec<u32>>,
    /// Code structure valid.
    pub valid: Option<bool>,
    /// Crypto check passed.
    pub verified: Option<bool>,
    /// Found in ГИС МТ.
    pub found: Option<bool>,
    /// In circulation («в обороте»).
    pub realizable: Option<bool>,
    /// Applied to a package.
    pub utilised: Option<bool>,
    /// Withdrawn from circulation.
    pub sold: Option<bool>,
    /// Blocked by an authority.
    pub is_blocked: Option<bool>,
    /// The authorities that blocked it.
    #[serde(deserialize_with = "lenient_string_list")]
    pub ogvs: Option<Vec<String>>,
    /// Expiry date and time.
    pub expire_date: Option<String>,
    /// Variable expiry dates (dairy).
    pub variable_expirations: Option<serde_json::Value>,
    /// Production date.
    pub production_date: Option<String>,
    /// Error code for this code (0 none).
    #[serde(deserialize_with = "lenient_i64")]
    pub error_code: Option<i64>,
    /// Error text.
    pub message: Option<String>,
    /// Tracking enabled for the group.
    pub is_tracking: Option<bool>,
    /// Why it was withdrawn (1 samples/distance, 2 own needs).
    #[serde(deserialize_with = "lenient_i64")]
    pub elimination_state: Option<i64>,
    /// Tobacco MRP, kopecks, as `mrp`.
    #[serde(deserialize_with = "lenient_u64")]
    pub mrp: Option<u64>,
    /// Tobacco MRP, kopecks, as the methodology spells it (`mpr`).
    #[serde(deserialize_with = "lenient_u64")]
    pub mpr: Option<u64>,
    /// The lowest single minimum price (ЕМЦ), kopecks.
    #[serde(deserialize_with = "lenient_u64")]
    pub smp: Option<u64>,
    /// Tobacco in the "gray zone" (temporarily untraceable).
    pub gray_zone: Option<bool>,
    /// UNIT, GROUP, BUNDLE, SET.
    pub package_type: Option<String>,
    /// Producer's INN.
    pub producer_inn: Option<String>,
    /// The requester owns the code.
    pub is_owner: Option<bool>,
    /// Aggregate code.
    pub parent: Option<String>,
    /// Units / volume / weight in the package.
    #[serde(deserialize_with = "lenient_i64")]
    pub inner_unit_count: Option<i64>,
    /// Units / volume / weight sold.
    #[serde(deserialize_with = "lenient_i64")]
    pub sold_unit_count: Option<i64>,
}

impl CodeInfo {
    /// The tobacco MRP from the service, whichever spelling it used.
    pub fn service_mrp(&self) -> Option<u64> {
        self.mrp.or(self.mpr)
    }

    /// True when the groups are known and include `group`.
    pub fn in_group(&self, group: u32) -> bool {
        self.group_ids.as_ref().is_some_and(|g| g.contains(&group))
    }
}

/// A whole check answer (ГИС МТ or the Local Module).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CheckAnswer {
    /// 0 = success.
    #[serde(deserialize_with = "lenient_i64")]
    pub code: Option<i64>,
    /// "ok" or an error text.
    pub description: Option<String>,
    /// One entry per requested code.
    #[serde(deserialize_with = "lenient_codes")]
    pub codes: Vec<CodeInfo>,
    /// Request id (UUID).
    pub req_id: Option<String>,
    /// Request time, Unix milliseconds.
    #[serde(deserialize_with = "lenient_i64")]
    pub req_timestamp: Option<i64>,
    /// Local Module instance id.
    pub inst: Option<String>,
}

/// The well-known product groups (seed 003 §1.5.1) the rules single out.
pub mod group {
    /// Табачная продукция.
    pub const TOBACCO: u32 = 3;
    /// Молочная продукция.
    pub const MILK: u32 = 8;
    /// Альтернативная табачная продукция.
    pub const OTR: u32 = 12;
    /// Упакованная вода.
    pub const WATER: u32 = 13;
    /// Пиво и слабоалкогольные напитки.
    pub const BEER: u32 = 15;
}

fn number_to_i64(v: &serde_json::Value) -> Option<i64> {
    match v {
        serde_json::Value::Number(n) => {
            n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15).map(|f| f as i64))
        }
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(v.as_ref().and_then(number_to_i64))
}

fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(lenient_i64(d)?.and_then(|v| u64::try_from(v).ok()))
}

fn lenient_u32_list<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u32>>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match v {
        Some(serde_json::Value::Array(a)) => {
            Some(a.iter().filter_map(number_to_i64).filter_map(|x| u32::try_from(x).ok()).collect())
        }
        Some(other) => number_to_i64(&other).and_then(|x| u32::try_from(x).ok()).map(|x| vec![x]),
        None => None,
    })
}

fn lenient_string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match v {
        Some(serde_json::Value::Array(a)) => Some(
            a.into_iter()
                .map(|x| match x {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                })
                .collect(),
        ),
        Some(serde_json::Value::String(s)) => Some(vec![s]),
        _ => None,
    })
}

fn lenient_codes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<CodeInfo>, D::Error> {
    Ok(Option::<Vec<CodeInfo>>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methodology_example_answer() {
        let body = r#"{"code":0,"description":"ok","codes":[{"cis":"01048657365749062155esJWe93dGVz","valid":true,
            "printView":"01048657365749062155esJWe","gtin":"04865736574906","groupIds":[15],"verified":true,
            "found":true,"realizable":false,"utilised":true,"isBlocked":false,"expireDate":"2024-08-16T00:00:00.000Z",
            "productionDate":"2023-08-16T00:00:00.000Z","errorCode":0,"isTracking":false,"sold":true,
            "packageType":"UNIT","producerInn":"7731376812","grayZone":false,"soldUnitCount":49000,
            "innerUnitCount":50000}],"reqId":"2ce10bdb-6510-4d37-be04-dd473b98c728","reqTimestamp":1692691702065}"#;
        let a: CheckAnswer = serde_json::from_str(body).unwrap();
        assert_eq!(a.code, Some(0));
        assert_eq!(a.req_id.as_deref(), Some("2ce10bdb-6510-4d37-be04-dd473b98c728"));
        assert_eq!(a.req_timestamp, Some(1692691702065));
        let c = &a.codes[0];
        assert_eq!(c.group_ids, Some(vec![15]));
        assert!(c.in_group(group::BEER));
        assert_eq!(c.sold, Some(true));
        assert_eq!(c.realizable, Some(false));
        assert_eq!(c.inner_unit_count, Some(50000));
    }

    #[test]
    fn mrp_and_mpr_and_lenient_numbers() {
        let a: CodeInfo = serde_json::from_str(r#"{"mpr": 14500, "smp": "12000"}"#).unwrap();
        assert_eq!(a.service_mrp(), Some(14500));
        assert_eq!(a.smp, Some(12000));
        let a: CodeInfo = serde_json::from_str(r#"{"mrp": 14500.0, "groupIds": null, "ogvs": "RPN"}"#).unwrap();
        assert_eq!(a.service_mrp(), Some(14500));
        assert_eq!(a.group_ids, None);
        assert_eq!(a.ogvs, Some(vec!["RPN".to_string()]));
        let a: CheckAnswer = serde_json::from_str(r#"{"code": 0, "codes": null, "reqTimestamp": "17"}"#).unwrap();
        assert!(a.codes.is_empty());
        assert_eq!(a.req_timestamp, Some(17));
    }

    #[test]
    fn local_module_answer() {
        let body = r#"{"reqId":"bfa41a5f-8d1f-8084-2ee6-548af2000ff5","reqTimestamp":1738932218989,
            "inst":"ebf70f9d-44da-49ad-a272-17047acc4e18","description":"ok","codes":[{"printView":
            "0104850013000162215!!Y!BsOtaR_n","isBlocked":true,"gtin":"04850013000162",
            "cis":"0104850013000162215!!Y!BsOtaR_n"}],"code":0}"#;
        let a: CheckAnswer = serde_json::from_str(body).unwrap();
        assert_eq!(a.inst.as_deref(), Some("ebf70f9d-44da-49ad-a272-17047acc4e18"));
        assert_eq!(a.codes[0].is_blocked, Some(true));
        assert_eq!(a.codes[0].sold, None);
    }
}
