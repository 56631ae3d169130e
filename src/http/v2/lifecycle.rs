//! New-customer tags (10-customers.md §5) and freezing resale customers (documented extension).

use axum::{extract::State, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{max_len, non_empty};
use crate::{
    error::{ApiError, ApiResult},
    http::{
        extract::{ApiJson, Paging},
        ErrorBody,
    },
    service::{auth::PartnerCaller, lifecycle},
    state::AppState,
};

#[derive(Debug, Deserialize, ToSchema)]
pub struct ListSubCustomerNewTagReq {
    /// Absent, `[]` or `null` ⇒ all sub-customers.
    pub customer_ids: Option<Vec<String>>,
    pub offset: Option<i64>,
    pub limit: Option<i64>,
    pub indirect_partner_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NewCustomerTag {
    pub customer_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_tag_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_customer_tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expire_time: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListSubCustomerNewTagResponse {
    pub new_customer_tags: Vec<NewCustomerTag>,
}

/// Batch-query the SMB new-customer tags of sub-customers.
#[utoipa::path(post, path = "/v2/partners/sub-customers/new-customers-tags/batch-query", tag = "customers",
    request_body = ListSubCustomerNewTagReq,
    responses((status = 200, body = ListSubCustomerNewTagResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_sub_customer_new_tag(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiJson(req): ApiJson<ListSubCustomerNewTagReq>,
) -> ApiResult<Json<ListSubCustomerNewTagResponse>> {
    let paging = Paging::new(req.offset, req.limit, i32::MAX as i64)?;
    let ids = req.customer_ids.filter(|v| !v.is_empty());
    if let Some(ids) = &ids {
        if ids.len() > 100 {
            return Err(ApiError::invalid(
                "customer_ids",
                "must have at most 100 elements",
            ));
        }
        for id in ids {
            max_len("customer_ids", Some(id), 64)?;
        }
    }
    max_len(
        "indirect_partner_id",
        req.indirect_partner_id.as_deref(),
        64,
    )?;
    let tags = lifecycle::new_customer_tags(
        &app,
        &caller,
        ids,
        non_empty(req.indirect_partner_id).as_deref(),
        paging.offset,
        paging.limit,
    )
    .await?;
    Ok(Json(ListSubCustomerNewTagResponse {
        new_customer_tags: tags
            .into_iter()
            .map(|t| NewCustomerTag {
                customer_id: t.customer_id,
                customer_tag_type: t.tag.map(|_| "SMB".to_string()),
                new_customer_tag: t.tag.map(str::to_string),
                effective_time: t.effective_time,
                expire_time: t.expire_time,
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct FreezeCustomersReq {
    /// 1–10 resale sub-customer ids.
    pub customer_ids: Vec<String>,
    /// Why (required, ≤ 256 characters).
    pub reason: String,
    pub indirect_partner_id: Option<String>,
    /// `ACCOUNT` (default; the only kind).
    pub freeze_type: Option<String>,
    /// `ACCOUNT` (default; the only kind).
    pub unfreeze_type: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
/// One customer that could not be frozen or unfrozen.
#[schema(as = CustomerErrorDetail)]
pub struct ErrorDetail {
    pub customer_id: String,
    pub error_code: String,
    pub error_msg: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FreezeCustomersResponse {
    /// Customers that could not be changed; the others were.
    pub error_details: Vec<ErrorDetail>,
}

async fn freeze_or_unfreeze(
    app: AppState,
    caller: PartnerCaller,
    req: FreezeCustomersReq,
    freeze: bool,
) -> ApiResult<Json<FreezeCustomersResponse>> {
    if req.customer_ids.is_empty() || req.customer_ids.len() > 10 {
        return Err(ApiError::invalid(
            "customer_ids",
            "must have 1 to 10 elements",
        ));
    }
    for id in &req.customer_ids {
        if id.is_empty() {
            return Err(ApiError::invalid(
                "customer_ids",
                "must not contain empty ids",
            ));
        }
        max_len("customer_ids", Some(id), 64)?;
    }
    if req.reason.trim().is_empty() {
        return Err(ApiError::invalid("reason", "must not be empty"));
    }
    max_len("reason", Some(&req.reason), 256)?;
    let (field, kind) = if freeze {
        ("freeze_type", req.freeze_type.as_deref())
    } else {
        ("unfreeze_type", req.unfreeze_type.as_deref())
    };
    if !matches!(kind, None | Some("") | Some("ACCOUNT")) {
        return Err(ApiError::invalid(field, "must be ACCOUNT"));
    }
    max_len(
        "indirect_partner_id",
        req.indirect_partner_id.as_deref(),
        64,
    )?;
    let mut ids = req.customer_ids.clone();
    ids.dedup();
    let errors = lifecycle::set_frozen(
        &app,
        &caller,
        &ids,
        &req.reason,
        non_empty(req.indirect_partner_id).as_deref(),
        freeze,
    )
    .await?;
    Ok(Json(FreezeCustomersResponse {
        error_details: errors
            .into_iter()
            .map(|e| ErrorDetail {
                customer_id: e.id,
                error_code: e.code.to_string(),
                error_msg: e.message,
            })
            .collect(),
    }))
}

/// Freeze resale sub-customers (extension; the official SDK has no method for it).
#[utoipa::path(post, path = "/v2/partners/sub-customers/freeze", tag = "customers",
    request_body = FreezeCustomersReq,
    responses((status = 200, body = FreezeCustomersResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn freeze_sub_customers(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiJson(req): ApiJson<FreezeCustomersReq>,
) -> ApiResult<Json<FreezeCustomersResponse>> {
    freeze_or_unfreeze(app, caller, req, true).await
}

/// Unfreeze resale sub-customers (extension).
#[utoipa::path(post, path = "/v2/partners/sub-customers/unfreeze", tag = "customers",
    request_body = FreezeCustomersReq,
    responses((status = 200, body = FreezeCustomersResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn unfreeze_sub_customers(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiJson(req): ApiJson<FreezeCustomersReq>,
) -> ApiResult<Json<FreezeCustomersResponse>> {
    freeze_or_unfreeze(app, caller, req, false).await
}
