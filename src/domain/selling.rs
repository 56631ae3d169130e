//! Selling rules without I/O: the opportunity state machine, working-day acceptance deadlines and
//! the duplicate-registration precedence.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Utc, Weekday};

/// Where an opportunity came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Partner-originated (商机报备): reported by the partner, reviewed by the vendor.
    Po,
    /// Vendor-originated: shared with a partner, who accepts or declines it.
    Ho,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Po => "PO",
            Origin::Ho => "HO",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "PO" => Some(Origin::Po),
            "HO" => Some(Origin::Ho),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Draft,
    Submitted,
    Approved,
    Rejected,
    PendingAcceptance,
    Accepted,
    Declined,
    Expired,
    Won,
    Lost,
    Duplicate,
}

pub const STATUSES: &[Status] = &[
    Status::Draft,
    Status::Submitted,
    Status::Approved,
    Status::Rejected,
    Status::PendingAcceptance,
    Status::Accepted,
    Status::Declined,
    Status::Expired,
    Status::Won,
    Status::Lost,
    Status::Duplicate,
];

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "DRAFT",
            Status::Submitted => "SUBMITTED",
            Status::Approved => "APPROVED",
            Status::Rejected => "REJECTED",
            Status::PendingAcceptance => "PENDING_ACCEPTANCE",
            Status::Accepted => "ACCEPTED",
            Status::Declined => "DECLINED",
            Status::Expired => "EXPIRED",
            Status::Won => "WON",
            Status::Lost => "LOST",
            Status::Duplicate => "DUPLICATE",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        STATUSES.iter().copied().find(|st| st.as_str() == s)
    }
    /// Statuses that hold a registration's place for the duplicate rule.
    pub fn holds_place(self) -> bool {
        matches!(
            self,
            Status::Approved | Status::PendingAcceptance | Status::Accepted | Status::Won
        )
    }
}

/// What someone does to an opportunity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The partner edits a draft or a rejected PO.
    Edit,
    Submit,
    /// The vendor approves a submitted PO.
    Approve,
    /// The vendor rejects a submitted PO.
    Reject,
    /// The partner accepts a shared HO.
    Accept,
    /// The partner declines a shared HO.
    Decline,
    /// The clock: an HO not answered by its deadline is taken back.
    Expire,
    /// Progress of an approved PO / accepted HO (stage, confidence, revenue, …).
    Progress,
    Win,
    Lose,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Edit => "edit",
            Action::Submit => "submit",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Accept => "accept",
            Action::Decline => "decline",
            Action::Expire => "expire",
            Action::Progress => "progress",
            Action::Win => "win",
            Action::Lose => "lose",
        }
    }
}

/// The status after `action`, or `None` when the action is not allowed in this state. (Approval
/// may still end in `DUPLICATE`: see [`duplicate_of`].)
pub fn transition(origin: Origin, from: Status, action: Action) -> Option<Status> {
    use Action as A;
    use Status as S;
    Some(match (origin, from, action) {
        (Origin::Po, S::Draft | S::Rejected, A::Edit) => from,
        (Origin::Po, S::Draft | S::Rejected, A::Submit) => S::Submitted,
        (Origin::Po, S::Submitted, A::Approve) => S::Approved,
        (Origin::Po, S::Submitted, A::Reject) => S::Rejected,
        (Origin::Ho, S::PendingAcceptance, A::Accept) => S::Accepted,
        (Origin::Ho, S::PendingAcceptance, A::Decline) => S::Declined,
        (Origin::Ho, S::PendingAcceptance, A::Expire) => S::Expired,
        (Origin::Po, S::Approved, A::Progress) | (Origin::Ho, S::Accepted, A::Progress) => from,
        (Origin::Po, S::Approved, A::Win) | (Origin::Ho, S::Accepted, A::Win) => S::Won,
        (Origin::Po, S::Approved, A::Lose) | (Origin::Ho, S::Accepted, A::Lose) => S::Lost,
        _ => return None,
    })
}

/// The instant a registration takes its place for the duplicate rule: an HO when it is created,
/// a PO when it is approved (`None` before that).
pub fn precedence_time(
    origin: Origin,
    created_at: DateTime<Utc>,
    approved_at: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    match origin {
        Origin::Ho => Some(created_at),
        Origin::Po => approved_at,
    }
}

/// Which earlier registration of the same customer and product line wins over one taking its
/// place at `mine`: the earliest candidate (ties by id) that took its place no later than `mine`.
pub fn duplicate_of<'a>(
    mine: DateTime<Utc>,
    candidates: impl IntoIterator<Item = (&'a str, DateTime<Utc>)>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .filter(|(_, t)| *t <= mine)
        .min_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(b.0)))
        .map(|(id, _)| id)
}

/// The vendor's calendar is Beijing time (UTC+8): weekends and holidays are Beijing dates.
pub fn business_tz() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

/// The calendar date of an instant in Beijing time.
pub fn business_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&business_tz()).date_naive()
}

