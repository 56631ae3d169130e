//! Events and webhooks: the event types, the feed cursor, the retry schedule and the Standard
//! Webhooks signature. Pure functions; the I/O is in `service::events` and `service::webhooks`.

use base64::{engine::general_purpose::STANDARD, Engine};
use chrono::Duration;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Every event type (also the allowed values of a `types` filter).
pub const EVENT_TYPES: &[(&str, &str)] = &[
    (
        "customer.associated",
        "a sub-customer was created (associated with the partner)",
    ),
    ("customer.unassociated", "an association ended"),
    (
        "customer.association_type_changed",
        "a customer switched between advisory and resale",
    ),
    (
        "association_request.created",
        "an association switch or un-association was requested",
    ),
    ("association_request.approved", "the other side approved"),
    ("association_request.rejected", "the other side rejected"),
    (
        "association_request.expired",
        "nobody answered within 7 days",
    ),
    ("customer.frozen", "a customer was frozen"),
    ("customer.unfrozen", "a customer was unfrozen"),
    (
        "realname.approved",
        "a customer's real-name application was approved",
    ),
    (
        "realname.rejected",
        "a customer's real-name application was rejected",
    ),
    (
        "funding.completed",
        "a customer or reseller was funded or reclaimed",
    ),
    ("coupon.issued", "a partner coupon was issued to a customer"),
    ("coupon.reclaimed", "a partner coupon was reclaimed"),
    ("customer.arrears", "a customer fell into arrears"),
    (
        "webhook_endpoint.disabled",
        "an endpoint failing for 5 days was disabled",
    ),
];

pub fn is_event_type(s: &str) -> bool {
    EVENT_TYPES.iter().any(|(t, _)| *t == s)
}

/// The feed event types one association record (`association_event` row) stands for.
pub fn association_record_types(
    event_type: &str,
    outcome: &str,
    has_request: bool,
) -> &'static [&'static str] {
    match (event_type, outcome) {
        ("associate", _) => &["customer.associated"],
        ("switch_request" | "unassociate_request", _) => &["association_request.created"],
        ("request_rejected", _) => &["association_request.rejected"],
        ("request_expired", _) => &["association_request.expired"],
        ("freeze", _) => &["customer.frozen"],
        ("unfreeze", _) => &["customer.unfrozen"],
        ("unassociate", "completed") if has_request => {
            &["association_request.approved", "customer.unassociated"]
        }
        ("unassociate", "completed") => &["customer.unassociated"],
        ("switch_type", "completed") if has_request => &[
            "association_request.approved",
            "customer.association_type_changed",
        ],
        ("switch_type", "completed") => &["customer.association_type_changed"],
        _ => &[],
    }
}

/// A position in a receiver's feed: the writing transaction's id and the event's sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor {
    pub xid: u64,
    pub seq: i64,
}

impl Cursor {
    pub const START: Cursor = Cursor { xid: 0, seq: 0 };

    /// `<xid>-<seq>`; opaque to clients.
    pub fn parse(s: &str) -> Option<Cursor> {
        let (x, q) = s.split_once('-')?;
        let xid = x.parse().ok()?;
        let seq = q.parse().ok()?;
        (seq >= 0).then_some(Cursor { xid, seq })
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.xid, self.seq)
    }
}

/// Delay before each retry: after the first attempt fails, the second comes 5 s later, and so on
/// (nominal total 23 h 35 min 5 s, so the last attempt falls within 24 h of the event).
pub const RETRY_DELAYS_SECS: [i64; 7] = [5, 300, 1800, 7200, 18000, 28800, 28800];

/// Attempts are never scheduled later than this after the delivery was created.
pub const RETRY_WINDOW_HOURS: i64 = 24;

/// Jitter: each delay is scaled by a factor in [1 - JITTER, 1 + JITTER].
pub const JITTER: f64 = 0.1;

/// An endpoint that has failed without a success for this long is disabled.
pub const DISABLE_AFTER_DAYS: i64 = 5;

/// The delay after failed attempt number `attempt` (1-based), jittered by `unit` in [0, 1); `None`
/// when that was the last attempt.
pub fn retry_delay(attempt: i32, unit: f64) -> Option<Duration> {
    let nominal = *RETRY_DELAYS_SECS.get(usize::try_from(attempt).ok()?.checked_sub(1)?)?;
    let factor = 1.0 - JITTER + 2.0 * JITTER * unit.clamp(0.0, 1.0);
    Some(Duration::milliseconds(
        (nominal as f64 * 1000.0 * factor).round() as i64,
    ))
}

/// The prefix of a signing secret (Standard Webhooks).
pub const SECRET_PREFIX: &str = "whsec_";

/// A new signing secret: `whsec_` and 32 random bytes in base64.
pub fn new_secret() -> String {
    use rand::RngCore;
    let mut key = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut key);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

/// The `webhook-signature` header value: `v1,` and the base64 HMAC-SHA256, keyed with the
/// secret's decoded bytes, of `{id}.{timestamp}.{body}`.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let key = STANDARD
        .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
        .ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{msg_id}.{timestamp}.").as_bytes());
    mac.update(body);
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_matches_the_standard_webhooks_test_vector() {
        // The test vector of the Standard Webhooks specification's reference libraries.
        let sig = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(sign("whsec_not base64!", "m", 1, b"").is_none());
    }

    #[test]
    fn new_secrets_are_32_random_bytes_in_base64() {
        let s = new_secret();
        let key = STANDARD.decode(s.strip_prefix("whsec_").unwrap()).unwrap();
        assert_eq!(key.len(), 32);
        assert_ne!(s, new_secret());
    }

    #[test]
    fn the_retry_schedule_backs_off_with_bounded_jitter_and_ends_within_a_day() {
        assert_eq!(retry_delay(1, 0.5), Some(Duration::seconds(5)));
        assert_eq!(retry_delay(1, 0.0), Some(Duration::milliseconds(4500)));
        assert_eq!(retry_delay(1, 1.0), Some(Duration::milliseconds(5500)));
        assert_eq!(retry_delay(3, 0.5), Some(Duration::minutes(30)));
        assert_eq!(retry_delay(7, 0.5), Some(Duration::hours(8)));
        assert_eq!(retry_delay(8, 0.5), None);
        assert_eq!(retry_delay(0, 0.5), None);
        let nominal: i64 = RETRY_DELAYS_SECS.iter().sum();
        assert!(nominal < RETRY_WINDOW_HOURS * 3600);
        for w in RETRY_DELAYS_SECS.windows(2) {
            assert!(w[0] <= w[1], "delays never shrink");
        }
    }

    #[test]
    fn cursors_round_trip_and_order_by_transaction_then_sequence() {
        let c = Cursor { xid: 812, seq: 7 };
        assert_eq!(Cursor::parse(&c.to_string()), Some(c));
        assert!(Cursor { xid: 811, seq: 9 } < c);
        assert!(Cursor::parse("7").is_none());
        assert!(Cursor::parse("a-1").is_none());
        assert!(Cursor::parse("1--1").is_none());
    }

    #[test]
    fn association_records_map_to_feed_events() {
        assert_eq!(
            association_record_types("unassociate", "completed", true),
            ["association_request.approved", "customer.unassociated"]
        );
        assert_eq!(
            association_record_types("freeze", "completed", false),
            ["customer.frozen"]
        );
        assert!(association_record_types("something_else", "completed", false).is_empty());
        for (t, _) in EVENT_TYPES {
            assert!(is_event_type(t));
        }
        assert!(!is_event_type("customer"));
    }
}
