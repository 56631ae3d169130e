//! Partner coupons: issue (op. 2), list (ops. 3, 10), reclaim (op. 4), unbind, records (op. 5)
//! and the customer coupon ledger (op. 11).

use super::*;

// ---------------------------------------------------------------------------------------------
// Issue coupons (op. 2)

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IssuedCoupon {
    pub customer_id: String,
    pub coupon_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct IssueOutcome {
    pub issued: Vec<IssuedCoupon>,
    pub errors: Vec<ItemError>,
}

pub struct IssueCoupons {
    pub caller: PartnerCaller,
    pub quota_id: String,
    pub customer_ids: Vec<String>,
    pub face_value: Amount,
    pub valid_time: Option<DateTime<Utc>>,
    pub expire_time: Option<DateTime<Utc>>,
    pub cloud_service_types: Vec<String>,
    pub product_ids: Vec<String>,
    pub memo: Option<String>,
    pub indirect_partner_id: Option<String>,
}

/// A narrowed restriction: empty inherits the quota's; otherwise it must stay inside a non-empty
/// quota list (CBC.99000023).
fn narrow(asked: &[String], quota: &[String]) -> ApiResult<Vec<String>> {
    if asked.is_empty() {
        return Ok(quota.to_vec());
    }
    if !quota.is_empty() && asked.iter().any(|a| !quota.contains(a)) {
        return Err(ApiError::business(
            codes::RESTRICTION_EXCEEDS_QUOTA,
            "The coupon's service/product restrictions exceed the quota's restrictions.",
        ));
    }
    Ok(asked.to_vec())
}

/// Loads a quota the acting partner may issue from now: its own, normal status (CBC.99000012),
/// within its validity window (CBC.99000017).
async fn usable_quota(
    conn: &mut PgConnection,
    quota_id: &str,
    partner_id: &str,
    now: DateTime<Utc>,
) -> ApiResult<QuotaRow> {
    let q = db::coupons::find_quota(conn, quota_id, now, false)
        .await?
        .filter(|q| q.partner_id == partner_id)
        .ok_or_else(quota_invalid)?;
    if q.stored_status != 0 {
        return Err(quota_invalid());
    }
    if now < q.effective_time || now >= q.expire_time {
        return Err(ApiError::business(
            codes::QUOTA_OUTSIDE_WINDOW,
            "The coupon quota is not yet effective or has expired.",
        ));
    }
    Ok(q)
}

impl Effect for IssueCoupons {
    type Output = IssueOutcome;
    async fn apply(&self, app: &App, conn: &mut PgConnection) -> ApiResult<IssueOutcome> {
        let acting =
            partners::resolve_acting(conn, &self.caller, self.indirect_partner_id.as_deref())
                .await?;
        if self
            .customer_ids
            .iter()
            .any(|c| *c == acting.partner_id || *c == self.caller.account_id)
        {
            return Err(ApiError::business(
                codes::NO_SELF_ISSUE,
                "A partner may not issue coupons to itself.",
            ));
        }
        let now = app.now();
        let q = usable_quota(conn, &self.quota_id, &acting.partner_id, now).await?;
        if q.quota_type == 0 && db::coupons::in_coupon_usage_mode(conn, &acting.partner_id).await? {
            return Err(ApiError::business(
                codes::COUPON_USAGE_MODE,
                "The partner uses the partner coupon usage mode and cannot issue vouchers.",
            ));
        }
        let face = self.face_value.fen();
        if q.min_face_value.is_some_and(|m| face < m) {
            return Err(ApiError::business(
                codes::FACE_VALUE_BELOW_MIN,
                "The face value is below the quota's minimum.",
            ));
        }
        if q.max_face_value.is_some_and(|m| face > m) {
            return Err(ApiError::business(
                codes::FACE_VALUE_ABOVE_MAX,
                "The face value is above the quota's maximum.",
            ));
        }
        let valid = self.valid_time.unwrap_or(q.effective_time);
        let expire = self.expire_time.unwrap_or(q.expire_time);
        if valid < q.effective_time || expire > q.expire_time {
            return Err(ApiError::invalid(
                "valid_time/expire_time",
                "must lie within the quota's validity period",
            ));
        }
        if valid >= expire || expire <= now {
            return Err(ApiError::invalid(
                "valid_time",
                "must be before expire_time (and expire_time in the future)",
            ));
        }
        check_catalogue(conn, &self.cloud_service_types, &self.product_ids, false).await?;
        let services = narrow(&self.cloud_service_types, &q.cloud_service_types)?;
        let products = narrow(&self.product_ids, &q.product_ids)?;
        if !q.designated_customers.is_empty()
            && self
                .customer_ids
                .iter()
                .any(|c| !q.designated_customers.contains(c))
        {
            return Err(ApiError::business(
                codes::DESIGNATED_CUSTOMERS_ONLY,
                "This quota is applicable only to designated customers.",
            ));
        }
        if q.first_time_only {
            for c in &self.customer_ids {
                if !db::coupons::is_first_association(conn, c).await? {
                    return Err(ApiError::business(
                        codes::FIRST_ASSOCIATION_ONLY,
                        "This quota may only be issued to first-time-associated sub-customers.",
                    ));
                }
            }
        }
        let coupon_type: i16 = if q.quota_type == 1 { 4 } else { 1 };
        let status: i16 = if valid > now { 1 } else { 2 };
        let mut out = IssueOutcome::default();
        for (i, customer_id) in self.customer_ids.iter().enumerate() {
            crate::service::batch::begin_item(conn).await?;
            // Face value this call has already handed out.
            let issued_total = out.issued.len() as i64 * face;
            let r = async {
                if q.max_coupons_per_issue
                    .is_some_and(|m| i as i64 >= m as i64)
                {
                    return Err(ApiError::business(
                        codes::TOO_MANY_COUPONS,
                        "The number of coupons exceeds the quota's maximum per issue.",
                    ));
                }
                if q.max_total_face_value_per_issue
                    .is_some_and(|m| issued_total + face > m)
                {
                    return Err(ApiError::business(
                        codes::TOTAL_FACE_VALUE_EXCEEDED,
                        "The total face value of this issue exceeds the quota's allowed total.",
                    ));
                }
                issuable_customer(conn, &self.caller, &acting, customer_id).await?;
                let coupon_id = format!("CP{}", uuid::Uuid::new_v4().simple());
                let trans_id = new_trans_id("CI", now);
                ledger::issue_coupon(
                    conn,
                    &q.id,
                    &coupon_id,
                    self.face_value,
                    &quota_entry(&trans_id, JournalKind::CouponIssue, now),
                )
                .await
                .map_err(insufficient_quota)?;
                db::coupons::insert_coupon(
                    conn,
                    &NewCoupon {
                        id: &coupon_id,
                        quota_id: &q.id,
                        partner_id: &acting.partner_id,
                        customer_id,
                        coupon_type,
                        face_value: face,
                        status,
                        effective_time: valid,
                        expire_time: expire,
                        memo: self.memo.as_deref(),
                        cloud_service_types: &services,
                        product_ids: &products,
                        at: now,
                    },
                )
                .await?;
                record(
                    conn,
                    self,
                    &acting,
                    &q,
                    OP_ISSUE,
                    Some(&coupon_id),
                    customer_id,
                    face,
                    "0",
                    &trans_id,
                    now,
                )
                .await?;
                crate::service::events::emit(
                    conn, &acting.partner_id, Some(customer_id), "coupon.issued",
                    serde_json::json!({"coupon_id": coupon_id, "quota_id": q.id, "face_value": crate::service::events::yuan(face), "trans_id": trans_id}),
                    now,
                )
                .await?;
                Ok(coupon_id)
            }
            .await;
            match crate::service::batch::end_item(conn, r).await? {
                Ok(coupon_id) => {
                    out.issued.push(IssuedCoupon {
                        customer_id: customer_id.clone(),
                        coupon_id,
                    });
                }
                Err(e) => {
                    let id = new_trans_id("CF", now);
                    record(
                        conn,
                        self,
                        &acting,
                        &q,
                        OP_ISSUE,
                        None,
                        customer_id,
                        face,
                        "-1",
                        &id,
                        now,
                    )
                    .await?;
                    out.errors.push(ItemError::new(customer_id, e));
                }
            }
        }
        db::coupons::touch_quota(conn, &q.id, now).await?;
        Ok(out)
    }
}

#[allow(clippy::too_many_arguments)]
async fn record(
    conn: &mut PgConnection,
    op: &IssueCoupons,
    acting: &Acting,
    q: &QuotaRow,
    operation_type: &str,
    coupon_id: Option<&str>,
    customer_id: &str,
    amount: i64,
    result: &str,
    id: &str,
    at: DateTime<Utc>,
) -> ApiResult<()> {
    db::coupons::insert_coupon_record(
        conn,
        &NewCouponRecord {
            id,
            partner_id: &acting.partner_id,
            issuer_id: &op.caller.account_id,
            operator_id: op.caller.actor_id(),
            operation_type,
            quota_id: &q.id,
            quota_type: q.quota_type,
            coupon_id,
            customer_id,
            amount,
            result,
            remark: op.memo.as_deref(),
            at,
        },
    )
    .await?;
    Ok(())
}

fn not_sub_customer() -> ApiError {
    ApiError::business(
        codes::NOT_SUB_CUSTOMER,
        "The customer is not a sub-customer of this partner.",
    )
}

/// A sub-customer of the acting partner (CBC.99000035), within the caller's manager scope
/// (CBC.99000000), resale-type (CBC.99000014).
async fn issuable_customer(
    conn: &mut PgConnection,
    caller: &PartnerCaller,
    acting: &Acting,
    customer_id: &str,
) -> ApiResult<()> {
    let c = db::customers::find_customer_detail(conn, customer_id)
        .await?
        .filter(|c| c.partner_id.as_deref() == Some(acting.partner_id.as_str()))
        .ok_or_else(not_sub_customer)?;
    organisation::ensure_in_scope(conn, caller, &acting.partner_id, customer_id)
        .await
        .map_err(|_| {
            ApiError::business(
                codes::NO_CUSTOMER_PERMISSION,
                "No permission to operate this customer.",
            )
        })?;
    if c.association_type.as_deref() != Some("2") {
        return Err(ApiError::business(
            codes::COUPON_ADVISORY_CUSTOMER,
            "Coupons cannot be issued to a customer of this association type (advisory sale).",
        ));
    }
    if db::coupons::is_financially_custodied(conn, customer_id).await? {
        return Err(ApiError::business(
            codes::FINANCIALLY_CUSTODIED,
            "Coupons cannot be issued to a financially-custodied enterprise sub-account.",
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Issued coupons (op. 3) and the holder's own coupons (op. 10)

pub async fn list_issued(
    app: &App,
    caller: &PartnerCaller,
    indirect_partner_id: Option<&str>,
    mut filter: CouponFilter,
    offset: i64,
    limit: i64,
) -> ApiResult<(i64, Vec<CouponRow>)> {
    let mut conn = app.db.acquire().await?;
    let acting = partners::resolve_acting(&mut conn, caller, indirect_partner_id).await?;
    let now = app.now();
    filter.partner_id = Some(acting.partner_id);
    filter.resale_only = true;
    filter.manager_ids = caller.manager_scope().map(<[String]>::to_vec);
    // Coupons that expired more than two years ago are no longer listed.
    filter.expired_after = Some(now - Duration::days(730));
    Ok(db::coupons::list_coupons(&mut conn, now, &filter, offset, limit).await?)
}

/// Whose own coupons are listed (op. 10).
pub enum Holder<'a> {
    Partner(&'a PartnerCaller, Option<&'a str>),
    Customer(&'a CustomerCaller),
}

pub async fn list_own(
    app: &App,
    holder: Holder<'_>,
    mut filter: CouponFilter,
    offset: i64,
    limit: i64,
) -> ApiResult<(i64, Vec<CouponRow>)> {
    let mut conn = app.db.acquire().await?;
    let now = app.now();
    let holder_id = match holder {
        Holder::Partner(p, indirect) => {
            partners::resolve_acting(&mut conn, p, indirect)
                .await?
                .partner_id
        }
        Holder::Customer(c) => c.account_id.clone(),
    };
    filter.holder_id = Some(holder_id);
    filter.expired_after = Some(now - Duration::days(365));
    Ok(db::coupons::list_coupons(&mut conn, now, &filter, offset, limit).await?)
}

// ---------------------------------------------------------------------------------------------
// Reclaim a coupon (op. 4)

pub struct ReclaimCoupon {
    pub caller: PartnerCaller,
    pub coupon_id: String,
    pub indirect_partner_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reclaimed {
    pub amount: i64,
}

impl Effect for ReclaimCoupon {
    type Output = Reclaimed;
    async fn apply(&self, app: &App, conn: &mut PgConnection) -> ApiResult<Reclaimed> {
        let acting =
            partners::resolve_acting(conn, &self.caller, self.indirect_partner_id.as_deref())
                .await?;
        let now = app.now();
        let c = db::coupons::find_coupon(conn, &self.coupon_id, now, true)
            .await?
            .filter(|c| c.partner_id == acting.partner_id)
            .ok_or_else(not_sub_customer)?;
        if c.customer_partner_id.as_deref() != Some(acting.partner_id.as_str()) {
            return Err(not_sub_customer());
        }
        if !self.caller.may_see(c.manager_id.as_deref()) {
            return Err(ApiError::business(
                codes::NO_CUSTOMER_PERMISSION,
                "No permission to operate this customer.",
            ));
        }
        if c.association_type.as_deref() != Some("2") {
            return Err(ApiError::business(
                codes::RECLAIM_ADVISORY_COUPON,
                "Coupons of advisory-sale customers cannot be reclaimed.",
            ));
        }
        if !matches!(c.status, 1 | 2) {
            return Err(ApiError::business(
                codes::COUPON_NOT_RECLAIMABLE,
                "The coupon has already expired, been used up or been reclaimed.",
            ));
        }
        let amount = reclaim_one(
            conn,
            &ReclaimCtx {
                partner_id: &acting.partner_id,
                issuer_id: &self.caller.account_id,
                operator_id: self.caller.actor_id(),
                operation_type: OP_RECLAIM,
                kind: JournalKind::CouponReclaim,
                at: now,
            },
            &c.id,
            &c.quota_id,
            c.quota_type,
            &c.customer_id,
        )
        .await?;
        Ok(Reclaimed { amount })
    }
}

struct ReclaimCtx<'a> {
    partner_id: &'a str,
    issuer_id: &'a str,
    operator_id: &'a str,
    operation_type: &'a str,
    kind: JournalKind,
    at: DateTime<Utc>,
}

/// Returns a coupon's whole remaining balance to its quota, marks it reclaimed (5) and writes the
/// record; returns the amount (fen).
async fn reclaim_one(
    conn: &mut PgConnection,
    ctx: &ReclaimCtx<'_>,
    coupon_id: &str,
    quota_id: &str,
    quota_type: i16,
    customer_id: &str,
) -> ApiResult<i64> {
    let trans_id = new_trans_id("CR", ctx.at);
    let moved = ledger::reclaim_coupon(
        conn,
        coupon_id,
        quota_id,
        &quota_entry(&trans_id, ctx.kind, ctx.at),
    )
    .await?;
    let amount = moved.map_or(0, |(_, a)| a);
    db::coupons::set_coupon_status(conn, coupon_id, 5, ctx.at).await?;
    db::coupons::touch_quota(conn, quota_id, ctx.at).await?;
    db::coupons::insert_coupon_record(
        conn,
        &NewCouponRecord {
            id: &trans_id,
            partner_id: ctx.partner_id,
            issuer_id: ctx.issuer_id,
            operator_id: ctx.operator_id,
            operation_type: ctx.operation_type,
            quota_id,
            quota_type,
            coupon_id: Some(coupon_id),
            customer_id,
            amount,
            result: "0",
            remark: None,
            at: ctx.at,
        },
    )
    .await?;
    crate::service::events::emit(
        conn, ctx.partner_id, Some(customer_id), "coupon.reclaimed",
        serde_json::json!({"coupon_id": coupon_id, "quota_id": quota_id, "amount": crate::service::events::yuan(amount), "operation_type": ctx.operation_type, "trans_id": trans_id}),
        ctx.at,
    )
    .await?;
    Ok(amount)
}

/// Reclaims every usable partner coupon of a customer inside the caller's transaction, when the
/// association ends (`switch` false: op. type 3) or leaves reseller mode (`switch` true: 8).
/// Returns how many coupons were reclaimed.
pub async fn unbind_coupons(
    app: &App,
    conn: &mut PgConnection,
    actor_id: &str,
    partner_id: &str,
    customer_id: &str,
    switch: bool,
) -> ApiResult<usize> {
    let now = app.now();
    let coupons = db::coupons::reclaimable_coupons_of(conn, customer_id, partner_id, now).await?;
    for (coupon_id, quota_id, quota_type) in &coupons {
        reclaim_one(
            conn,
            &ReclaimCtx {
                partner_id,
                issuer_id: actor_id,
                operator_id: actor_id,
                operation_type: if switch {
                    OP_SWITCH_RECLAIM
                } else {
                    OP_UNBIND_RECLAIM
                },
                kind: JournalKind::CouponUnbind,
                at: now,
            },
            coupon_id,
            quota_id,
            *quota_type,
            customer_id,
        )
        .await?;
    }
    Ok(coupons.len())
}

// ---------------------------------------------------------------------------------------------
// Records (op. 5)

pub async fn list_records(
    app: &App,
    caller: &PartnerCaller,
    indirect_partner_id: Option<&str>,
    mut filter: RecordFilter,
    offset: i64,
    limit: i64,
) -> ApiResult<(i64, Vec<CouponRecordRow>)> {
    let mut conn = app.db.acquire().await?;
    let acting = partners::resolve_acting(&mut conn, caller, indirect_partner_id).await?;
    filter.manager_ids = caller.manager_scope().map(<[String]>::to_vec);
    let (total, mut rows) =
        db::coupons::list_coupon_records(&mut conn, &acting.partner_id, &filter, offset, limit)
            .await?;
    // The issuer's remark is visible only to the issuer.
    for r in &mut rows {
        if r.issuer_id != caller.account_id {
            r.remark = None;
        }
    }
    Ok((total, rows))
}

// ---------------------------------------------------------------------------------------------
// Customer coupon ledger (op. 11)

pub async fn customer_changes(
    app: &App,
    caller: &CustomerCaller,
    filter: CouponChangeFilter,
    offset: i64,
    limit: i64,
) -> ApiResult<(i64, Vec<CouponChangeRow>)> {
    let mut conn = app.db.acquire().await?;
    let c = db::customers::find_customer(&mut conn, &caller.account_id).await?;
    if c.and_then(|c| c.association_type).as_deref() == Some("2") {
        return Err(ApiError::business(
            codes::CHANGE_RECORDS_NOT_SUPPORTED,
            "Coupon change records are not supported for a partner's resale-type customers.",
        ));
    }
    Ok(
        db::coupons::list_coupon_changes(&mut conn, &caller.account_id, &filter, offset, limit)
            .await?,
    )
}
