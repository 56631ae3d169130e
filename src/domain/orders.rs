//! Yearly/monthly orders (no I/O): periods and their ends, line prices, the partner discount,
//! and the unsubscription refund formula.

use chrono::{DateTime, Datelike, Duration, FixedOffset, Months, NaiveDate, Utc};
use rand::{distributions::Alphanumeric, Rng};
use rust_decimal::Decimal;

/// `period_type` of orders and resources: 2 month, 3 year.
pub const MONTH: i16 = 2;
pub const YEAR: i16 = 3;

/// New-purchase orders a customer created before this one: within the last 60 seconds, and since
/// its Beijing (UTC+8) day began.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecentOrders {
    pub last_minute: i64,
    pub today: i64,
}

/// The creation limit one more order would break, if any: `CBC.99008040` (too frequent) before
/// `CBC.99008056` (the day's limit).
pub fn creation_limit(recent: RecentOrders, per_minute: i64, per_day: i64) -> Option<&'static str> {
    if recent.last_minute >= per_minute {
        Some(crate::error::codes::TOO_FREQUENT)
    } else if recent.today >= per_day {
        Some(crate::error::codes::DAILY_ORDER_LIMIT)
    } else {
        None
    }
}

/// Whether `period_num` periods of `period_type` may be bought or renewed: months 1–11, years 1–3.
pub fn valid_period(period_type: i16, period_num: i32) -> bool {
    match period_type {
        MONTH => (1..=11).contains(&period_num),
        YEAR => (1..=3).contains(&period_num),
        _ => false,
    }
}

/// The months `period_num` periods of `period_type` last.
pub fn months(period_type: i16, period_num: i32) -> u32 {
    let n = period_num.max(0) as u32;
    if period_type == YEAR {
        12 * n
    } else {
        n
    }
}

/// When a period bought from `start` ends (calendar months; the 31st ends on the month's last day).
pub fn period_end(start: DateTime<Utc>, period_type: i16, period_num: i32) -> DateTime<Utc> {
    start
        .checked_add_months(Months::new(months(period_type, period_num)))
        .unwrap_or(start)
}

/// `set_resources_renew_config` `EXPIRE_DATE`: whether `day` is a valid unified expiry day
/// (1–28, or -1 for the last day of each month).
pub fn valid_expire_day(day: i16) -> bool {
    (1..=28).contains(&day) || day == -1
}

/// A renewal's end aligned to the customer's unified expiry day (`EXPIRE_DATE`): the first
/// instant ≥ `normal_end` whose calendar date in UTC+8 is `day` of its month (its last day for
/// -1), at `normal_end`'s UTC+8 time of day; and the whole days added (0–30). An invalid `day`
/// leaves the end as it is.
pub fn aligned_end(normal_end: DateTime<Utc>, day: i16) -> (DateTime<Utc>, i64) {
    if !valid_expire_day(day) {
        return (normal_end, 0);
    }
    let china = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    let local = normal_end.with_timezone(&china);
    let date = local.date_naive();
    let target = |y: i32, m: u32| -> Option<NaiveDate> {
        if day == -1 {
            NaiveDate::from_ymd_opt(y, m, 1)?
                .checked_add_months(Months::new(1))?
                .pred_opt()
        } else {
            NaiveDate::from_ymd_opt(y, m, day as u32)
        }
    };
    let Some(mut d) = target(date.year(), date.month()) else {
        return (normal_end, 0);
    };
    if d < date {
        let next = date
            .with_day(1)
            .and_then(|f| f.checked_add_months(Months::new(1)));
        match next.and_then(|n| target(n.year(), n.month())) {
            Some(n) => d = n,
            None => return (normal_end, 0),
        }
    }
    let extra = (d - date).num_days();
    (normal_end + Duration::days(extra), extra)
}

/// The extra charge (fen) of `extra_days` days added by `aligned_end`, for `subscription_num`
/// copies. Our rule (the reference gives none): a product with a monthly price pays
/// `monthly × copies × extra_days / 30`; one with only a yearly price pays
/// `yearly × copies × extra_days / 365`; the yuan amount is rounded half-up to the fen.
/// `None` on overflow.
pub fn extra_days_price(
    monthly: Option<Decimal>,
    yearly: Option<Decimal>,
    subscription_num: i32,
    extra_days: i64,
) -> Option<i64> {
    if extra_days <= 0 {
        return Some(0);
    }
    let (price, days) = match (monthly, yearly) {
        (Some(m), _) => (m, 30),
        (None, Some(y)) => (y, 365),
        (None, None) => return None,
    };
    let fen = price
        .checked_mul(Decimal::from(subscription_num))?
        .checked_mul(Decimal::from(extra_days))?
        .checked_mul(Decimal::from(100))?
        .checked_div(Decimal::from(days))?
        .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    i64::try_from(fen).ok()
}