/// An exception to the Monday–Friday week.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind {
    /// A weekday off.
    Holiday,
    /// A weekend day worked (调休).
    Workday,
}

impl DayKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::Workday => "workday",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "holiday" => Some(DayKind::Holiday),
            "workday" => Some(DayKind::Workday),
            _ => None,
        }
    }
}

/// Whether `day` is a working day: Monday–Friday unless a holiday, weekends only when worked.
pub fn is_working_day(day: NaiveDate, exception: Option<DayKind>) -> bool {
    match exception {
        Some(DayKind::Holiday) => false,
        Some(DayKind::Workday) => true,
        None => !matches!(day.weekday(), Weekday::Sat | Weekday::Sun),
    }
}

/// How far ahead the calendar is read for a deadline (bounds the search over long holidays).
pub const CALENDAR_LOOKAHEAD_DAYS: i64 = 60;

/// The acceptance deadline of an HO shared at `created`: the end (Beijing midnight) of the
/// `working_days`-th working day after the day it was shared. Shared on a Friday with 3 days:
/// Monday, Tuesday, Wednesday — the deadline is Thursday 00:00 Beijing time. `exception` gives
/// the calendar's entry for a date.
pub fn accept_deadline(
    created: DateTime<Utc>,
    working_days: u32,
    exception: impl Fn(NaiveDate) -> Option<DayKind>,
) -> DateTime<Utc> {
    let mut day = business_date(created);
    let mut left = working_days;
    let mut steps = 0;
    while left > 0 && steps < CALENDAR_LOOKAHEAD_DAYS {
        day += Duration::days(1);
        steps += 1;
        if is_working_day(day, exception(day)) {
            left -= 1;
        }
    }
    let next_midnight = (day + Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists");
    business_tz()
        .from_local_datetime(&next_midnight)
        .single()
        .expect("fixed offsets are unambiguous")
        .with_timezone(&Utc)
}

/// The working days an HO has to be answered in.
pub const HO_ACCEPT_WORKING_DAYS: u32 = 3;

/// Accepts 0–100 (把握度).
pub fn valid_confidence(c: i64) -> bool {
    (0..=100).contains(&c)
}

/// A lead's phone for a partner in marketing plan 2.0: the first 3 and last 4 digits remain
/// (`13812345678` → `138****5678`); shorter numbers keep only their last 2 characters.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    let n = chars.len();
    if n >= 8 {
        let head: String = chars[..3].iter().collect();
        let tail: String = chars[n - 4..].iter().collect();
        format!("{head}****{tail}")
    } else {
        let keep = n.min(2);
        let tail: String = chars[n - keep..].iter().collect();
        format!("{}{tail}", "*".repeat(n - keep))
    }
}

/// A lead's e-mail for marketing plan 2.0: the first character of the local part and the domain
/// remain (`alice@example.com` → `a***@example.com`).
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_string(),
    }
}

