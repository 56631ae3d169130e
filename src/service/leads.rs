//! Leads (线索): dispatched by the vendor or the partner's own; assigned to managers, followed
//! up, converted to a sub-customer or an opportunity (the link is kept), or closed. For partners
//! in marketing plan 2.0 the contact's phone and e-mail are masked.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::{
    db::{self, leads::LeadRow},
    domain::selling,
    error::{codes, ApiError, ApiResult},
    service::{
        auth::PartnerCaller,
        customers::{self, NewSubCustomer},
        opportunities::{self, Fields, NewPo, Subject},
    },
    state::App,
};

#[derive(Debug, Clone, Default)]
pub struct NewLead {
    pub company: String,
    pub contact_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub industry: Option<String>,
    pub description: Option<String>,
}

/// A lead as its reader may see it.
pub struct LeadView {
    pub lead: LeadRow,
    /// Phone and e-mail were masked (marketing plan 2.0).
    pub masked: bool,
    pub follow_ups: Option<Vec<db::leads::FollowUpRow>>,
}

fn not_found() -> ApiError {
    ApiError::business(codes::LEAD_NOT_FOUND, "The lead does not exist.")
}

fn closed(l: &LeadRow) -> ApiError {
    ApiError::business(
        codes::LEAD_CLOSED,
        format!("The lead is {}; it can no longer change.", l.status),
    )
}

fn blank(partner_id: &str, origin: &str, input: NewLead, by: &str, now: DateTime<Utc>) -> LeadRow {
    LeadRow {
        id: uuid::Uuid::new_v4().simple().to_string(),
        partner_id: partner_id.to_string(),
        origin: origin.to_string(),
        status: "NEW".into(),
        company: input.company,
        contact_name: input.contact_name,
        phone: input.phone,
        email: input.email,
        industry: input.industry,
        description: input.description,
        manager_id: None,
        converted_customer_id: None,
        converted_opportunity_id: None,
        close_reason: None,
        created_by: by.to_string(),
        created_at: now,
        updated_at: now,
    }
}

/// The vendor dispatches a lead to a partner.
pub async fn dispatch(app: &App, partner_id: &str, input: NewLead) -> ApiResult<LeadRow> {
    let mut conn = app.db.acquire().await?;
    if db::partners::find_partner(&mut conn, partner_id)
        .await?
        .is_none()
    {
        return Err(ApiError::invalid("partner_id", "no such partner"));
    }
    let l = blank(partner_id, "VENDOR", input, "vendor", app.now());
    db::leads::insert(&mut conn, &l).await?;
    Ok(l)
}

/// The partner records a lead of its own (a manager's is assigned to itself).
pub async fn create_own(app: &App, caller: &PartnerCaller, input: NewLead) -> ApiResult<LeadView> {
    if opportunities::is_supervisor(caller) {
        return Err(opportunities::supervisor_denied());
    }
    let mut conn = app.db.acquire().await?;
    let mut l = blank(
        &caller.account_id,
        "OWN",
        input,
        caller.actor_id(),
        app.now(),
    );
    l.manager_id = opportunities::is_manager(caller).map(str::to_string);
    db::leads::insert(&mut conn, &l).await?;
    view(&mut conn, caller, l, None).await
}

async fn view(
    conn: &mut PgConnection,
    caller: &PartnerCaller,
    mut l: LeadRow,
    follow_ups: Option<Vec<db::leads::FollowUpRow>>,
) -> ApiResult<LeadView> {
    let plan = db::leads::marketing_plan(conn, &caller.account_id).await?;
    let masked = plan.as_deref() == Some("2.0");
    if masked {
        mask(&mut l);
    }
    Ok(LeadView {
        lead: l,
        masked,
        follow_ups,
    })
}

fn mask(l: &mut LeadRow) {
    l.phone = l.phone.as_deref().map(selling::mask_phone);
    l.email = l.email.as_deref().map(selling::mask_email);
}

fn visible(caller: &PartnerCaller, l: &LeadRow) -> bool {
    l.partner_id == caller.account_id && caller.may_see(l.manager_id.as_deref())
}

pub async fn get(app: &App, caller: &PartnerCaller, id: &str) -> ApiResult<LeadView> {
    let mut conn = app.db.acquire().await?;
    let l = db::leads::find(&mut conn, id, false)
        .await?
        .filter(|l| visible(caller, l))
        .ok_or_else(not_found)?;
    let f = db::leads::follow_ups(&mut conn, id).await?;
    view(&mut conn, caller, l, Some(f)).await
}

pub async fn list(
    app: &App,
    caller: &PartnerCaller,
    mut filter: db::leads::Filter,
    offset: i64,
    limit: i64,
) -> ApiResult<(i64, Vec<LeadView>, bool)> {
    filter.partner_id = caller.account_id.clone();
    filter.managers = caller.manager_scope().map(<[String]>::to_vec);
    let mut conn = app.db.acquire().await?;
    let (total, rows) = db::leads::list(&mut conn, &filter, offset, limit).await?;
    let plan = db::leads::marketing_plan(&mut conn, &caller.account_id).await?;
    let masked = plan.as_deref() == Some("2.0");
    let views = rows
        .into_iter()
        .map(|mut l| {
            if masked {
                mask(&mut l);
            }
            LeadView {
                lead: l,
                masked,
                follow_ups: None,
            }
        })
        .collect();
    Ok((total, views, masked))
}

/// Locks one of the caller's open leads for a change.
async fn lock_open(
    conn: &mut PgConnection,
    caller: &PartnerCaller,
    id: &str,
) -> ApiResult<LeadRow> {
    if opportunities::is_supervisor(caller) {
        return Err(opportunities::supervisor_denied());
    }
    let l = db::leads::find(conn, id, true)
        .await?
        .filter(|l| visible(caller, l))
        .ok_or_else(not_found)?;
    if !selling::lead_is_open(&l.status) {
        return Err(closed(&l));
    }
    Ok(l)
}

