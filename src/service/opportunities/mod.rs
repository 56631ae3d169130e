//! Opportunities: partner-reported (PO) with the vendor's review, vendor-shared (HO) with a
//! working-day acceptance deadline, progress updates under optimistic concurrency (`If-Match`),
//! the duplicate rule and the manager/supervisor scope.

mod calendar;
mod transitions;

pub use calendar::*;
pub use transitions::*;

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sqlx::PgConnection;

use crate::{
    db::{self, opportunities::OpportunityRow},
    domain::selling::{self, Action, DayKind, Origin, Status},
    error::{codes, ApiError, ApiResult, Code},
    service::auth::PartnerCaller,
    state::App,
};

/// Who acts on an opportunity (recorded in its history).
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    Partner(&'a PartnerCaller),
    Vendor,
    System,
}

impl Actor<'_> {
    fn kind(&self) -> &'static str {
        match self {
            Actor::Partner(p) if p.operator.is_some() => "operator",
            Actor::Partner(_) => "partner",
            Actor::Vendor => "vendor",
            Actor::System => "system",
        }
    }
    fn id(&self) -> Option<&str> {
        match self {
            Actor::Partner(p) => Some(p.actor_id()),
            _ => None,
        }
    }
}

/// The fields a partner (or the vendor, for an HO) fills in. `None` leaves a field unchanged on
/// an update.
#[derive(Debug, Default, Clone)]
pub struct Fields {
    pub title: Option<String>,
    pub industry: Option<String>,
    pub opportunity_type: Option<String>,
    pub stage: Option<String>,
    pub confidence: Option<i16>,
    /// Fen.
    pub expected_monthly_revenue: Option<i64>,
    pub expected_close_date: Option<NaiveDate>,
    pub product_line: Option<String>,
    pub products: Option<Vec<String>>,
    pub description: Option<String>,
    pub next_step: Option<String>,
    pub technical_exchange: Option<String>,
    pub test_status: Option<String>,
}

/// Fields that may change after approval (progress updates).
const PROGRESS_FIELDS: &[&str] = &[
    "stage",
    "confidence",
    "expected_monthly_revenue",
    "expected_close_date",
    "description",
    "next_step",
    "technical_exchange",
    "test_status",
];

impl Fields {
    /// The names of the fields that are set, with their new values (for the history).
    fn changes(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        let mut put = |k: &str, v: Option<serde_json::Value>| {
            if let Some(v) = v {
                m.insert(k.to_string(), v);
            }
        };
        put("title", self.title.clone().map(Into::into));
        put("industry", self.industry.clone().map(Into::into));
        put(
            "opportunity_type",
            self.opportunity_type.clone().map(Into::into),
        );
        put("stage", self.stage.clone().map(Into::into));
        put("confidence", self.confidence.map(Into::into));
        put(
            "expected_monthly_revenue",
            self.expected_monthly_revenue
                .map(|f| crate::domain::money::fen_to_string(f).into()),
        );
        put(
            "expected_close_date",
            self.expected_close_date.map(|d| d.to_string().into()),
        );
        put("product_line", self.product_line.clone().map(Into::into));
        put("products", self.products.clone().map(Into::into));
        put("description", self.description.clone().map(Into::into));
        put("next_step", self.next_step.clone().map(Into::into));
        put(
            "technical_exchange",
            self.technical_exchange.clone().map(Into::into),
        );
        put("test_status", self.test_status.clone().map(Into::into));
        m
    }

    fn apply(self, o: &mut OpportunityRow) {
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = self.$f { o.$f = v.into(); } )* };
        }
        set!(
            industry,
            opportunity_type,
            stage,
            confidence,
            expected_monthly_revenue,
            expected_close_date,
            product_line,
            description,
            next_step,
            technical_exchange,
            test_status
        );
        if let Some(t) = self.title {
            o.title = t;
        }
        if let Some(p) = self.products {
            o.products = p;
        }
    }
}

