//! Performance (业绩) rules, pure: which day a fee record belongs to, which manager a day counts
//! for, which days are visible, and what counts as performance.
//!
//! * A fee record belongs to the Beijing date (UTC+8) of its trade (charge) time.
//! * A day counts for the manager whose assignment was in force at the start of that day: a
//!   customer assigned on day D counts for its new manager from day D+1 (the previous manager, or
//!   none, keeps day D).
//! * Today's data appears the next day: only days before today (app clock, Beijing date) count.
//! * Performance is consumption paid in cash; a stored-value card payment counts as cash.
//!   Coupons, cash coupons, credit, arrears and write-offs do not. Card *purchases* are not
//!   consumption at all (they write no fee record).

use chrono::{DateTime, Datelike, Months, NaiveDate, TimeZone, Utc};

use crate::domain::selling::{business_date, business_tz};

/// The day a fee record traded at `trade_time` belongs to.
pub fn record_day(trade_time: DateTime<Utc>) -> NaiveDate {
    business_date(trade_time)
}

/// The instant (UTC) a Beijing day starts.
pub fn day_start(day: NaiveDate) -> DateTime<Utc> {
    business_tz()
        .from_local_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight exists"))
        .single()
        .expect("fixed offsets are unambiguous")
        .with_timezone(&Utc)
}

/// One assignment of a customer (a row of `customer_assignment`); `manager_id` None is an
/// un-assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub manager_id: Option<String>,
    pub assigned_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

/// The manager `day` counts for: the assignment in force at the start of the day (assigned
/// strictly before it, not ended before it); the latest such one if several overlap.
pub fn manager_for_day(assignments: &[Assignment], day: NaiveDate) -> Option<String> {
    let start = day_start(day);
    assignments
        .iter()
        .filter(|a| a.assigned_at < start && a.ended_at.is_none_or(|e| e >= start))
        .max_by_key(|a| a.assigned_at)
        .and_then(|a| a.manager_id.clone())
}

/// The last day whose data is visible at `now`: yesterday (Beijing date).
pub fn data_through(now: DateTime<Utc>) -> NaiveDate {
    business_date(now).pred_opt().expect("not the first day")
}

/// Performance in fen of what was paid in cash and by stored-value card.
pub fn performance(cash: i64, card: i64) -> i64 {
    cash + card
}

/// A month `yyyy-MM` as its first day.
pub fn parse_month(s: &str) -> Option<NaiveDate> {
    if s.len() != 7 {
        return None;
    }
    NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d").ok()
}

pub fn format_month(d: NaiveDate) -> String {
    d.format("%Y-%m").to_string()
}

/// The first day of `d`'s month.
pub fn month_of(d: NaiveDate) -> NaiveDate {
    d.with_day(1).expect("day 1 exists")
}

/// The visible days of the months `[from, to]` (first days): from the first of `from` to the
/// earlier of the end of `to` and `data_through`; None when nothing is visible.
pub fn visible_days(
    from: NaiveDate,
    to: NaiveDate,
    data_through: NaiveDate,
) -> Option<(NaiveDate, NaiveDate)> {
    let end_of_to = to
        .checked_add_months(Months::new(1))
        .and_then(|d| d.pred_opt())?;
    let last = end_of_to.min(data_through);
    (from <= last).then_some((from, last))
}

/// At most this many months in one query.
pub const MAX_MONTHS: u32 = 24;

/// The number of months of `[from, to]` (first days), counting both.
pub fn months_between(from: NaiveDate, to: NaiveDate) -> i64 {
    (to.year() as i64 - from.year() as i64) * 12 + to.month() as i64 - from.month() as i64 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        crate::domain::time::parse_ts(s).unwrap()
    }
    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }
    fn a(m: Option<&str>, at: &str, end: Option<&str>) -> Assignment {
        Assignment {
            manager_id: m.map(str::to_string),
            assigned_at: t(at),
            ended_at: end.map(t),
        }
    }

    #[test]
    fn a_record_belongs_to_its_beijing_charge_date() {
        assert_eq!(record_day(t("2026-03-01T15:59:59Z")), d("2026-03-01"));
        assert_eq!(record_day(t("2026-03-01T16:00:00Z")), d("2026-03-02"));
        assert_eq!(day_start(d("2026-03-02")), t("2026-03-01T16:00:00Z"));
    }

    #[test]
    fn an_assignment_counts_from_the_next_day() {
        // Assigned to m1 on 03-01 (Beijing), moved to m2 on 03-03 at 10:00 Beijing.
        let h = [
            a(
                Some("m1"),
                "2026-03-01T02:00:00Z",
                Some("2026-03-03T02:00:00Z"),
            ),
            a(Some("m2"), "2026-03-03T02:00:00Z", None),
        ];
        assert_eq!(manager_for_day(&h, d("2026-03-01")), None);
        assert_eq!(manager_for_day(&h, d("2026-03-02")).as_deref(), Some("m1"));
        assert_eq!(manager_for_day(&h, d("2026-03-03")).as_deref(), Some("m1"));
        assert_eq!(manager_for_day(&h, d("2026-03-04")).as_deref(), Some("m2"));
        assert_eq!(manager_for_day(&[], d("2026-03-04")), None);
    }

    #[test]
    fn an_assignment_at_midnight_belongs_to_that_day_and_an_unassignment_ends_it() {
        // Assigned exactly at the start of 03-02 Beijing: counts from 03-03.
        let h = [
            a(
                Some("m1"),
                "2026-03-01T16:00:00Z",
                Some("2026-03-05T01:00:00Z"),
            ),
            a(None, "2026-03-05T01:00:00Z", None),
        ];
        assert_eq!(manager_for_day(&h, d("2026-03-02")), None);
        assert_eq!(manager_for_day(&h, d("2026-03-03")).as_deref(), Some("m1"));
        assert_eq!(manager_for_day(&h, d("2026-03-05")).as_deref(), Some("m1"));
        assert_eq!(manager_for_day(&h, d("2026-03-06")), None);
    }

    #[test]
    fn only_days_before_today_are_visible() {
        assert_eq!(data_through(t("2026-03-10T16:30:00Z")), d("2026-03-10"));
        assert_eq!(data_through(t("2026-03-10T15:30:00Z")), d("2026-03-09"));
        let m = d("2026-03-01");
        assert_eq!(
            visible_days(m, m, d("2026-03-09")),
            Some((m, d("2026-03-09")))
        );
        assert_eq!(
            visible_days(d("2026-01-01"), d("2026-02-01"), d("2026-03-09")),
            Some((d("2026-01-01"), d("2026-02-28")))
        );
        // On the 1st, this month shows nothing yet.
        assert_eq!(visible_days(m, m, d("2026-02-28")), None);
    }

    #[test]
    fn performance_is_cash_plus_card_and_months_parse_strictly() {
        assert_eq!(performance(150, 250), 400);
        assert_eq!(performance(-100, 0), -100);
        assert_eq!(parse_month("2026-03"), Some(d("2026-03-01")));
        assert_eq!(parse_month("2026-3"), None);
        assert_eq!(parse_month("2026-13"), None);
        assert_eq!(parse_month("2026-03-01"), None);
        assert_eq!(format_month(d("2026-03-01")), "2026-03");
        assert_eq!(month_of(d("2026-03-31")), d("2026-03-01"));
        assert_eq!(months_between(d("2025-11-01"), d("2026-02-01")), 4);
    }
}