/// Assigns a lead to one of the partner's managers (a manager may only keep it).
pub async fn assign(
    app: &App,
    caller: &PartnerCaller,
    id: &str,
    manager_id: Option<&str>,
) -> ApiResult<LeadView> {
    let mut tx = app.db.begin().await?;
    let mut l = lock_open(&mut tx, caller, id).await?;
    if let Some(m) = manager_id {
        crate::service::organisation::check_manager(&mut tx, &caller.account_id, m).await?;
    }
    if !caller.may_see(manager_id) {
        return Err(ApiError::access_denied());
    }
    l.manager_id = manager_id.map(str::to_string);
    l.updated_at = app.now();
    db::leads::update(&mut tx, &l).await?;
    let v = view(&mut tx, caller, l, None).await?;
    tx.commit().await?;
    Ok(v)
}

/// Records a follow-up (the lead becomes `FOLLOWING`).
pub async fn follow_up(
    app: &App,
    caller: &PartnerCaller,
    id: &str,
    content: &str,
) -> ApiResult<LeadView> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut l = lock_open(&mut tx, caller, id).await?;
    db::leads::insert_follow_up(&mut tx, id, caller.actor_id(), content, now).await?;
    l.status = "FOLLOWING".into();
    l.updated_at = now;
    db::leads::update(&mut tx, &l).await?;
    let f = db::leads::follow_ups(&mut tx, id).await?;
    let v = view(&mut tx, caller, l, Some(f)).await?;
    tx.commit().await?;
    Ok(v)
}

/// Closes an open lead with a reason.
pub async fn close(
    app: &App,
    caller: &PartnerCaller,
    id: &str,
    reason: &str,
) -> ApiResult<LeadView> {
    let mut tx = app.db.begin().await?;
    let mut l = lock_open(&mut tx, caller, id).await?;
    l.status = "CLOSED".into();
    l.close_reason = Some(reason.to_string());
    l.updated_at = app.now();
    db::leads::update(&mut tx, &l).await?;
    let v = view(&mut tx, caller, l, None).await?;
    tx.commit().await?;
    Ok(v)
}

/// Converts an open lead into a PO opportunity (a `DRAFT` about the lead's company as a prospect)
/// in one transaction.
pub async fn convert_to_opportunity(
    app: &App,
    caller: &PartnerCaller,
    id: &str,
    fields: Fields,
) -> ApiResult<(LeadView, String)> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut l = lock_open(&mut tx, caller, id).await?;
    let mut fields = fields;
    if fields.title.is_none() {
        fields.title = Some(l.company.clone());
    }
    if fields.industry.is_none() {
        fields.industry = l.industry.clone();
    }
    let o = opportunities::create_po_in(
        &mut tx,
        caller,
        NewPo {
            subject: Subject::Prospect {
                name: l.company.clone(),
                industry: l.industry.clone(),
            },
            fields,
            customer_consent: true,
        },
        now,
    )
    .await?;
    l.status = "CONVERTED".into();
    l.converted_opportunity_id = Some(o.id.clone());
    l.updated_at = now;
    db::leads::update(&mut tx, &l).await?;
    let v = view(&mut tx, caller, l, None).await?;
    tx.commit().await?;
    Ok((v, o.id))
}

/// Converts an open lead into a sub-customer through the create-sub-customer service, then
/// links it (`CONVERTED`, `converted_customer_id`); the customer goes to the lead's manager.
/// The customer is created first: if the lead closed meanwhile the customer stays, unlinked.
pub async fn convert_to_customer(
    app: &App,
    caller: &PartnerCaller,
    id: &str,
    req: NewSubCustomer,
) -> ApiResult<LeadView> {
    {
        let mut conn = app.db.acquire().await?;
        let l = db::leads::find(&mut conn, id, false)
            .await?
            .filter(|l| visible(caller, l))
            .ok_or_else(not_found)?;
        if !selling::lead_is_open(&l.status) {
            return Err(closed(&l));
        }
        if opportunities::is_supervisor(caller) {
            return Err(opportunities::supervisor_denied());
        }
    }
    let created = customers::create_sub_customer(app, caller, req).await?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut l = lock_open(&mut tx, caller, id).await?;
    if let Some(m) = l.manager_id.as_deref() {
        if db::organisation::lock_customer_manager(&mut tx, &caller.account_id, &created.domain_id)
            .await?
            .is_some()
        {
            db::organisation::insert_assignment(
                &mut tx,
                &created.domain_id,
                &caller.account_id,
                Some(m),
                caller.actor_id(),
                now,
            )
            .await?;
            db::organisation::set_customer_manager(&mut tx, &created.domain_id, Some(m)).await?;
        }
    }
    l.status = "CONVERTED".into();
    l.converted_customer_id = Some(created.domain_id);
    l.updated_at = now;
    db::leads::update(&mut tx, &l).await?;
    let v = view(&mut tx, caller, l, None).await?;
    tx.commit().await?;
    Ok(v)
}

/// The vendor sets a partner's marketing plan (`1.0` | `2.0`).
pub async fn set_marketing_plan(app: &App, partner_id: &str, plan: &str) -> ApiResult<()> {
    if !matches!(plan, "1.0" | "2.0") {
        return Err(ApiError::invalid(
            "marketing_plan",
            "must be \"1.0\" or \"2.0\"",
        ));
    }
    let mut conn = app.db.acquire().await?;
    if !db::leads::set_marketing_plan(&mut conn, partner_id, plan).await? {
        return Err(ApiError::invalid("partner_id", "no such partner"));
    }
    Ok(())
}
