//! The vendor's coupon-quota operations: grant, adjust, invalidate, freeze and unfreeze.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::{
    error::{ApiError, ApiResult},
    http::{
        extract::{ApiJson, IdempotentJson},
        v2::{
            coupons::{quota_view, required_time, CouponQuotaV2},
            funding::parse_amount,
        },
        ErrorBody,
    },
    service::{
        coupons::{self, GrantQuota, QuotaChange},
        idempotency::IdemRequest,
    },
    state::AppState,
};

#[derive(Debug, Deserialize, ToSchema)]
pub struct GrantQuotaRequest {
    /// 0 voucher quota, 1 cash-coupon quota.
    pub quota_type: i64,
    /// Yuan, > 0, at most 2 decimals.
    #[schema(value_type = f64)]
    pub quota_value: serde_json::Number,
    /// UTC `yyyy-MM-ddTHH:mm:ssZ`.
    pub effective_time: String,
    pub expire_time: String,
    #[schema(value_type = Option<f64>)]
    pub min_face_value: Option<serde_json::Number>,
    #[schema(value_type = Option<f64>)]
    pub max_face_value: Option<serde_json::Number>,
    /// At most this many coupons per issue call (later customers get CBC.99000020).
    pub max_coupons_per_issue: Option<i32>,
    /// Yuan: the most face value one issue call may hand out in total (later customers of the
    /// call get CBC.99000021).
    #[schema(value_type = Option<f64>)]
    pub max_total_face_value_per_issue: Option<serde_json::Number>,
    /// Known cloud service type codes (else CBC.0100).
    pub cloud_service_types: Option<Vec<String>>,
    /// Registered product ids (else CBC.0100).
    pub product_ids: Option<Vec<String>>,
    /// Only customers never un-associated before (else CBC.99000022).
    pub first_time_customers_only: Option<bool>,
    /// Only these customers (else CBC.50000020).
    pub designated_customer_ids: Option<Vec<String>>,
}

/// Grant a partner a coupon quota (a journal from the coupon-quota source).
#[utoipa::path(post, path = "/admin/v1/partners/{partner_id}/coupon-quotas", tag = "admin",
    params(("partner_id" = String, Path),
           ("Idempotency-Key" = Option<String>, Header, description = "Replay-safe retries")),
    request_body = GrantQuotaRequest,
    responses((status = 201, body = CouponQuotaV2), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn grant_coupon_quota(
    State(app): State<AppState>,
    Path(partner_id): Path<String>,
    req: IdempotentJson<GrantQuotaRequest>,
) -> ApiResult<(StatusCode, Json<CouponQuotaV2>)> {
    let key = req.key.map(|key| IdemRequest {
        caller_id: "admin".into(),
        key,
        request_hash: req.digest,
    });
    let req = req.body;
    if !(0..=1).contains(&req.quota_type) {
        return Err(ApiError::invalid("quota_type", "must be 0 or 1"));
    }
    let value = parse_amount("quota_value", &req.quota_value)?;
    let effective_time = required_time("effective_time", &req.effective_time)?;
    let expire_time = required_time("expire_time", &req.expire_time)?;
    if effective_time >= expire_time {
        return Err(ApiError::invalid(
            "expire_time",
            "must be after effective_time",
        ));
    }
    let min = req
        .min_face_value
        .as_ref()
        .map(|n| parse_amount("min_face_value", n).map(|a| a.fen()))
        .transpose()?;
    let max = req
        .max_face_value
        .as_ref()
        .map(|n| parse_amount("max_face_value", n).map(|a| a.fen()))
        .transpose()?;
    if let (Some(a), Some(b)) = (min, max) {
        if a > b {
            return Err(ApiError::invalid(
                "min_face_value",
                "must not exceed max_face_value",
            ));
        }
    }
    if req.max_coupons_per_issue.is_some_and(|m| m < 1) {
        return Err(ApiError::invalid(
            "max_coupons_per_issue",
            "must be at least 1",
        ));
    }
    let max_total = req
        .max_total_face_value_per_issue
        .as_ref()
        .map(|n| parse_amount("max_total_face_value_per_issue", n).map(|a| a.fen()))
        .transpose()?;
    let row = coupons::grant_quota(
        &app,
        GrantQuota {
            partner_id,
            quota_type: req.quota_type as i16,
            value,
            effective_time,
            expire_time,
            min_face_value: min,
            max_face_value: max,
            max_coupons_per_issue: req.max_coupons_per_issue,
            max_total_face_value_per_issue: max_total,
            cloud_service_types: req.cloud_service_types.unwrap_or_default(),
            product_ids: req.product_ids.unwrap_or_default(),
            first_time_only: req.first_time_customers_only.unwrap_or(false),
            designated_customers: req.designated_customer_ids.unwrap_or_default(),
        },
        key.as_ref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(quota_view(&row))))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AdjustQuotaRequest {
    /// The new total value (yuan, ≥ 0); lowering it below what was issued is CBC.99000013.
    #[schema(value_type = f64)]
    pub quota_value: serde_json::Number,
}

/// Adjust a quota's total value; the difference moves to or from its balance.
#[utoipa::path(put, path = "/admin/v1/coupon-quotas/{quota_id}", tag = "admin",
    params(("quota_id" = String, Path)), request_body = AdjustQuotaRequest,
    responses((status = 200, body = CouponQuotaV2), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn adjust_coupon_quota(
    State(app): State<AppState>,
    Path(quota_id): Path<String>,
    ApiJson(req): ApiJson<AdjustQuotaRequest>,
) -> ApiResult<Json<CouponQuotaV2>> {
    let fen = crate::http::v2::funding::parse_non_negative("quota_value", &req.quota_value)?;
    let row = coupons::change_quota(&app, &quota_id, QuotaChange::Value(fen)).await?;
    Ok(Json(quota_view(&row)))
}

/// Invalidate a quota (status 3; it can no longer issue).
#[utoipa::path(post, path = "/admin/v1/coupon-quotas/{quota_id}/invalidate", tag = "admin",
    params(("quota_id" = String, Path)),
    responses((status = 200, body = CouponQuotaV2), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn invalidate_coupon_quota(
    State(app): State<AppState>,
    Path(quota_id): Path<String>,
) -> ApiResult<Json<CouponQuotaV2>> {
    let row = coupons::change_quota(&app, &quota_id, QuotaChange::Invalidate).await?;
    Ok(Json(quota_view(&row)))
}

/// Freeze a quota (status 5).
#[utoipa::path(post, path = "/admin/v1/coupon-quotas/{quota_id}/freeze", tag = "admin",
    params(("quota_id" = String, Path)),
    responses((status = 200, body = CouponQuotaV2), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn freeze_coupon_quota(
    State(app): State<AppState>,
    Path(quota_id): Path<String>,
) -> ApiResult<Json<CouponQuotaV2>> {
    let row = coupons::change_quota(&app, &quota_id, QuotaChange::Freeze).await?;
    Ok(Json(quota_view(&row)))
}

/// Unfreeze a frozen quota (status 0).
#[utoipa::path(post, path = "/admin/v1/coupon-quotas/{quota_id}/unfreeze", tag = "admin",
    params(("quota_id" = String, Path)),
    responses((status = 200, body = CouponQuotaV2), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn unfreeze_coupon_quota(
    State(app): State<AppState>,
    Path(quota_id): Path<String>,
) -> ApiResult<Json<CouponQuotaV2>> {
    let row = coupons::change_quota(&app, &quota_id, QuotaChange::Unfreeze).await?;
    Ok(Json(quota_view(&row)))
}
