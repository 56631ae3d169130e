//! Coupon quotas: the vendor's grants and changes, a partner's quotas, a distributor's reseller
//! quotas (ops. 6–9).

use super::*;

// ---------------------------------------------------------------------------------------------
// Vendor (admin)

/// What the vendor grants.
#[derive(Debug, Clone)]
pub struct GrantQuota {
    pub partner_id: String,
    pub quota_type: i16,
    pub value: Amount,
    pub effective_time: DateTime<Utc>,
    pub expire_time: DateTime<Utc>,
    pub min_face_value: Option<i64>,
    pub max_face_value: Option<i64>,
    pub max_coupons_per_issue: Option<i32>,
    pub max_total_face_value_per_issue: Option<i64>,
    pub cloud_service_types: Vec<String>,
    pub product_ids: Vec<String>,
    pub first_time_only: bool,
    pub designated_customers: Vec<String>,
}

/// Refuses restriction lists naming an unknown cloud service type / product: with CBC.0100 on
/// the named field (`as_parameter`, the vendor's own input) or with the documented business
/// codes CBC.50000055 / CBC.50000054 (a partner issuing coupons).
pub(super) async fn check_catalogue(
    conn: &mut PgConnection,
    services: &[String],
    products: &[String],
    as_parameter: bool,
) -> ApiResult<()> {
    if let Some(t) = db::coupons::unknown_service_types(conn, services)
        .await?
        .first()
    {
        return Err(if as_parameter {
            ApiError::invalid(
                "cloud_service_types",
                format!("unknown cloud service type {t}"),
            )
        } else {
            ApiError::business(
                codes::SERVICE_TYPE_NOT_FOUND,
                format!("The cloud service type {t} does not exist."),
            )
        });
    }
    if let Some(p) = db::coupons::unknown_products(conn, products).await?.first() {
        return Err(if as_parameter {
            ApiError::invalid("product_ids", format!("unknown product {p}"))
        } else {
            ApiError::business(
                codes::PRODUCT_NOT_FOUND,
                format!("The product {p} does not exist."),
            )
        });
    }
    Ok(())
}

/// The vendor grants a partner a coupon quota (journal from `coupon_quota_source`) in the
/// caller's transaction; the output is the new quota's id.
impl Effect for GrantQuota {
    type Output = String;
    async fn apply(&self, app: &App, conn: &mut PgConnection) -> ApiResult<String> {
        let g = self;
        db::partners::find_partner(conn, &g.partner_id)
            .await?
            .ok_or_else(|| {
                ApiError::business(codes::ACCOUNT_NOT_FOUND, "The partner does not exist.")
            })?;
        check_catalogue(conn, &g.cloud_service_types, &g.product_ids, true).await?;
        let at = app.now();
        let id = format!("CQ{}", uuid::Uuid::new_v4().simple());
        db::coupons::insert_quota(
            conn,
            &NewQuota {
                id: &id,
                partner_id: &g.partner_id,
                parent_quota_id: None,
                quota_type: g.quota_type,
                quota_value: g.value.fen(),
                effective_time: g.effective_time,
                expire_time: g.expire_time,
                min_face_value: g.min_face_value,
                max_face_value: g.max_face_value,
                max_coupons_per_issue: g.max_coupons_per_issue,
                max_total_face_value_per_issue: g.max_total_face_value_per_issue,
                cloud_service_types: &g.cloud_service_types,
                product_ids: &g.product_ids,
                first_time_only: g.first_time_only,
                designated_customers: &g.designated_customers,
                at,
            },
        )
        .await?;
        let trans_id = new_trans_id("QG", at);
        ledger::move_coupon_quota(
            conn,
            AccountRef::system(Purpose::CouponQuotaSource),
            quota_ref(&id),
            g.value,
            &quota_entry(&trans_id, JournalKind::CouponQuotaGrant, at),
        )
        .await?;
        Ok(id)
    }
}