/// Whom an opportunity is about.
#[derive(Debug, Clone)]
pub enum Subject {
    /// A sub-customer (for a distributor, possibly of one of its resellers).
    Customer {
        customer_id: String,
        indirect_partner_id: Option<String>,
    },
    /// Someone not (yet) a customer.
    Prospect {
        name: String,
        industry: Option<String>,
    },
}

fn customer_key(s: &Subject) -> String {
    match s {
        Subject::Customer { customer_id, .. } => customer_id.clone(),
        Subject::Prospect { name, .. } => format!("prospect:{}", name.trim().to_lowercase()),
    }
}

pub struct NewPo {
    pub subject: Subject,
    pub fields: Fields,
    pub customer_consent: bool,
}

fn not_found() -> ApiError {
    ApiError::business(
        codes::OPPORTUNITY_NOT_FOUND,
        "The opportunity does not exist.",
    )
}

fn not_sub_customer() -> ApiError {
    ApiError::business(
        codes::NOT_SUB_CUSTOMER,
        "The customer is not your sub-customer.",
    )
}

fn state_error(o: &OpportunityRow, action: Action) -> ApiError {
    let why = match (o.status.as_str(), action) {
        ("SUBMITTED", Action::Edit | Action::Progress) => {
            " (it is under the vendor's review and cannot be edited)".to_string()
        }
        _ => String::new(),
    };
    ApiError::business(
        codes::OPPORTUNITY_STATE,
        format!(
            "The opportunity is {} ({}); it cannot be {}{why}.",
            o.status,
            o.origin,
            match action {
                Action::Edit | Action::Progress => "updated",
                Action::Submit => "submitted",
                Action::Approve => "approved",
                Action::Reject => "rejected",
                Action::Accept => "accepted",
                Action::Decline => "declined",
                Action::Expire => "expired",
                Action::Win | Action::Lose => "closed",
            }
        ),
    )
}

fn origin_of(o: &OpportunityRow) -> ApiResult<Origin> {
    Origin::parse(&o.origin).ok_or_else(|| ApiError::internal(anyhow::anyhow!("bad origin")))
}

fn status_of(o: &OpportunityRow) -> ApiResult<Status> {
    Status::parse(&o.status).ok_or_else(|| ApiError::internal(anyhow::anyhow!("bad status")))
}

/// The entity tag of a version (sent as `ETag`, expected back in `If-Match`).
pub fn etag(o: &OpportunityRow) -> String {
    format!("\"{}\"", o.version)
}

/// Whether an `If-Match` value (one or more tags, weak or strong, quoted or not) names `current`.
fn matches_etag(header: &str, current: &str) -> bool {
    let bare = current.trim_matches('"');
    header.split(',').any(|t| {
        let t = t.trim();
        let t = t.strip_prefix("W/").unwrap_or(t);
        t.trim_matches('"') == bare
    })
}

/// `If-Match` handling: `required` and absent ⇒ 428; present and stale ⇒ 412 (nothing changes).
pub fn check_if_match(o: &OpportunityRow, if_match: Option<&str>, required: bool) -> ApiResult<()> {
    match if_match {
        None if required => Err(ApiError::new(
            Code::PreconditionRequired,
            "This update needs an If-Match header with the opportunity's etag.",
        )),
        None => Ok(()),
        Some(h) if matches_etag(h, &etag(o)) => Ok(()),
        Some(_) => Err(ApiError::new(
            Code::PreconditionFailed,
            format!(
                "The opportunity has changed (its etag is now {}); read it again and retry.",
                etag(o)
            ),
        )),
    }
}

/// Whether the partner caller may see this opportunity (its own, and within a manager's scope).
fn visible(caller: &PartnerCaller, o: &OpportunityRow) -> bool {
    o.partner_id == caller.account_id && caller.may_see(o.manager_id.as_deref())
}

pub fn is_supervisor(caller: &PartnerCaller) -> bool {
    caller
        .operator
        .as_ref()
        .is_some_and(|op| op.scope == crate::domain::permissions::OperatorScope::Supervisor)
}