/// The list price (fen) of `period_num` periods of a product priced `price` yuan per period, for
/// `subscription_num` copies; `None` on overflow.
pub fn line_price(price: Decimal, period_num: i32, subscription_num: i32) -> Option<i64> {
    let yuan = price
        .checked_mul(Decimal::from(period_num))?
        .checked_mul(Decimal::from(subscription_num))?;
    let fen = yuan.checked_mul(Decimal::from(100))?;
    if fen.fract() != Decimal::ZERO {
        return None;
    }
    i64::try_from(fen).ok()
}

/// What is payable (fen) of `official` fen at a partner discount `rate` (0 < rate ≤ 1): rounded
/// down to the fen, so a discount never costs the customer a fen more.
pub fn discounted(official: i64, rate: Decimal) -> i64 {
    let v = (Decimal::from(official) * rate).floor();
    i64::try_from(v).unwrap_or(official).clamp(0, official)
}

/// The unsubscription refund of one paid period (fen): what was paid for `[begin, end)` minus what
/// was consumed by `now`. A period not yet begun is refunded whole, an ended one not at all; in
/// between, the time used counts in whole days (a started day counts whole) and the consumed part
/// is `paid × used_days / total_days` rounded up to the fen:
/// `refund = paid − ⌈paid × ⌈(now − begin) / 1 day⌉ / ⌈(end − begin) / 1 day⌉⌉`.
pub fn unused_refund(
    paid: i64,
    begin: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> i64 {
    if paid <= 0 || now >= end {
        return 0;
    }
    if now <= begin {
        return paid;
    }
    let days = |d: Duration| (d.num_seconds() + 86_399) / 86_400;
    let total = days(end - begin).max(1);
    let used = days(now - begin).min(total);
    let consumed = (paid as i128 * used as i128 + total as i128 - 1) / total as i128;
    paid - consumed as i64
}

/// A new order id: `CS`, the UTC time to the minute (`yyMMddHHmm`) and 5 upper-case alphanumerics
/// (the vendor's shape, e.g. `CS2012011530ABCDE`).
pub fn new_order_id(at: DateTime<Utc>) -> String {
    let rnd: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(5)
        .map(|b| (b as char).to_ascii_uppercase())
        .collect();
    format!("CS{}{rnd}", at.format("%y%m%d%H%M"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_minute_limit_comes_before_the_day_limit_and_both_count_the_orders_before() {
        let r = |last_minute, today| RecentOrders { last_minute, today };
        assert_eq!(creation_limit(r(0, 0), 2, 3), None);
        assert_eq!(creation_limit(r(1, 2), 2, 3), None);
        assert_eq!(creation_limit(r(2, 2), 2, 3), Some("CBC.99008040"));
        assert_eq!(creation_limit(r(1, 3), 2, 3), Some("CBC.99008056"));
        assert_eq!(creation_limit(r(2, 3), 2, 3), Some("CBC.99008040"));
    }

    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
    }

    #[test]
    fn periods_follow_calendar_months() {
        assert_eq!(period_end(at(2026, 1, 31), MONTH, 1), at(2026, 2, 28));
        assert_eq!(period_end(at(2026, 12, 1), YEAR, 1), at(2027, 12, 1));
        assert_eq!(period_end(at(2026, 12, 1), MONTH, 3), at(2027, 3, 1));
        assert!(valid_period(MONTH, 11) && !valid_period(MONTH, 12) && !valid_period(MONTH, 0));
        assert!(valid_period(YEAR, 3) && !valid_period(YEAR, 4) && !valid_period(4, 1));
    }

    #[test]
    fn line_prices_are_exact_fen() {
        assert_eq!(line_price(Decimal::new(1234, 2), 3, 2), Some(7404));
        assert_eq!(line_price(Decimal::new(1, 3), 1, 1), None);
    }

    #[test]
    fn discounts_round_down_to_the_fen() {
        assert_eq!(discounted(999, Decimal::new(85, 2)), 849);
        assert_eq!(discounted(1000, Decimal::ONE), 1000);
    }

    #[test]
    fn refunds_are_the_unused_days_consumed_rounded_up() {
        let (b, e) = (at(2026, 12, 1), at(2027, 12, 1)); // 365 days
        assert_eq!(unused_refund(120_000, b, e, b), 120_000);
        assert_eq!(unused_refund(120_000, b, e, b - Duration::days(1)), 120_000);
        assert_eq!(unused_refund(120_000, b, e, e), 0);
        // After 3 months (90 days): consumed ⌈120000 × 90 / 365⌉ = 29590.
        assert_eq!(
            unused_refund(120_000, b, e, at(2027, 3, 1)),
            120_000 - 29_590
        );
        // A started day counts whole.
        let one_second = b + Duration::seconds(1);
        assert_eq!(unused_refund(36_500, b, e, one_second), 36_500 - 100);
        assert_eq!(unused_refund(0, b, e, one_second), 0);
    }

    #[test]
    fn order_ids_have_the_vendor_shape() {
        let id = new_order_id(at(2020, 12, 1));
        assert!(id.starts_with("CS2012010000") && id.len() == 17, "{id}");
    }

    #[test]
    fn renewals_align_to_the_expire_day_in_utc8() {
        let utc = |y, m, d, h| Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap();
        // 2027-01-10 00:00 UTC is 08:00 on the 10th in UTC+8: the 15th is 5 days later.
        assert_eq!(
            aligned_end(utc(2027, 1, 10, 0), 15),
            (utc(2027, 1, 15, 0), 5)
        );
        // Already the 15th: nothing added.
        assert_eq!(
            aligned_end(utc(2027, 1, 15, 0), 15),
            (utc(2027, 1, 15, 0), 0)
        );
        // 2027-01-14 20:00 UTC is the 15th 04:00 in UTC+8: already aligned.
        assert_eq!(
            aligned_end(utc(2027, 1, 14, 20), 15),
            (utc(2027, 1, 14, 20), 0)
        );
        // 2027-01-15 16:00 UTC is the 16th in UTC+8: the next 15th, 30 days later.
        assert_eq!(
            aligned_end(utc(2027, 1, 15, 16), 15),
            (utc(2027, 2, 14, 16), 30)
        );
        // The last day of the month.
        assert_eq!(
            aligned_end(utc(2027, 2, 1, 0), -1),
            (utc(2027, 2, 28, 0), 27)
        );
        assert_eq!(
            aligned_end(utc(2028, 2, 1, 0), -1),
            (utc(2028, 2, 29, 0), 28)
        );
        assert_eq!(
            aligned_end(utc(2027, 3, 31, 0), -1),
            (utc(2027, 3, 31, 0), 0)
        );
        // December to January.
        assert_eq!(
            aligned_end(utc(2027, 12, 20, 0), 1),
            (utc(2028, 1, 1, 0), 12)
        );
        // The longest wait: the 29th to the 28th of the next month (30 days in Jan→Feb).
        assert_eq!(
            aligned_end(utc(2027, 1, 29, 0), 28),
            (utc(2027, 2, 28, 0), 30)
        );
        // Invalid days change nothing.
        assert_eq!(
            aligned_end(utc(2027, 1, 10, 0), 0),
            (utc(2027, 1, 10, 0), 0)
        );
        assert_eq!(
            aligned_end(utc(2027, 1, 10, 0), 29),
            (utc(2027, 1, 10, 0), 0)
        );
        assert!(valid_expire_day(1) && valid_expire_day(28) && valid_expire_day(-1));
        assert!(!valid_expire_day(0) && !valid_expire_day(29) && !valid_expire_day(-2));
    }

    #[test]
    fn extra_days_cost_a_thirtieth_of_the_month_rounded_half_up() {
        let m = Some(Decimal::new(100, 0)); // 100.00 yuan a month
                                            // 100 × 2 × 5 / 30 = 33.333… yuan → 3333 fen.
        assert_eq!(extra_days_price(m, None, 2, 5), Some(3333));
        // 0.10 × 1 × 5 / 30 = 0.01666… → 2 fen; 0.09 × 5 / 30 = 0.015 → 2 fen (half up).
        assert_eq!(
            extra_days_price(Some(Decimal::new(10, 2)), None, 1, 5),
            Some(2)
        );
        assert_eq!(
            extra_days_price(Some(Decimal::new(9, 2)), None, 1, 5),
            Some(2)
        );
        assert_eq!(extra_days_price(m, None, 1, 0), Some(0));
        // Only a yearly price: 365.00 × 1 × 10 / 365 = 10.00 yuan.
        assert_eq!(
            extra_days_price(None, Some(Decimal::new(365, 0)), 1, 10),
            Some(1000)
        );
        assert_eq!(
            extra_days_price(m, Some(Decimal::new(1, 0)), 1, 30),
            Some(10000)
        );
        assert_eq!(extra_days_price(None, None, 1, 3), None);
    }
}
