//! The vendor's admin API (`/admin/v1`, bearer `admin.token`): not callable by partners.

pub mod catalogue;
pub mod clock;
pub mod coupons;
pub mod money;
pub mod money_out;
pub mod realname;
pub mod selling;
pub mod usage;

use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    db::partners::PartnerView,
    domain::{time::format_ts, PartnerType},
    error::{ApiError, ApiResult, Code},
    http::{
        extract::{ApiJson, ApiQuery, Paging},
        ErrorBody,
    },
    service::accounts::{self, NewPartnerInput, PartnerFlags},
    state::AppState,
};

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreatePartnerRequest {
    pub name: String,
    pub partner_type: PartnerType,
    /// Required for a reseller: its distributor.
    pub distributor_id: Option<String>,
    pub login_name: String,
    pub password: String,
    pub mobile_phone: Option<String>,
    pub email: Option<String>,
    /// The partner's platform identifier; generated when absent.
    pub xaccount_type: Option<String>,
    /// A test/sandbox partner (cannot create customers).
    #[serde(default)]
    pub sandbox: bool,
    pub account_manager_id: Option<String>,
    pub account_manager_name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerResponse {
    pub partner_id: String,
    pub domain_id: String,
    pub name: String,
    pub login_name: String,
    pub partner_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distributor_id: Option<String>,
    pub xaccount_type: String,
    pub status: String,
    pub restricted: bool,
    pub sandbox: bool,
    pub exited: bool,
    /// "Partner coupon usage" mode: it cannot issue vouchers.
    pub coupon_usage_mode: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mobile_phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub created_at: String,
    /// Only in the creation response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key: Option<String>,
    /// Only in the creation response; not retrievable later.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<String>,
}

impl From<PartnerView> for PartnerResponse {
    fn from(p: PartnerView) -> Self {
        PartnerResponse {
            partner_id: p.account_id.clone(),
            domain_id: p.account_id,
            name: p.name,
            login_name: p.login_name,
            partner_type: p.partner_type,
            distributor_id: p.distributor_id,
            xaccount_type: p.xaccount_type,
            status: p.status,
            restricted: p.restricted,
            sandbox: p.sandbox,
            exited: p.exited,
            coupon_usage_mode: p.coupon_usage_mode,
            mobile_phone: p.mobile_phone,
            email: p.email,
            created_at: format_ts(p.created_at),
            access_key: None,
            secret_key: None,
        }
    }
}

/// Create a partner (solution provider, distributor or reseller) with a first AK/SK.
#[utoipa::path(post, path = "/admin/v1/partners", tag = "admin",
    request_body = CreatePartnerRequest,
    responses((status = 201, body = PartnerResponse), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn create_partner(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<CreatePartnerRequest>,
) -> ApiResult<(StatusCode, Json<PartnerResponse>)> {
    let (view, creds) = accounts::create_partner(
        &app,
        NewPartnerInput {
            name: req.name,
            partner_type: req.partner_type,
            distributor_id: req.distributor_id,
            login_name: req.login_name,
            password: req.password,
            mobile_phone: req.mobile_phone,
            email: req.email,
            xaccount_type: req.xaccount_type,
            sandbox: req.sandbox,
            account_manager_id: req.account_manager_id,
            account_manager_name: req.account_manager_name,
        },
    )
    .await?;
    let mut resp = PartnerResponse::from(view);
    resp.access_key = Some(creds.access_key);
    resp.secret_key = Some(creds.secret_key);
    Ok((StatusCode::CREATED, Json(resp)))
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    pub offset: Option<i64>,
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerList {
    pub total_count: i64,
    pub partners: Vec<PartnerResponse>,
}

/// List partners.
#[utoipa::path(get, path = "/admin/v1/partners", tag = "admin", params(PageQuery),
    responses((status = 200, body = PartnerList), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn list_partners(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<PartnerList>> {
    let paging = Paging::new(q.offset, q.limit, i32::MAX as i64)?;
    let (total_count, rows) = accounts::list_partners(&app, paging.offset, paging.limit).await?;
    Ok(Json(PartnerList {
        total_count,
        partners: rows.into_iter().map(PartnerResponse::from).collect(),
    }))
}

/// Show one partner.
#[utoipa::path(get, path = "/admin/v1/partners/{partner_id}", tag = "admin",
    params(("partner_id" = String, Path)),
    responses((status = 200, body = PartnerResponse), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn show_partner(
    State(app): State<AppState>,
    Path(partner_id): Path<String>,
) -> ApiResult<Json<PartnerResponse>> {
    Ok(Json(
        accounts::find_partner(&app, &partner_id).await?.into(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdatePartnerRequest {
    /// The partner enterprise is restricted: it cannot associate customers.
    pub restricted: Option<bool>,
    /// A test/sandbox partner.
    pub sandbox: Option<bool>,
    /// A distributor that has exited: its resellers cannot associate customers.
    pub exited: Option<bool>,
    /// The partner uses the "partner coupon usage" mode: issuing vouchers is refused
    /// (CBC.50000010).
    pub coupon_usage_mode: Option<bool>,
    /// `"1.0"` | `"2.0"`: in marketing plan 2.0 the partner sees its leads' phone and e-mail
    /// masked.
    pub marketing_plan: Option<String>,
}

/// Change a partner's standing (restricted, sandbox, exited, coupon usage mode).
#[utoipa::path(patch, path = "/admin/v1/partners/{partner_id}", tag = "admin",
    params(("partner_id" = String, Path)), request_body = UpdatePartnerRequest,
    responses((status = 200, body = PartnerResponse), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn update_partner(
    State(app): State<AppState>,
    Path(partner_id): Path<String>,
    ApiJson(req): ApiJson<UpdatePartnerRequest>,
) -> ApiResult<Json<PartnerResponse>> {
    if let Some(plan) = req.marketing_plan.as_deref() {
        crate::service::leads::set_marketing_plan(&app, &partner_id, plan).await?;
    }
    Ok(Json(
        accounts::update_partner_flags(
            &app,
            &partner_id,
            PartnerFlags {
                restricted: req.restricted,
                sandbox: req.sandbox,
                exited: req.exited,
                coupon_usage_mode: req.coupon_usage_mode,
            },
        )
        .await?
        .into(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateCustomerRequest {
    /// A financially-custodied enterprise sub-account: partner coupons cannot be issued to it
    /// (CBC.50000034).
    pub financially_custodied: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerFlagsResponse {
    pub customer_id: String,
    pub financially_custodied: bool,
}

/// Change a customer's vendor-set flags (financially custodied).
#[utoipa::path(patch, path = "/admin/v1/customers/{customer_id}", tag = "admin",
    params(("customer_id" = String, Path)), request_body = UpdateCustomerRequest,
    responses((status = 200, body = CustomerFlagsResponse), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn update_customer(
    State(app): State<AppState>,
    Path(customer_id): Path<String>,
    ApiJson(req): ApiJson<UpdateCustomerRequest>,
) -> ApiResult<Json<CustomerFlagsResponse>> {
    let financially_custodied =
        accounts::update_customer_flags(&app, &customer_id, req.financially_custodied).await?;
    Ok(Json(CustomerFlagsResponse {
        customer_id,
        financially_custodied,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RegistrationReportRequest {
    pub mobile_phone: String,
}

/// Record that the partner reported ("报备") a mobile number; other partners cannot register it.
#[utoipa::path(post, path = "/admin/v1/partners/{partner_id}/registration-reports", tag = "admin",
    params(("partner_id" = String, Path)), request_body = RegistrationReportRequest,
    responses((status = 201, description = "Recorded"), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn create_registration_report(
    State(app): State<AppState>,
    Path(partner_id): Path<String>,
    ApiJson(req): ApiJson<RegistrationReportRequest>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    accounts::report_registration(&app, &partner_id, &req.mobile_phone).await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({}))))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccessKeyResponse {
    pub access_key: String,
    pub secret_key: String,
}

/// Create an AK/SK pair for any account (partner or customer).
#[utoipa::path(post, path = "/admin/v1/accounts/{account_id}/access-keys", tag = "admin",
    params(("account_id" = String, Path)),
    responses((status = 201, body = AccessKeyResponse), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn create_access_key(
    State(app): State<AppState>,
    Path(account_id): Path<String>,
) -> ApiResult<(StatusCode, Json<AccessKeyResponse>)> {
    let c = accounts::create_access_key(&app, &account_id).await?;
    Ok((
        StatusCode::CREATED,
        Json(AccessKeyResponse {
            access_key: c.access_key,
            secret_key: c.secret_key,
        }),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccessKeyInfo {
    pub access_key: String,
    pub status: String,
    pub created_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccessKeyList {
    pub access_keys: Vec<AccessKeyInfo>,
}

/// List an account's access keys (never the secrets).
#[utoipa::path(get, path = "/admin/v1/accounts/{account_id}/access-keys", tag = "admin",
    params(("account_id" = String, Path)),
    responses((status = 200, body = AccessKeyList), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn list_access_keys(
    State(app): State<AppState>,
    Path(account_id): Path<String>,
) -> ApiResult<Json<AccessKeyList>> {
    let keys = accounts::list_access_keys(&app, &account_id).await?;
    Ok(Json(AccessKeyList {
        access_keys: keys
            .into_iter()
            .map(|k| AccessKeyInfo {
                access_key: k.access_key,
                status: k.status,
                created_at: format_ts(k.created_at),
            })
            .collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusResponse {
    pub status: String,
}

fn status(active: bool) -> Json<StatusResponse> {
    Json(StatusResponse {
        status: if active { "active" } else { "disabled" }.into(),
    })
}

/// Disable an account: its keys and tokens stop working.
#[utoipa::path(post, path = "/admin/v1/accounts/{account_id}/disable", tag = "admin",
    params(("account_id" = String, Path)),
    responses((status = 200, body = StatusResponse), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn disable_account(
    State(app): State<AppState>,
    Path(account_id): Path<String>,
) -> ApiResult<Json<StatusResponse>> {
    accounts::set_account_status(&app, &account_id, false).await?;
    Ok(status(false))
}

/// Enable an account.
#[utoipa::path(post, path = "/admin/v1/accounts/{account_id}/enable", tag = "admin",
    params(("account_id" = String, Path)),
    responses((status = 200, body = StatusResponse), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn enable_account(
    State(app): State<AppState>,
    Path(account_id): Path<String>,
) -> ApiResult<Json<StatusResponse>> {
    accounts::set_account_status(&app, &account_id, true).await?;
    Ok(status(true))
}

/// Disable one access key.
#[utoipa::path(post, path = "/admin/v1/access-keys/{access_key}/disable", tag = "admin",
    params(("access_key" = String, Path)),
    responses((status = 200, body = StatusResponse), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn disable_access_key(
    State(app): State<AppState>,
    Path(access_key): Path<String>,
) -> ApiResult<Json<StatusResponse>> {
    accounts::set_access_key_status(&app, &access_key, false).await?;
    Ok(status(false))
}

/// Enable one access key.
#[utoipa::path(post, path = "/admin/v1/access-keys/{access_key}/enable", tag = "admin",
    params(("access_key" = String, Path)),
    responses((status = 200, body = StatusResponse), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn enable_access_key(
    State(app): State<AppState>,
    Path(access_key): Path<String>,
) -> ApiResult<Json<StatusResponse>> {
    accounts::set_access_key_status(&app, &access_key, true).await?;
    Ok(status(true))
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CodesQuery {
    pub mobile_phone: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationCodeInfo {
    pub mobile_phone: String,
    pub code: String,
    pub scene: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    pub created_at: String,
    pub expires_at: String,
    pub failed_attempts: i32,
    pub consumed: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationCodeList {
    pub codes: Vec<VerificationCodeInfo>,
}

/// Read the codes sent to a number, newest first (development SMS sender only).
#[utoipa::path(get, path = "/admin/v1/verification-codes", tag = "admin", params(CodesQuery),
    responses((status = 200, body = VerificationCodeList), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn list_verification_codes(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<CodesQuery>,
) -> ApiResult<Json<VerificationCodeList>> {
    if !app.sms.codes_readable() {
        return Err(ApiError::new(
            Code::AccessDenied,
            "Verification codes are readable only with the development SMS sender.",
        ));
    }
    let rows = crate::service::verification::list_codes(&app, &q.mobile_phone).await?;
    Ok(Json(VerificationCodeList {
        codes: rows
            .into_iter()
            .map(|r| VerificationCodeInfo {
                mobile_phone: r.mobile_phone,
                code: r.code,
                scene: r.scene,
                customer_id: r.customer_id,
                created_at: format_ts(r.created_at),
                expires_at: format_ts(r.expires_at),
                failed_attempts: r.failed_attempts,
                consumed: r.consumed_at.is_some(),
            })
            .collect(),
    }))
}
