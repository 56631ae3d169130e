//! Real-name authentication (10-customers.md §6–10).

use axum::{extract::State, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::max_len;
use crate::{
    error::{ApiError, ApiResult},
    http::{
        extract::{ApiJson, ApiQuery},
        ErrorBody,
    },
    service::{
        auth::{CustomerCaller, PartnerCaller},
        realname::{self, Application, Kind},
    },
    state::AppState,
};

const FILE_EXTENSIONS: [&str; 6] = ["jpg", "jpeg", "bmp", "png", "gif", "pdf"];

/// Files are relative paths below the partner bucket's `download/` folder.
fn check_files(files: &[String], expected: Option<usize>) -> Result<(), ApiError> {
    if files.is_empty() {
        return Err(ApiError::invalid("verified_file_url", "must not be empty"));
    }
    if let Some(n) = expected {
        if files.len() != n {
            return Err(ApiError::invalid(
                "verified_file_url",
                format!("must list {n} files"),
            ));
        }
    }
    for f in files {
        let ext = f
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        if f.is_empty()
            || f.starts_with('/')
            || f.contains("..")
            || !FILE_EXTENSIONS.contains(&ext.as_str())
        {
            return Err(ApiError::invalid(
                "verified_file_url",
                "each file must be a relative path of a jpg, jpeg, bmp, png, gif or pdf file",
            ));
        }
    }
    Ok(())
}

fn required(field: &str, v: &str, max: usize) -> Result<(), ApiError> {
    if v.trim().is_empty() {
        return Err(ApiError::invalid(field, "must not be empty"));
    }
    max_len(field, Some(v), max)
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct BankCardInfoV2 {
    pub bank_account: String,
    pub areacode: String,
    pub mobile: String,
    pub verification_code: String,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct ApplyIndividualRealnameAuthsReq {
    pub customer_id: String,
    /// `0` personal identity document | `4` personal bank card.
    pub identify_type: i32,
    /// Required when `identify_type` = 0: 3, 5, 6, 9 or 10.
    pub verified_type: Option<i32>,
    pub verified_file_url: Vec<String>,
    pub name: String,
    pub verified_number: String,
    /// `-1` = first-time authentication.
    pub change_type: Option<i32>,
    pub xaccount_type: String,
    pub bank_card_info: Option<BankCardInfoV2>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IsReviewResponse {
    /// `0` decided without review, `1` waiting for the vendor's review.
    pub is_review: i32,
}

/// Apply individual real-name authentication for a customer.
#[utoipa::path(post, path = "/v2/customers/realname-auths/individual", tag = "real-name",
    request_body = ApplyIndividualRealnameAuthsReq,
    responses((status = 200, body = IsReviewResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn create_personal_realname_auth(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiJson(req): ApiJson<ApplyIndividualRealnameAuthsReq>,
) -> ApiResult<Json<IsReviewResponse>> {
    required("customer_id", &req.customer_id, 64)?;
    required("name", &req.name, 128)?;
    required("verified_number", &req.verified_number, 64)?;
    required("xaccount_type", &req.xaccount_type, 64)?;
    if let Some(c) = req.change_type {
        if c != -1 {
            return Err(ApiError::invalid("change_type", "must be -1"));
        }
    }
    let bank_card_code = match req.identify_type {
        0 => {
            match req.verified_type {
                Some(3 | 5 | 6 | 9 | 10) => {}
                _ => {
                    return Err(ApiError::invalid(
                        "verified_type",
                        "must be 3, 5, 6, 9 or 10 when identify_type is 0",
                    ))
                }
            }
            check_files(&req.verified_file_url, Some(3))?;
            None
        }
        4 => {
            check_files(&req.verified_file_url, Some(1))?;
            let b = req.bank_card_info.as_ref().ok_or_else(|| {
                ApiError::invalid("bank_card_info", "is required when identify_type is 4")
            })?;
            if b.bank_account.is_empty()
                || !b
                    .bank_account
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-')
            {
                return Err(ApiError::invalid(
                    "bank_card_info.bank_account",
                    "must be letters, digits and -",
                ));
            }
            required("bank_card_info.areacode", &b.areacode, 8)?;
            if !crate::domain::validate::chinese_mobile(&b.mobile) {
                return Err(ApiError::invalid(
                    "bank_card_info.mobile",
                    "must be a Chinese mobile number",
                ));
            }
            required("bank_card_info.verification_code", &b.verification_code, 16)?;
            Some((b.mobile.clone(), b.verification_code.clone()))
        }
        _ => return Err(ApiError::invalid("identify_type", "must be 0 or 4")),
    };
    let mut details = serde_json::to_value(&req).map_err(ApiError::internal)?;
    if let Some(b) = details
        .get_mut("bank_card_info")
        .and_then(|b| b.as_object_mut())
    {
        b.remove("verification_code");
    }
    let is_review = realname::apply(
        &app,
        &caller,
        Application {
            kind: Kind::Individual,
            customer_id: req.customer_id,
            identify_type: req.identify_type,
            name: req.name,
            verified_number: req.verified_number,
            xaccount_type: req.xaccount_type,
            bank_card_code,
            details,
        },
    )
    .await?;
    Ok(Json(IsReviewResponse { is_review }))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct EnterprisePersonNew {
    pub legel_name: String,
    pub legel_id_number: String,
    pub certifier_role: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct ApplyEnterpriseRealnameAuthsReq {
    pub customer_id: String,
    /// `1` = organisation certificate.
    pub identify_type: i32,
    /// 0, 1, 2, 3, 4 or 99.
    pub certificate_type: Option<i32>,
    pub verified_file_url: Vec<String>,
    pub corp_name: String,
    pub verified_number: String,
    /// ISO 3166 alpha-2.
    pub reg_country: Option<String>,
    pub reg_address: Option<String>,
    pub xaccount_type: String,
    pub enterprise_person: Option<EnterprisePersonNew>,
    /// Change requests only: `1` = individual to enterprise.
    pub change_type: Option<i32>,
}

fn enterprise_application(
    req: &ApplyEnterpriseRealnameAuthsReq,
    kind: Kind,
) -> Result<Application, ApiError> {
    required("customer_id", &req.customer_id, 64)?;
    required("verified_number", &req.verified_number, 64)?;
    required("xaccount_type", &req.xaccount_type, 64)?;
    required("corp_name", &req.corp_name, 256)?;
    if req.corp_name.chars().all(|c| !c.is_alphabetic()) {
        return Err(ApiError::invalid(
            "corp_name",
            "must not be only digits, special characters or spaces",
        ));
    }
    if req.identify_type != 1 {
        return Err(ApiError::invalid("identify_type", "must be 1"));
    }
    if let Some(t) = req.certificate_type {
        if ![0, 1, 2, 3, 4, 99].contains(&t) {
            return Err(ApiError::invalid(
                "certificate_type",
                "must be 0, 1, 2, 3, 4 or 99",
            ));
        }
    }
    if let Some(c) = req.reg_country.as_deref() {
        if !(c.is_empty() || (c.len() == 2 && c.chars().all(|x| x.is_ascii_uppercase()))) {
            return Err(ApiError::invalid(
                "reg_country",
                "must be an ISO 3166 alpha-2 code",
            ));
        }
    }
    max_len("reg_address", req.reg_address.as_deref(), 1024)?;
    if let Some(p) = &req.enterprise_person {
        required("enterprise_person.legel_name", &p.legel_name, 128)?;
        required("enterprise_person.legel_id_number", &p.legel_id_number, 64)?;
    }
    check_files(
        &req.verified_file_url,
        req.enterprise_person.as_ref().map(|_| 3),
    )?;
    match (kind, req.change_type) {
        (Kind::ChangeToEnterprise, Some(1)) => {}
        (Kind::ChangeToEnterprise, _) => return Err(ApiError::invalid("change_type", "must be 1")),
        (_, Some(_)) => {
            return Err(ApiError::invalid(
                "change_type",
                "is only for a change request",
            ))
        }
        (_, None) => {}
    }
    Ok(Application {
        kind,
        customer_id: req.customer_id.clone(),
        identify_type: req.identify_type,
        name: req.corp_name.clone(),
        verified_number: req.verified_number.clone(),
        xaccount_type: req.xaccount_type.clone(),
        bank_card_code: None,
        details: serde_json::to_value(req).map_err(ApiError::internal)?,
    })
}

/// Apply enterprise real-name authentication for a customer.
#[utoipa::path(post, path = "/v2/customers/realname-auths/enterprise", tag = "real-name",
    request_body = ApplyEnterpriseRealnameAuthsReq,
    responses((status = 200, body = IsReviewResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn create_enterprise_realname_authentication(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiJson(req): ApiJson<ApplyEnterpriseRealnameAuthsReq>,
) -> ApiResult<Json<IsReviewResponse>> {
    let a = enterprise_application(&req, Kind::Enterprise)?;
    let is_review = realname::apply(&app, &caller, a).await?;
    Ok(Json(IsReviewResponse { is_review }))
}

/// Change a customer's individual real-name authentication to an enterprise one.
#[utoipa::path(put, path = "/v2/customers/realname-auths/enterprise", tag = "real-name",
    request_body = ApplyEnterpriseRealnameAuthsReq,
    responses((status = 200, body = IsReviewResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn change_enterprise_realname_authentication(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiJson(req): ApiJson<ApplyEnterpriseRealnameAuthsReq>,
) -> ApiResult<Json<IsReviewResponse>> {
    let a = enterprise_application(&req, Kind::ChangeToEnterprise)?;
    let is_review = realname::apply(&app, &caller, a).await?;
    Ok(Json(IsReviewResponse { is_review }))
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReviewResultQuery {
    pub customer_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewResultResponse {
    /// `0` reviewing, `1` rejected, `2` approved; absent when there is no application.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review_result: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opinion: Option<String>,
}

/// The review result of a customer's latest real-name application.
#[utoipa::path(get, path = "/v2/customers/realname-auths/result", tag = "real-name", params(ReviewResultQuery),
    responses((status = 200, body = ReviewResultResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn show_realname_authentication_review_result(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiQuery(q): ApiQuery<ReviewResultQuery>,
) -> ApiResult<Json<ReviewResultResponse>> {
    required("customer_id", &q.customer_id, 64)?;
    let latest = realname::review_result(&app, &caller, &q.customer_id).await?;
    Ok(Json(match latest {
        None => ReviewResultResponse {
            review_result: None,
            opinion: None,
        },
        Some(a) => ReviewResultResponse {
            review_result: Some(match a.status.as_str() {
                "approved" => 2,
                "rejected" => 1,
                _ => 0,
            }),
            opinion: a.opinion,
        },
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShowRealNameAuthStatusResponse {
    /// `-1` not verified, `0` reviewing, `1` rejected, `2` verified.
    pub verified_status: i32,
    /// `0` individual, `1` enterprise; absent when not verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified_type: Option<i32>,
}

/// The calling customer's own real-name status.
#[utoipa::path(get, path = "/v2/customers/real-name-auth-status", tag = "real-name",
    responses((status = 200, body = ShowRealNameAuthStatusResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn show_real_name_auth_status(
    State(app): State<AppState>,
    caller: CustomerCaller,
) -> ApiResult<Json<ShowRealNameAuthStatusResponse>> {
    let s = realname::own_status(&app, &caller.account_id).await?;
    Ok(Json(ShowRealNameAuthStatusResponse {
        verified_status: s.verified_status,
        verified_type: s.verified_type,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShowRealNameAuthQrCodeResponse {
    /// Single-use; invalid once scanned or after 10 minutes.
    pub qr_code_url: String,
}

/// A face-verification QR code URL for the calling customer (customer credentials).
#[utoipa::path(get, path = "/v2/customers/real-name-auth-qrcode", tag = "real-name",
    responses((status = 200, body = ShowRealNameAuthQrCodeResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn show_real_name_auth_qr_code(
    State(app): State<AppState>,
    caller: CustomerCaller,
    headers: axum::http::HeaderMap,
) -> ApiResult<Json<ShowRealNameAuthQrCodeResponse>> {
    let token = realname::qr_code(&app, &caller.account_id).await?;
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    Ok(Json(ShowRealNameAuthQrCodeResponse {
        qr_code_url: format!("http://{host}/realname/qr/{token}"),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QrScanResponse {
    pub status: String,
}

/// What the QR code points at: the phone's scan (no credentials; single use).
#[utoipa::path(get, path = "/realname/qr/{token}", tag = "real-name",
    params(("token" = String, Path)),
    responses((status = 200, body = QrScanResponse), (status = "4XX", body = ErrorBody)))]
pub async fn scan_real_name_qr_code(
    State(app): State<AppState>,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> ApiResult<Json<QrScanResponse>> {
    realname::scan_qr_code(&app, &token).await?;
    Ok(Json(QrScanResponse {
        status: "scanned".into(),
    }))
}