/// Grants a quota (`Idempotency-Key` supported: a replay answers with the same quota, as it is
/// now) and returns it.
pub async fn grant_quota(
    app: &App,
    g: GrantQuota,
    key: Option<&IdemRequest>,
) -> ApiResult<QuotaRow> {
    let id = idempotency::run(app, key, &g).await?;
    let mut conn = app.db.acquire().await?;
    db::coupons::find_quota(&mut conn, &id, app.now(), false)
        .await?
        .ok_or_else(quota_invalid)
}

/// What the vendor changes on a quota.
#[derive(Debug, Clone, Copy)]
pub enum QuotaChange {
    /// New total value; the difference moves to/from the balance (not below 0: CBC.99000013).
    Value(i64),
    Invalidate,
    Freeze,
    Unfreeze,
}

pub async fn change_quota(app: &App, quota_id: &str, change: QuotaChange) -> ApiResult<QuotaRow> {
    let mut tx = app.db.begin().await?;
    let at = app.now();
    let q = db::coupons::find_quota(&mut tx, quota_id, at, true)
        .await?
        .ok_or_else(quota_invalid)?;
    match change {
        QuotaChange::Value(total) => {
            if matches!(q.stored_status, 3 | 6) {
                return Err(quota_invalid());
            }
            let delta = total - q.quota_value;
            let trans_id = new_trans_id("QA", at);
            let entry = quota_entry(&trans_id, JournalKind::CouponQuotaAdjust, at);
            let src = AccountRef::system(Purpose::CouponQuotaSource);
            let r = if delta > 0 {
                ledger::move_coupon_quota(
                    &mut tx,
                    src,
                    quota_ref(quota_id),
                    Amount::from_fen(delta).map_err(ApiError::internal)?,
                    &entry,
                )
                .await
                .map(|_| ())
            } else if delta < 0 {
                ledger::move_coupon_quota(
                    &mut tx,
                    quota_ref(quota_id),
                    src,
                    Amount::from_fen(-delta).map_err(ApiError::internal)?,
                    &entry,
                )
                .await
                .map(|_| ())
            } else {
                Ok(())
            };
            r.map_err(insufficient_quota)?;
            db::coupons::set_quota_value(&mut tx, quota_id, total, at).await?;
        }
        QuotaChange::Invalidate => {
            if q.stored_status == 6 {
                return Err(quota_invalid());
            }
            db::coupons::set_quota_status(&mut tx, quota_id, 3, at).await?;
        }
        QuotaChange::Freeze => {
            if q.stored_status != 0 {
                return Err(quota_invalid());
            }
            db::coupons::set_quota_status(&mut tx, quota_id, 5, at).await?;
        }
        QuotaChange::Unfreeze => {
            if q.stored_status != 5 {
                return Err(quota_invalid());
            }
            db::coupons::set_quota_status(&mut tx, quota_id, 0, at).await?;
        }
    }
    let row = db::coupons::find_quota(&mut tx, quota_id, at, false)
        .await?
        .ok_or_else(quota_invalid)?;
    tx.commit().await?;
    Ok(row)
}

// ---------------------------------------------------------------------------------------------
// Quotas (partner)

/// The acting partner's own quotas (op. 1).
pub async fn list_quotas(
    app: &App,
    caller: &PartnerCaller,
    indirect_partner_id: Option<&str>,
    mut filter: QuotaFilter,
    offset: i64,
    limit: i64,
) -> ApiResult<(i64, Vec<QuotaRow>)> {
    let mut conn = app.db.acquire().await?;
    let acting = partners::resolve_acting(&mut conn, caller, indirect_partner_id).await?;
    filter.partner_id = Some(acting.partner_id);
    Ok(db::coupons::list_quotas(&mut conn, app.now(), &filter, offset, limit).await?)
}

// ---------------------------------------------------------------------------------------------
// Distributor: reseller quotas (ops. 6–9)

