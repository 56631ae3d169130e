//! Reseller (indirect partner) listing for distributors (20-funding.md §11).

use axum::{extract::State, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{max_len, non_empty, time_bound};
use crate::{
    domain::time::format_ts,
    error::ApiResult,
    http::{
        extract::{ApiJson, Paging},
        ErrorBody,
    },
    service::{
        auth::PartnerCaller,
        partners::{self, ResellerQuery},
    },
    state::AppState,
};

#[derive(Debug, Deserialize, ToSchema)]
pub struct QueryIndirectPartnersReq {
    /// Reseller account name (exact, case-insensitive).
    pub account_name: Option<String>,
    pub associated_on_begin: Option<String>,
    pub associated_on_end: Option<String>,
    pub offset: Option<i64>,
    pub limit: Option<i64>,
    /// One specific reseller.
    pub indirect_partner_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IndirectPartnerInfo {
    pub indirect_partner_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mobile_phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub account_name: String,
    pub name: String,
    pub associated_on: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_manager_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_manager_name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListIndirectPartnersResponse {
    pub count: i64,
    pub indirect_partners: Vec<IndirectPartnerInfo>,
}

/// List the distributor's resellers (a non-distributor has none).
#[utoipa::path(post, path = "/v2/partners/indirect-partners/query", tag = "partners",
    request_body = QueryIndirectPartnersReq,
    responses((status = 200, body = ListIndirectPartnersResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_indirect_partners(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiJson(req): ApiJson<QueryIndirectPartnersReq>,
) -> ApiResult<Json<ListIndirectPartnersResponse>> {
    let paging = Paging::new(req.offset, req.limit, i32::MAX as i64)?;
    let account_name = non_empty(req.account_name);
    max_len("account_name", account_name.as_deref(), 64)?;
    let indirect_partner_id = non_empty(req.indirect_partner_id);
    max_len("indirect_partner_id", indirect_partner_id.as_deref(), 64)?;
    let q = ResellerQuery {
        account_name,
        associated_on_begin: time_bound("associated_on_begin", req.associated_on_begin.as_deref())?,
        associated_on_end: time_bound("associated_on_end", req.associated_on_end.as_deref())?,
        indirect_partner_id,
        offset: paging.offset,
        limit: paging.limit,
    };
    let (count, rows) = partners::list_resellers(&app, &caller, &q).await?;
    Ok(Json(ListIndirectPartnersResponse {
        count,
        indirect_partners: rows
            .into_iter()
            .map(|p| IndirectPartnerInfo {
                indirect_partner_id: p.account_id,
                mobile_phone: p.mobile_phone,
                email: p.email,
                account_name: p.login_name,
                name: p.name,
                associated_on: format_ts(p.associated_on),
                account_manager_id: p.account_manager_id,
                account_manager_name: p.account_manager_name,
            })
            .collect(),
    }))
}
