//! The customer relationship over time: new-customer tags, freezing, association events.

use chrono::{DateTime, Datelike, Utc};

use crate::{
    db,
    error::{codes, ApiError, ApiResult},
    service::{auth::PartnerCaller, organisation, partners},
    state::App,
};

/// The SMB new-customer tag of one customer.
pub struct NewCustomerTag {
    pub customer_id: String,
    /// `Y`, `N` or `UNDETERMINED`; `None` when the customer is not real-name verified.
    pub tag: Option<&'static str>,
    pub effective_time: Option<String>,
    pub expire_time: Option<String>,
}

/// A verified customer registered through the partner is a new customer for 12 months starting
/// with the month of its verification; after that it is `N`. A customer under review is
/// `UNDETERMINED`; an unverified customer has no tag.
pub fn tag_for(row: &db::lifecycle::TagRow, now: DateTime<Utc>) -> NewCustomerTag {
    let month = |y: i32, m: u32| format!("{y:04}-{m:02}");
    let (tag, eff, exp) = match (row.verified_status.as_str(), row.verified_at) {
        ("2", Some(at)) => {
            let (y, m) = (at.year(), at.month());
            let end_index = y * 12 + (m as i32 - 1) + 11;
            let (ey, em) = (end_index / 12, (end_index % 12) as u32 + 1);
            let now_index = now.year() * 12 + (now.month() as i32 - 1);
            let tag = if row.registered_here && now_index <= end_index {
                "Y"
            } else {
                "N"
            };
            (Some(tag), Some(month(y, m)), Some(month(ey, em)))
        }
        ("0", _) => (Some("UNDETERMINED"), None, None),
        _ => (None, None, None),
    };
    NewCustomerTag {
        customer_id: row.customer_id.clone(),
        tag,
        effective_time: eff,
        expire_time: exp,
    }
}

pub async fn new_customer_tags(
    app: &App,
    caller: &PartnerCaller,
    ids: Option<Vec<String>>,
    indirect_partner_id: Option<&str>,
    offset: i64,
    limit: i64,
) -> ApiResult<Vec<NewCustomerTag>> {
    let mut conn = app.db.acquire().await?;
    let acting = partners::resolve_acting(&mut conn, caller, indirect_partner_id).await?;
    let rows = db::lifecycle::list_tag_rows(
        &mut conn,
        &acting.partner_id,
        ids.as_deref(),
        caller.manager_scope(),
        offset,
        limit,
    )
    .await?;
    let now = app.now();
    Ok(rows.iter().map(|r| tag_for(r, now)).collect())
}

/// One failed item of a batch call.
pub struct ItemError {
    pub id: String,
    pub code: &'static str,
    pub message: String,
}

/// Freezes (`freeze = true`) or unfreezes resale customers of the acting partner; each customer
/// succeeds or fails on its own.
pub async fn set_frozen(
    app: &App,
    caller: &PartnerCaller,
    customer_ids: &[String],
    reason: &str,
    indirect_partner_id: Option<&str>,
    freeze: bool,
) -> ApiResult<Vec<ItemError>> {
    let mut conn = app.db.acquire().await?;
    let acting = partners::resolve_acting(&mut conn, caller, indirect_partner_id).await?;
    drop(conn);
    let mut errors = Vec::new();
    let now = app.now();
    for id in customer_ids {
        let mut tx = app.db.begin().await?;
        let in_scope = organisation::ensure_in_scope(&mut tx, caller, &acting.partner_id, id)
            .await
            .is_ok();
        let found = db::lifecycle::lock_partner_customer(&mut tx, &acting.partner_id, id).await?;
        let Some(c) = found.filter(|_| in_scope) else {
            errors.push(ItemError {
                id: id.clone(),
                code: codes::NOT_SUB_CUSTOMER,
                message: "The customer is not your sub-customer.".into(),
            });
            continue;
        };
        if c.association_type.as_deref() != Some("2") {
            errors.push(ItemError {
                id: id.clone(),
                code: codes::ASSOCIATION_TYPE_NOT_ALLOWED,
                message: "Only resale-type customers can be frozen or unfrozen.".into(),
            });
            continue;
        }
        let target = if freeze { 1 } else { 0 };
        if c.is_frozen != target {
            db::lifecycle::set_frozen(&mut tx, id, target).await?;
            let record = db::lifecycle::NewEvent {
                customer_id: id,
                partner_id: &acting.partner_id,
                event_type: if freeze { "freeze" } else { "unfreeze" },
                actor_id: caller.actor_id(),
                actor_kind: "partner",
                reason: Some(reason),
                outcome: "completed",
                from_type: None,
                to_type: None,
                request_id: None,
                created_at: now,
            };
            db::lifecycle::insert_event(&mut tx, &record).await?;
            crate::service::events::association_recorded(&mut tx, &record).await?;
        }
        tx.commit().await?;
    }
    Ok(errors)
}

/// Rejects money movements towards a frozen customer.
pub fn ensure_not_frozen(is_frozen: i16) -> ApiResult<()> {
    if is_frozen != 0 {
        return Err(ApiError::business(
            codes::ACCOUNT_FROZEN,
            "The customer account is frozen.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn row(status: &str, at: Option<DateTime<Utc>>) -> db::lifecycle::TagRow {
        db::lifecycle::TagRow {
            customer_id: "c".into(),
            verified_status: status.into(),
            verified_at: at,
            registered_here: true,
        }
    }

    #[test]
    fn new_customer_tags_follow_verification_and_expire_after_twelve_months() {
        let at = Utc.with_ymd_and_hms(2026, 3, 10, 0, 0, 0).unwrap();
        let t = tag_for(&row("2", Some(at)), at);
        assert_eq!(
            (t.tag, t.effective_time.as_deref(), t.expire_time.as_deref()),
            (Some("Y"), Some("2026-03"), Some("2027-02"))
        );
        let later = Utc.with_ymd_and_hms(2027, 2, 28, 0, 0, 0).unwrap();
        assert_eq!(tag_for(&row("2", Some(at)), later).tag, Some("Y"));
        let expired = Utc.with_ymd_and_hms(2027, 3, 1, 0, 0, 0).unwrap();
        assert_eq!(tag_for(&row("2", Some(at)), expired).tag, Some("N"));
        assert_eq!(tag_for(&row("0", None), at).tag, Some("UNDETERMINED"));
        assert_eq!(tag_for(&row("-1", None), at).tag, None);
    }
}