pub fn is_manager(caller: &PartnerCaller) -> Option<&str> {
    caller
        .operator
        .as_ref()
        .filter(|op| op.scope == crate::domain::permissions::OperatorScope::Manager)
        .map(|op| op.id.as_str())
}

pub fn supervisor_denied() -> ApiError {
    ApiError::new(
        Code::AccessDenied,
        "Access denied: a supervisor sees its managers' opportunities and cannot change them.",
    )
}

/// Writes a changed opportunity (the caller holds its lock) with its history entry.
async fn save(
    conn: &mut PgConnection,
    o: &OpportunityRow,
    action: &str,
    from: Option<&str>,
    actor: Actor<'_>,
    changes: Option<serde_json::Value>,
) -> ApiResult<()> {
    db::opportunities::update(conn, o).await?;
    record(conn, o, action, from, actor, changes).await
}

async fn record(
    conn: &mut PgConnection,
    o: &OpportunityRow,
    action: &str,
    from: Option<&str>,
    actor: Actor<'_>,
    changes: Option<serde_json::Value>,
) -> ApiResult<()> {
    db::opportunities::insert_event(
        conn,
        &db::opportunities::NewEvent {
            opportunity_id: &o.id,
            action,
            from_status: from,
            to_status: &o.status,
            actor_kind: actor.kind(),
            actor_id: actor.id(),
            reason: o.reason.as_deref().filter(|_| {
                matches!(
                    action,
                    "reject" | "decline" | "expire" | "win" | "lose" | "approve" | "create"
                )
            }),
            changes,
            at: o.updated_at,
        },
    )
    .await?;
    Ok(())
}

/// The customer the caller registers for: checks ownership and the manager's scope, returns the
/// customer's manager.
async fn check_subject(
    conn: &mut PgConnection,
    caller: &PartnerCaller,
    subject: &Subject,
) -> ApiResult<Option<String>> {
    let Subject::Customer {
        customer_id,
        indirect_partner_id,
    } = subject
    else {
        return Ok(None);
    };
    let link = db::opportunities::customer_link(conn, customer_id)
        .await?
        .ok_or_else(not_sub_customer)?;
    match indirect_partner_id {
        Some(reseller) => {
            let ok = caller.is_distributor()
                && db::partners::find_partner(conn, reseller)
                    .await?
                    .is_some_and(|r| r.distributor_id.as_deref() == Some(&caller.account_id));
            if !ok {
                return Err(ApiError::business(
                    codes::NOT_YOUR_RESELLER,
                    "The indirect partner is not your reseller.",
                ));
            }
            // A reseller's customers are assigned within the reseller, never to our managers.
            if link.partner_id.as_deref() != Some(reseller) || caller.manager_scope().is_some() {
                return Err(not_sub_customer());
            }
            Ok(None)
        }
        None => {
            if link.partner_id.as_deref() != Some(&caller.account_id)
                || !caller.may_see(link.manager_id.as_deref())
            {
                return Err(not_sub_customer());
            }
            Ok(link.manager_id)
        }
    }
}

fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A partner reports an opportunity (PO), saved as `DRAFT`.
pub async fn create_po(
    app: &App,
    caller: &PartnerCaller,
    input: NewPo,
) -> ApiResult<OpportunityRow> {
    if is_supervisor(caller) {
        return Err(supervisor_denied());
    }
    if !input.customer_consent {
        return Err(ApiError::invalid(
            "customer_consent",
            "must be true: the customer must agree to be reported to the vendor",
        ));
    }
    let mut tx = app.db.begin().await?;
    let o = create_po_in(&mut tx, caller, input, app.now()).await?;
    tx.commit().await?;
    Ok(o)
}

