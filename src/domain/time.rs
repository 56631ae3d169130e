//! Time formats of the contract: UTC timestamps `yyyy-MM-ddTHH:mm:ssZ`.

use chrono::{DateTime, NaiveDateTime, Utc};

pub const TIMESTAMP_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

pub fn format_ts(t: DateTime<Utc>) -> String {
    t.format(TIMESTAMP_FORMAT).to_string()
}

/// Parses `yyyy-MM-ddTHH:mm:ssZ` (UTC, no fraction).
pub fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(s, TIMESTAMP_FORMAT)
        .ok()
        .map(|n| n.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_in_the_contract_format() {
        let t = parse_ts("2019-05-06T08:05:01Z").unwrap();
        assert_eq!(format_ts(t), "2019-05-06T08:05:01Z");
        assert!(parse_ts("2019-05-06 08:05:01").is_none());
        assert!(parse_ts("2019-05-06T08:05:01.123Z").is_none());
        assert!(parse_ts("").is_none());
    }
}