fn not_distributor() -> ApiError {
    ApiError::access_denied()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IssuedQuota {
    pub reseller_id: String,
    pub quota_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct QuotaIssueOutcome {
    pub issued: Vec<IssuedQuota>,
    pub errors: Vec<ItemError>,
}

pub struct IssueResellerQuotas {
    pub caller: PartnerCaller,
    pub quota_id: String,
    pub reseller_ids: Vec<String>,
    pub amount: Amount,
}

impl Effect for IssueResellerQuotas {
    type Output = QuotaIssueOutcome;
    async fn apply(&self, app: &App, conn: &mut PgConnection) -> ApiResult<QuotaIssueOutcome> {
        if !self.caller.is_distributor() {
            return Err(not_distributor());
        }
        let now = app.now();
        let q = db::coupons::find_quota(conn, &self.quota_id, now, true)
            .await?
            .filter(|q| q.partner_id == self.caller.account_id && q.parent_quota_id.is_none())
            .filter(|q| q.status == 0)
            .ok_or_else(quota_invalid)?;
        let mut out = QuotaIssueOutcome::default();
        for reseller_id in &self.reseller_ids {
            crate::service::batch::begin_item(conn).await?;
            let r = async {
                let reseller = partners::resolve_acting(conn, &self.caller, Some(reseller_id)).await?;
                if !q.designated_customers.is_empty() {
                    for c in &q.designated_customers {
                        let d = db::customers::find_customer_detail(conn, c).await?;
                        if d.and_then(|d| d.partner_id).as_deref() != Some(reseller.partner_id.as_str()) {
                            return Err(ApiError::business(
                                codes::DESIGNATED_NOT_RESELLERS,
                                "The quota's designated customers are not this reseller's sub-customers.",
                            ));
                        }
                    }
                }
                let id = format!("CQ{}", uuid::Uuid::new_v4().simple());
                db::coupons::insert_quota(
                    conn,
                    &NewQuota {
                        id: &id,
                        partner_id: &reseller.partner_id,
                        parent_quota_id: Some(&q.id),
                        quota_type: q.quota_type,
                        quota_value: self.amount.fen(),
                        effective_time: q.effective_time,
                        expire_time: q.expire_time,
                        min_face_value: q.min_face_value,
                        max_face_value: q.max_face_value,
                        max_coupons_per_issue: q.max_coupons_per_issue,
                        max_total_face_value_per_issue: q.max_total_face_value_per_issue,
                        cloud_service_types: &q.cloud_service_types,
                        product_ids: &q.product_ids,
                        first_time_only: q.first_time_only,
                        designated_customers: &q.designated_customers,
                        at: now,
                    },
                )
                .await?;
                let trans_id = new_trans_id("QI", now);
                ledger::move_coupon_quota(
                    conn,
                    quota_ref(&q.id),
                    quota_ref(&id),
                    self.amount,
                    &quota_entry(&trans_id, JournalKind::CouponQuotaIssue, now),
                )
                .await
                .map_err(insufficient_quota)?;
                db::coupons::insert_quota_record(
                    conn,
                    &NewQuotaRecord {
                        id: &trans_id,
                        partner_id: &self.caller.account_id,
                        operator_id: self.caller.actor_id(),
                        operation_type: OP_QUOTA_ISSUE,
                        quota_id: &id,
                        parent_quota_id: &q.id,
                        indirect_partner_id: &reseller.partner_id,
                        amount: self.amount.fen(),
                        remark: None,
                        at: now,
                    },
                )
                .await?;
                Ok(id)
            }
            .await;
            match crate::service::batch::end_item(conn, r).await? {
                Ok(quota_id) => {
                    out.issued.push(IssuedQuota {
                        reseller_id: reseller_id.clone(),
                        quota_id,
                    });
                }
                Err(e) => {
                    out.errors.push(ItemError::new(reseller_id, e));
                }
            }
        }
        db::coupons::touch_quota(conn, &q.id, now).await?;
        Ok(out)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReclaimedQuota {
    pub quota_id: String,
    /// The reseller quota's balance after the reclaim (fen).
    pub balance: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct QuotaReclaimOutcome {
    pub reclaimed: Vec<ReclaimedQuota>,
    pub errors: Vec<ItemError>,
}

pub struct ReclaimResellerQuotas {
    pub caller: PartnerCaller,
    pub quota_ids: Vec<String>,
    pub remark: Option<String>,
}

impl Effect for ReclaimResellerQuotas {
    type Output = QuotaReclaimOutcome;
    async fn apply(&self, app: &App, conn: &mut PgConnection) -> ApiResult<QuotaReclaimOutcome> {
        if !self.caller.is_distributor() {
            return Err(not_distributor());
        }
        let now = app.now();
        let mut out = QuotaReclaimOutcome::default();
        for quota_id in &self.quota_ids {
            crate::service::batch::begin_item(conn).await?;
            let r = async {
                let q = db::coupons::find_quota(conn, quota_id, now, true)
                    .await?
                    .filter(|q| q.stored_status != 6)
                    .ok_or_else(quota_invalid)?;
                let parent_id = q.parent_quota_id.clone().ok_or_else(quota_invalid)?;
                let parent = db::coupons::find_quota(conn, &parent_id, now, true)
                    .await?
                    .filter(|p| p.partner_id == self.caller.account_id)
                    .ok_or_else(quota_invalid)?;
                let balance = ledger::lock_quota_balance(conn, &q.id).await?;
                let trans_id = new_trans_id("QR", now);
                if let Ok(amount) = Amount::from_fen(balance) {
                    ledger::move_coupon_quota(
                        conn,
                        quota_ref(&q.id),
                        quota_ref(&parent.id),
                        amount,
                        &quota_entry(&trans_id, JournalKind::CouponQuotaReclaim, now),
                    )
                    .await?;
                }
                db::coupons::set_quota_status(conn, &q.id, 6, now).await?;
                db::coupons::touch_quota(conn, &parent.id, now).await?;
                db::coupons::insert_quota_record(
                    conn,
                    &NewQuotaRecord {
                        id: &trans_id,
                        partner_id: &self.caller.account_id,
                        operator_id: self.caller.actor_id(),
                        operation_type: OP_QUOTA_RECLAIM,
                        quota_id: &q.id,
                        parent_quota_id: &parent.id,
                        indirect_partner_id: &q.partner_id,
                        amount: balance,
                        remark: self.remark.as_deref(),
                        at: now,
                    },
                )
                .await?;
                Ok::<(), ApiError>(())
            }
            .await;
            match crate::service::batch::end_item(conn, r).await? {
                Ok(()) => {
                    out.reclaimed.push(ReclaimedQuota {
                        quota_id: quota_id.clone(),
                        balance: 0,
                    });
                }
                Err(e) => {
                    out.errors.push(ItemError::new(quota_id, e));
                }
            }
        }
        Ok(out)
    }
}

/// Quotas a distributor issued to its resellers (op. 9).
pub async fn list_issued_quotas(
    app: &App,
    caller: &PartnerCaller,
    mut filter: QuotaFilter,
    offset: i64,
    limit: i64,
) -> ApiResult<(i64, Vec<QuotaRow>)> {
    if !caller.is_distributor() {
        return Err(not_distributor());
    }
    let mut conn = app.db.acquire().await?;
    // A reseller of another distributor is CBC.99000037, not an empty list.
    if let Some(r) = filter.partner_id.as_deref() {
        partners::resolve_acting(&mut conn, caller, Some(r)).await?;
    }
    filter.parent_owner_id = Some(caller.account_id.clone());
    Ok(db::coupons::list_quotas(&mut conn, app.now(), &filter, offset, limit).await?)
}

/// Quota issue/reclaim records of a distributor (op. 8).
pub async fn list_quota_records(
    app: &App,
    caller: &PartnerCaller,
    filter: QuotaRecordFilter,
    offset: i64,
    limit: i64,
) -> ApiResult<(i64, Vec<QuotaRecordRow>)> {
    if !caller.is_distributor() {
        return Err(not_distributor());
    }
    let mut conn = app.db.acquire().await?;
    if let Some(r) = filter.indirect_partner_id.as_deref() {
        partners::resolve_acting(&mut conn, caller, Some(r)).await?;
    }
    Ok(
        db::coupons::list_quota_records(&mut conn, &caller.account_id, &filter, offset, limit)
            .await?,
    )
}