/// [`create_po`] inside the caller's transaction (a lead converted to an opportunity).
pub async fn create_po_in(
    tx: &mut PgConnection,
    caller: &PartnerCaller,
    input: NewPo,
    now: DateTime<Utc>,
) -> ApiResult<OpportunityRow> {
    let customer_manager = check_subject(&mut *tx, caller, &input.subject).await?;
    let manager_id = is_manager(caller).map(str::to_string).or(customer_manager);
    let mut o = blank(
        &caller.account_id,
        Origin::Po,
        Status::Draft,
        &input.subject,
        caller.actor_id(),
        now,
    );
    o.customer_consent = true;
    o.manager_id = manager_id;
    input.fields.apply(&mut o);
    db::opportunities::insert(&mut *tx, &o).await?;
    record(&mut *tx, &o, "create", None, Actor::Partner(caller), None).await?;
    Ok(o)
}

fn blank(
    partner_id: &str,
    origin: Origin,
    status: Status,
    subject: &Subject,
    created_by: &str,
    now: DateTime<Utc>,
) -> OpportunityRow {
    let (customer_id, indirect_partner_id, prospect_name, prospect_industry) = match subject {
        Subject::Customer {
            customer_id,
            indirect_partner_id,
        } => (
            Some(customer_id.clone()),
            indirect_partner_id.clone(),
            None,
            None,
        ),
        Subject::Prospect { name, industry } => (None, None, Some(name.clone()), industry.clone()),
    };
    OpportunityRow {
        id: new_id(),
        partner_id: partner_id.to_string(),
        origin: origin.as_str().into(),
        status: status.as_str().into(),
        customer_id,
        indirect_partner_id,
        prospect_name,
        prospect_industry,
        customer_key: customer_key(subject),
        title: String::new(),
        industry: None,
        opportunity_type: None,
        stage: None,
        confidence: None,
        expected_monthly_revenue: None,
        expected_close_date: None,
        product_line: None,
        products: vec![],
        description: None,
        next_step: None,
        technical_exchange: None,
        test_status: None,
        customer_consent: false,
        manager_id: None,
        created_by: created_by.to_string(),
        reason: None,
        duplicate_of: None,
        accept_deadline: None,
        approved_at: None,
        closed_at: None,
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

/// Marks `o` (taking its place now) `DUPLICATE` when an earlier registration of the same
/// customer and product line holds its place. Serialised per key by an advisory lock.
async fn apply_duplicate_rule(
    conn: &mut PgConnection,
    o: &mut OpportunityRow,
    place_taken_at: DateTime<Utc>,
) -> ApiResult<()> {
    let Some(line) = o.product_line.clone() else {
        return Ok(());
    };
    db::opportunities::lock_dedup_key(conn, &o.customer_key, &line).await?;
    let holders = db::opportunities::place_holders(conn, &o.customer_key, &line, &o.id).await?;
    let times: Vec<(&str, DateTime<Utc>)> = holders
        .iter()
        .filter_map(|(id, origin, created, approved)| {
            let origin = Origin::parse(origin)?;
            selling::precedence_time(origin, *created, *approved).map(|t| (id.as_str(), t))
        })
        .collect();
    if let Some(winner) = selling::duplicate_of(place_taken_at, times) {
        o.status = Status::Duplicate.as_str().into();
        o.duplicate_of = Some(winner.to_string());
    }
    Ok(())
}

/// Loads the calendar exceptions a deadline computed from `from` may need.
async fn calendar_from(
    conn: &mut PgConnection,
    from: NaiveDate,
) -> ApiResult<HashMap<NaiveDate, DayKind>> {
    let rows = db::opportunities::calendar(
        conn,
        from,
        from + Duration::days(selling::CALENDAR_LOOKAHEAD_DAYS + 1),
    )
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(d, k, _)| DayKind::parse(&k).map(|k| (d, k)))
        .collect())
}

pub struct NewHo {
    pub partner_id: String,
    pub subject: Subject,
    pub fields: Fields,
}