/// Lead states: `NEW` → `FOLLOWING` (assigned or followed up) → `CONVERTED` | `CLOSED`.
pub fn lead_is_open(status: &str) -> bool {
    matches!(status, "NEW" | "FOLLOWING")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bj(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        business_tz()
            .with_ymd_and_hms(y, m, d, h, 0, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn the_deadline_skips_weekends() {
        // 2026-12-03 is a Thursday: Friday, Monday, Tuesday → Wednesday 00:00 Beijing.
        let d = accept_deadline(bj(2026, 12, 3, 10), 3, |_| None);
        assert_eq!(d, bj(2026, 12, 9, 0));
        // Friday: Monday, Tuesday, Wednesday → Thursday 00:00.
        assert_eq!(
            accept_deadline(bj(2026, 12, 4, 23), 3, |_| None),
            bj(2026, 12, 10, 0)
        );
        // Shared on a Saturday counts from Monday too.
        assert_eq!(
            accept_deadline(bj(2026, 12, 5, 9), 3, |_| None),
            bj(2026, 12, 10, 0)
        );
        // Monday: Tuesday, Wednesday, Thursday → Friday 00:00.
        assert_eq!(
            accept_deadline(bj(2026, 12, 7, 0), 3, |_| None),
            bj(2026, 12, 11, 0)
        );
    }

    #[test]
    fn the_deadline_follows_the_holiday_calendar() {
        // Thursday; the Friday off and the Saturday worked: Saturday, Monday, Tuesday.
        let cal = |d: NaiveDate| {
            if d == date(2026, 12, 4) {
                Some(DayKind::Holiday)
            } else if d == date(2026, 12, 5) {
                Some(DayKind::Workday)
            } else {
                None
            }
        };
        assert_eq!(
            accept_deadline(bj(2026, 12, 3, 10), 3, cal),
            bj(2026, 12, 9, 0)
        );
        // A week of holidays pushes it past the week.
        let golden = |d: NaiveDate| {
            (d >= date(2026, 10, 1) && d <= date(2026, 10, 7)).then_some(DayKind::Holiday)
        };
        // Wednesday 30 Sep: Thursday 8, Friday 9, Monday 12 → Tuesday 13 00:00.
        assert_eq!(
            accept_deadline(bj(2026, 9, 30, 12), 3, golden),
            bj(2026, 10, 13, 0)
        );
        // The search is bounded when nothing is a working day.
        let never = |_| Some(DayKind::Holiday);
        let d = accept_deadline(bj(2026, 1, 1, 0), 3, never);
        assert_eq!(d, bj(2026, 3, 3, 0));
    }

    #[test]
    fn business_dates_are_beijing_dates() {
        // 2026-12-04 17:00 UTC is Saturday 01:00 in Beijing.
        let t = Utc.with_ymd_and_hms(2026, 12, 4, 17, 0, 0).unwrap();
        assert_eq!(business_date(t), date(2026, 12, 5));
        assert!(!is_working_day(business_date(t), None));
    }

    #[test]
    fn po_lifecycle_transitions() {
        use Action as A;
        use Status as S;
        let po = |s, a| transition(Origin::Po, s, a);
        assert_eq!(po(S::Draft, A::Edit), Some(S::Draft));
        assert_eq!(po(S::Draft, A::Submit), Some(S::Submitted));
        assert_eq!(po(S::Submitted, A::Edit), None, "under review");
        assert_eq!(po(S::Submitted, A::Submit), None);
        assert_eq!(po(S::Submitted, A::Reject), Some(S::Rejected));
        assert_eq!(po(S::Rejected, A::Edit), Some(S::Rejected));
        assert_eq!(po(S::Rejected, A::Submit), Some(S::Submitted));
        assert_eq!(po(S::Submitted, A::Approve), Some(S::Approved));
        assert_eq!(po(S::Approved, A::Progress), Some(S::Approved));
        assert_eq!(po(S::Approved, A::Edit), None);
        assert_eq!(po(S::Approved, A::Win), Some(S::Won));
        assert_eq!(po(S::Approved, A::Lose), Some(S::Lost));
        assert_eq!(po(S::Draft, A::Accept), None);
        for end in [S::Won, S::Lost, S::Duplicate] {
            for a in [A::Edit, A::Submit, A::Approve, A::Progress, A::Win, A::Lose] {
                assert_eq!(po(end, a), None, "{end:?} is final");
            }
        }
    }

    #[test]
    fn ho_lifecycle_transitions() {
        use Action as A;
        use Status as S;
        let ho = |s, a| transition(Origin::Ho, s, a);
        assert_eq!(ho(S::PendingAcceptance, A::Accept), Some(S::Accepted));
        assert_eq!(ho(S::PendingAcceptance, A::Decline), Some(S::Declined));
        assert_eq!(ho(S::PendingAcceptance, A::Expire), Some(S::Expired));
        assert_eq!(ho(S::PendingAcceptance, A::Progress), None);
        assert_eq!(ho(S::Accepted, A::Progress), Some(S::Accepted));
        assert_eq!(ho(S::Accepted, A::Win), Some(S::Won));
        assert_eq!(ho(S::Expired, A::Accept), None);
        assert_eq!(ho(S::Declined, A::Accept), None);
        assert_eq!(ho(S::PendingAcceptance, A::Submit), None);
        assert_eq!(ho(S::PendingAcceptance, A::Edit), None);
        for s in STATUSES {
            assert_eq!(Status::parse(s.as_str()), Some(*s));
        }
    }

    #[test]
    fn lead_contacts_are_masked_for_marketing_plan_2() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("+8613812345678"), "+86****5678");
        assert_eq!(mask_phone("12345"), "***45");
        assert_eq!(mask_phone(""), "");
        assert_eq!(mask_email("alice@example.com"), "a***@example.com");
        assert_eq!(mask_email("nonsense"), "***");
        assert!(lead_is_open("NEW") && lead_is_open("FOLLOWING"));
        assert!(!lead_is_open("CONVERTED") && !lead_is_open("CLOSED"));
    }

    #[test]
    fn the_earlier_registration_wins() {
        let t0 = bj(2026, 12, 1, 9);
        let h = |n| t0 + Duration::hours(n);
        // An HO counts from creation, a PO from approval.
        assert_eq!(precedence_time(Origin::Ho, h(0), None), Some(h(0)));
        assert_eq!(precedence_time(Origin::Po, h(0), None), None);
        assert_eq!(precedence_time(Origin::Po, h(0), Some(h(5))), Some(h(5)));
        let cands = [("b", h(2)), ("a", h(3)), ("c", h(9))];
        assert_eq!(duplicate_of(h(4), cands), Some("b"));
        assert_eq!(duplicate_of(h(1), cands), None);
        // Same instant: the smaller id wins, deterministically.
        assert_eq!(duplicate_of(h(4), [("z", h(2)), ("y", h(2))]), Some("y"));
        assert!(valid_confidence(0) && valid_confidence(100));
        assert!(!valid_confidence(101) && !valid_confidence(-1));
    }
}
