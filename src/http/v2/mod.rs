//! The partner and customer API under `/v2` (and `/v3` where the vendor put it).

pub mod association;
pub mod authorizations;
pub mod bills;
pub mod catalogue;
pub mod coupons;
pub mod customers;
pub mod dashboards;
pub mod events;
pub mod funding;
pub mod leads;
pub mod lifecycle;
pub mod money_out;
pub mod opportunities;
pub mod orders;
pub mod partner_bills;
pub mod partners;
pub mod performance;
pub mod realname;
pub mod resource_bills;
pub mod tasks;
pub mod warnings;

use crate::error::ApiError;

/// Absent, `null` and `""` all mean "no filter".
pub fn non_empty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.is_empty())
}

/// Rejects a string longer than `max` characters with CBC.0100 naming the field.
pub fn max_len(field: &str, v: Option<&str>, max: usize) -> Result<(), ApiError> {
    match v {
        Some(s) if s.chars().count() > max => Err(ApiError::invalid(
            field,
            format!("must be at most {max} characters"),
        )),
        _ => Ok(()),
    }
}

/// A UTC `yyyy-MM-ddTHH:mm:ssZ` bound: absent/`null` ⇒ none; `""` or another format ⇒ CBC.0100.
pub fn time_bound(
    field: &str,
    v: Option<&str>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
    match v {
        None => Ok(None),
        Some(s) => crate::domain::time::parse_ts(s).map(Some).ok_or_else(|| {
            ApiError::invalid(field, "must be a UTC time like 2024-01-31T16:00:00Z")
        }),
    }
}