/// The vendor shares an opportunity with a partner (HO), `PENDING_ACCEPTANCE` until answered or
/// taken back after [`selling::HO_ACCEPT_WORKING_DAYS`] working days.
pub async fn create_ho(app: &App, input: NewHo) -> ApiResult<OpportunityRow> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let partner = db::partners::find_partner(&mut tx, &input.partner_id)
        .await?
        .ok_or_else(|| ApiError::invalid("partner_id", "no such partner"))?;
    let manager_id = match &input.subject {
        Subject::Customer {
            customer_id,
            indirect_partner_id,
        } => {
            if indirect_partner_id.is_some() {
                return Err(ApiError::invalid(
                    "indirect_partner_id",
                    "is not used when the vendor shares an opportunity; give the reseller as partner_id",
                ));
            }
            let link = db::opportunities::customer_link(&mut tx, customer_id)
                .await?
                .filter(|l| l.partner_id.as_deref() == Some(&partner.account_id))
                .ok_or_else(|| {
                    ApiError::invalid("customer_id", "is not a customer of the partner")
                })?;
            link.manager_id
        }
        Subject::Prospect { .. } => None,
    };
    let cal = calendar_from(&mut tx, selling::business_date(now)).await?;
    let mut o = blank(
        &partner.account_id,
        Origin::Ho,
        Status::PendingAcceptance,
        &input.subject,
        "vendor",
        now,
    );
    o.manager_id = manager_id;
    o.customer_consent = true;
    o.accept_deadline = Some(selling::accept_deadline(
        now,
        selling::HO_ACCEPT_WORKING_DAYS,
        |d| cal.get(&d).copied(),
    ));
    input.fields.apply(&mut o);
    apply_duplicate_rule(&mut tx, &mut o, now).await?;
    db::opportunities::insert(&mut tx, &o).await?;
    let changes = o
        .duplicate_of
        .as_ref()
        .map(|d| serde_json::json!({ "duplicate_of": d }));
    record(&mut tx, &o, "create", None, Actor::Vendor, changes).await?;
    tx.commit().await?;
    Ok(o)
}

/// One of the caller's opportunities with its history.
pub async fn get_for_partner(
    app: &App,
    caller: &PartnerCaller,
    id: &str,
) -> ApiResult<(OpportunityRow, Vec<db::opportunities::EventRow>)> {
    expire_overdue(app, Some(&caller.account_id)).await?;
    let mut conn = app.db.acquire().await?;
    let o = db::opportunities::find(&mut conn, id)
        .await?
        .filter(|o| visible(caller, o))
        .ok_or_else(not_found)?;
    let events = db::opportunities::events(&mut conn, id).await?;
    Ok((o, events))
}

pub async fn get_for_vendor(
    app: &App,
    id: &str,
) -> ApiResult<(OpportunityRow, Vec<db::opportunities::EventRow>)> {
    expire_overdue(app, None).await?;
    let mut conn = app.db.acquire().await?;
    let o = db::opportunities::find(&mut conn, id)
        .await?
        .ok_or_else(not_found)?;
    let events = db::opportunities::events(&mut conn, id).await?;
    Ok((o, events))
}

/// The caller's opportunities (a manager's or supervisor's within its scope).
pub async fn list_for_partner(
    app: &App,
    caller: &PartnerCaller,
    mut filter: db::opportunities::Filter,
    offset: i64,
    limit: i64,
) -> ApiResult<(i64, Vec<OpportunityRow>)> {
    expire_overdue(app, Some(&caller.account_id)).await?;
    filter.partner_id = Some(caller.account_id.clone());
    filter.managers = caller.manager_scope().map(<[String]>::to_vec);
    let mut conn = app.db.acquire().await?;
    Ok(db::opportunities::list(&mut conn, &filter, offset, limit).await?)
}

pub async fn list_for_vendor(
    app: &App,
    filter: db::opportunities::Filter,
    offset: i64,
    limit: i64,
) -> ApiResult<(i64, Vec<OpportunityRow>)> {
    expire_overdue(app, None).await?;
    let mut conn = app.db.acquire().await?;
    Ok(db::opportunities::list(&mut conn, &filter, offset, limit).await?)
}
