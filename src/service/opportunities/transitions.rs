//! What happens to an opportunity after it exists: progress updates under `If-Match`, the
//! partner's transitions, the vendor's review, and the expiry of overdue ones.

use super::*;

/// Takes back every HO whose acceptance deadline has passed (of one partner, or all): status
/// `EXPIRED`, with a history entry by the system. Returns how many.
pub async fn expire_overdue(app: &App, partner_id: Option<&str>) -> ApiResult<u64> {
    let now = app.now();
    let mut total = 0u64;
    loop {
        let mut tx = app.db.begin().await?;
        let rows = db::opportunities::lock_overdue(&mut tx, now, partner_id, 200).await?;
        let n = rows.len();
        for mut o in rows {
            expire(&mut tx, &mut o, now).await?;
        }
        tx.commit().await?;
        total += n as u64;
        if n < 200 {
            return Ok(total);
        }
    }
}

async fn expire(
    conn: &mut PgConnection,
    o: &mut OpportunityRow,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let from = o.status.clone();
    o.status = Status::Expired.as_str().into();
    o.reason = Some(format!(
        "not accepted within {} working days; taken back by the vendor",
        selling::HO_ACCEPT_WORKING_DAYS
    ));
    o.version += 1;
    o.updated_at = now;
    o.closed_at = Some(now);
    save(conn, o, "expire", Some(&from), Actor::System, None).await
}

/// Locks one of the caller's opportunities for a change.
async fn lock_own(
    conn: &mut PgConnection,
    caller: &PartnerCaller,
    id: &str,
) -> ApiResult<OpportunityRow> {
    if is_supervisor(caller) {
        return Err(supervisor_denied());
    }
    db::opportunities::lock(conn, id)
        .await?
        .filter(|o| visible(caller, o))
        .ok_or_else(not_found)
}

fn bump(o: &mut OpportunityRow, now: DateTime<Utc>) {
    o.version += 1;
    o.updated_at = now.max(o.updated_at);
}

/// `PUT`: edits a draft or rejected PO (any field), or records progress of an approved PO /
/// accepted HO (progress fields only). Needs `If-Match`.
pub async fn update(
    app: &App,
    caller: &PartnerCaller,
    id: &str,
    if_match: Option<&str>,
    fields: Fields,
    subject: Option<Subject>,
) -> ApiResult<OpportunityRow> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut o = lock_own(&mut tx, caller, id).await?;
    check_if_match(&o, if_match, true)?;
    let (origin, status) = (origin_of(&o)?, status_of(&o)?);
    let action = if selling::transition(origin, status, Action::Edit).is_some() {
        Action::Edit
    } else if selling::transition(origin, status, Action::Progress).is_some() {
        Action::Progress
    } else {
        return Err(state_error(&o, Action::Edit));
    };
    let mut changes = fields.changes();
    if action == Action::Progress {
        if let Some(k) = changes
            .keys()
            .find(|k| !PROGRESS_FIELDS.contains(&k.as_str()))
        {
            return Err(ApiError::invalid(
                k,
                "cannot change once the opportunity is approved or accepted (progress updates: stage, confidence, expected_monthly_revenue, expected_close_date, description, next_step, technical_exchange, test_status)",
            ));
        }
        if subject.is_some() {
            return Err(ApiError::invalid(
                "customer_id",
                "cannot change once the opportunity is approved or accepted",
            ));
        }
    }
    if let Some(s) = subject {
        if origin == Origin::Ho {
            return Err(ApiError::invalid(
                "customer_id",
                "an HO's customer is the vendor's",
            ));
        }
        let customer_manager = check_subject(&mut tx, caller, &s).await?;
        let fresh = blank(&o.partner_id, origin, status, &s, &o.created_by, now);
        o.customer_id = fresh.customer_id;
        o.indirect_partner_id = fresh.indirect_partner_id;
        o.prospect_name = fresh.prospect_name;
        o.prospect_industry = fresh.prospect_industry;
        o.customer_key = fresh.customer_key;
        if is_manager(caller).is_none() {
            o.manager_id = customer_manager;
        }
        changes.insert("customer_key".into(), o.customer_key.clone().into());
    }
    if changes.is_empty() {
        return Err(ApiError::invalid("body", "names no field to change"));
    }
    fields.apply(&mut o);
    bump(&mut o, now);
    let from = o.status.clone();
    save(
        &mut tx,
        &o,
        action.as_str(),
        Some(&from),
        Actor::Partner(caller),
        Some(changes.into()),
    )
    .await?;
    tx.commit().await?;
    Ok(o)
}

/// A partner-side state change (submit, accept, decline, win, lose); `If-Match` checked when
/// given (`if_match_required` for closing).
pub async fn partner_transition(
    app: &App,
    caller: &PartnerCaller,
    id: &str,
    if_match: Option<&str>,
    action: Action,
    reason: Option<String>,
) -> ApiResult<OpportunityRow> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut o = lock_own(&mut tx, caller, id).await?;
    check_if_match(&o, if_match, matches!(action, Action::Win | Action::Lose))?;
    let (origin, status) = (origin_of(&o)?, status_of(&o)?);
    if status == Status::PendingAcceptance
        && o.accept_deadline.is_some_and(|d| d <= now)
        && matches!(action, Action::Accept | Action::Decline)
    {
        // Lazy evaluation: the sweep has not run yet, the clock has.
        expire(&mut tx, &mut o, now).await?;
        tx.commit().await?;
        return Err(ApiError::business(
            codes::ACCEPT_DEADLINE_PASSED,
            "The acceptance deadline has passed; the vendor took the opportunity back.",
        ));
    }
    let to = selling::transition(origin, status, action).ok_or_else(|| state_error(&o, action))?;
    o.status = to.as_str().into();
    if reason.is_some() || matches!(action, Action::Submit | Action::Accept) {
        o.reason = reason;
    }
    if matches!(action, Action::Win | Action::Lose | Action::Decline) {
        o.closed_at = Some(now);
    }
    bump(&mut o, now);
    save(
        &mut tx,
        &o,
        action.as_str(),
        Some(status.as_str()),
        Actor::Partner(caller),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(o)
}

/// The vendor's review of a submitted PO: approve (then the duplicate rule) or reject.
pub async fn review(
    app: &App,
    id: &str,
    approve: bool,
    reason: Option<String>,
) -> ApiResult<OpportunityRow> {
    let now = app.now();
    let action = if approve {
        Action::Approve
    } else {
        Action::Reject
    };
    let mut tx = app.db.begin().await?;
    let mut o = db::opportunities::lock(&mut tx, id)
        .await?
        .ok_or_else(not_found)?;
    let (origin, status) = (origin_of(&o)?, status_of(&o)?);
    let to = selling::transition(origin, status, action).ok_or_else(|| state_error(&o, action))?;
    o.status = to.as_str().into();
    o.reason = reason;
    o.duplicate_of = None;
    let mut changes = None;
    if approve {
        o.approved_at = Some(now);
        apply_duplicate_rule(&mut tx, &mut o, now).await?;
        changes = o
            .duplicate_of
            .as_ref()
            .map(|d| serde_json::json!({ "duplicate_of": d }));
    }
    bump(&mut o, now);
    save(
        &mut tx,
        &o,
        action.as_str(),
        Some(status.as_str()),
        Actor::Vendor,
        changes,
    )
    .await?;
    tx.commit().await?;
    Ok(o)
}
