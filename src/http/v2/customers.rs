//! Sub-customer operations (10-customers.md §1–4).

use axum::{extract::State, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{max_len, non_empty, time_bound};
use crate::{
    db::customers::CustomerFilter,
    domain::{time::format_ts, validate, AssociationType},
    error::{codes, ApiError, ApiResult},
    http::{
        extract::{ApiJson, Paging},
        ErrorBody,
    },
    service::{
        auth::PartnerCaller,
        customers::{self, CustomerQuery, IdentityCheck, NewSubCustomer},
        verification::{self, SendCode},
    },
    state::AppState,
};

#[derive(Debug, Deserialize, ToSchema)]
pub struct CheckSubcustomerUserReq {
    /// `email` | `mobile` | `name`
    pub search_type: String,
    /// The value to check (≤ 64 characters).
    pub search_value: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckUserIdentityResponse {
    /// `available` or `used_by_user`.
    pub check_result: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mobile_remain_available_num: Option<i64>,
}

/// Check whether a login name, mobile number or e-mail can register a new customer.
#[utoipa::path(post, path = "/v2/partners/sub-customers/users/check-identity", tag = "customers",
    request_body = CheckSubcustomerUserReq,
    responses((status = 200, body = CheckUserIdentityResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn check_user_identity(
    State(app): State<AppState>,
    _caller: PartnerCaller,
    ApiJson(req): ApiJson<CheckSubcustomerUserReq>,
) -> ApiResult<Json<CheckUserIdentityResponse>> {
    max_len("search_value", Some(&req.search_value), 64)?;
    let v = req.search_value;
    let check = match req.search_type.as_str() {
        "email" => {
            if !validate::email(&v) {
                return Err(ApiError::invalid(
                    "search_value",
                    "must be an e-mail address",
                ));
            }
            IdentityCheck::Email(v)
        }
        "mobile" => IdentityCheck::Mobile(
            validate::identity_mobile(&v)
                .map_err(|why| ApiError::invalid("search_value", why))?
                .to_string(),
        ),
        "name" => {
            validate::identity_login_name(&v)
                .map_err(|why| ApiError::invalid("search_value", why))?;
            IdentityCheck::Name(v)
        }
        _ => {
            return Err(ApiError::invalid(
                "search_type",
                "must be email, mobile or name",
            ))
        }
    };
    let r = customers::check_identity(&app, check).await?;
    Ok(Json(CheckUserIdentityResponse {
        check_result: if r.available {
            "available"
        } else {
            "used_by_user"
        }
        .into(),
        mobile_remain_available_num: r.mobile_remaining,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SendVerificationCodeV2Req {
    /// `1` = SMS (the only value).
    pub receiver_type: i64,
    /// Validity in minutes: absent ⇒ 10; above 60 ⇒ 5.
    pub timeout: Option<i64>,
    /// Chinese mobile number without country prefix.
    pub mobile_phone: String,
    /// `zh-cn` (default) | `en-us`.
    pub lang: Option<String>,
    /// `29` registration (default) | `18` individual bank-card real-name authentication.
    pub scene: Option<i64>,
    /// Required when `scene` = 18.
    pub customer_id: Option<String>,
}

/// Send an SMS verification code (15 per hour and 60 per day per number).
#[utoipa::path(post, path = "/v2/bases/verificationcode/send", tag = "customers",
    request_body = SendVerificationCodeV2Req,
    responses((status = 200, description = "Code sent (empty body)"), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn send_verification_message_code(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiJson(req): ApiJson<SendVerificationCodeV2Req>,
) -> ApiResult<Json<serde_json::Value>> {
    if req.receiver_type != 1 {
        return Err(ApiError::invalid("receiver_type", "must be 1 (SMS)"));
    }
    if !validate::chinese_mobile(&req.mobile_phone) {
        return Err(ApiError::invalid(
            "mobile_phone",
            "must be a Chinese mobile number like 13XXXXXXXXX",
        ));
    }
    let timeout = match req.timeout {
        None => 10,
        Some(t) if t < 1 => return Err(ApiError::invalid("timeout", "must be at least 1 minute")),
        Some(t) if t > 60 => 5,
        Some(t) => t,
    };
    let lang = match req.lang.as_deref() {
        None => "zh-cn".to_string(),
        Some(l) if l.eq_ignore_ascii_case("zh-cn") || l.eq_ignore_ascii_case("en-us") => {
            l.to_ascii_lowercase()
        }
        Some(_) => return Err(ApiError::invalid("lang", "must be zh-cn or en-us")),
    };
    let scene = match req.scene {
        None => verification::SCENE_REGISTRATION,
        Some(29) => verification::SCENE_REGISTRATION,
        Some(18) => verification::SCENE_BANK_CARD,
        Some(_) => return Err(ApiError::invalid("scene", "must be 29 or 18")),
    };
    let customer_id = if scene == verification::SCENE_BANK_CARD {
        let id = non_empty(req.customer_id)
            .ok_or_else(|| ApiError::invalid("customer_id", "is required when scene is 18"))?;
        max_len("customer_id", Some(&id), 64)?;
        Some(id)
    } else {
        None
    };
    verification::send_code(
        &app,
        &caller,
        SendCode {
            mobile_phone: req.mobile_phone,
            timeout_minutes: timeout,
            lang,
            scene,
            customer_id,
        },
    )
    .await?;
    Ok(Json(serde_json::json!({})))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateCustomerV2Req {
    /// Login name (5–32); absent/`""`/`null` ⇒ a random 32-character name.
    pub domain_name: Option<String>,
    /// Chinese mobile number; `""` is stored as empty.
    pub mobile_phone: Option<String>,
    /// Code from send-verification-code (scene 29); required when `mobile_phone` is given.
    pub verification_code: Option<String>,
    /// The user's id on the partner's platform; unique per `xaccount_type`.
    pub xaccount_id: String,
    /// The platform identifier the vendor assigned to the partner.
    pub xaccount_type: String,
    /// Absent/`null` ⇒ random password (sign-in only through the partner).
    pub password: Option<String>,
    /// `"true"` | `"false"` (default).
    pub is_close_market_ms: Option<String>,
    /// `"1"` ⇒ advisory association; anything else ⇒ resale (type 2).
    pub cooperation_type: Option<String>,
    /// Distributor creating a customer for one of its resellers.
    pub indirect_partner_id: Option<String>,
    /// Wait for the association result (association is synchronous here).
    #[schema(value_type = Option<bool>)]
    pub include_association_result: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreateSubCustomerResponse {
    pub domain_id: String,
    pub domain_name: String,
}

/// Create a sub-customer and associate it with the partner (or with a distributor's reseller).
#[utoipa::path(post, path = "/v2/partners/sub-customers", tag = "customers",
    request_body = CreateCustomerV2Req,
    responses((status = 200, body = CreateSubCustomerResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn create_sub_customer(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiJson(req): ApiJson<CreateCustomerV2Req>,
) -> ApiResult<Json<CreateSubCustomerResponse>> {
    let created = customers::create_sub_customer(&app, &caller, new_sub_customer(req)?).await?;
    Ok(Json(CreateSubCustomerResponse {
        domain_id: created.domain_id,
        domain_name: created.domain_name,
    }))
}

/// Checks a create-sub-customer body (also used when a lead is converted to a customer).
pub fn new_sub_customer(req: CreateCustomerV2Req) -> ApiResult<NewSubCustomer> {
    let domain_name = non_empty(req.domain_name);
    if let Some(n) = domain_name.as_deref() {
        validate::login_name(n).map_err(|why| {
            ApiError::business(
                codes::LOGIN_NAME_FORMAT,
                format!("Invalid domain_name: {why}."),
            )
        })?;
    }
    if let Some(m) = req.mobile_phone.as_deref() {
        if !m.is_empty() && !validate::chinese_mobile(m) {
            return Err(ApiError::business(
                codes::MOBILE_FORMAT,
                "The mobile number format is invalid.",
            ));
        }
    }
    if req.verification_code.as_deref() == Some("") {
        return Err(ApiError::invalid("verification_code", "must not be empty"));
    }
    if req.xaccount_id.is_empty() {
        return Err(ApiError::invalid("xaccount_id", "must not be empty"));
    }
    max_len("xaccount_id", Some(&req.xaccount_id), 64)?;
    if req.xaccount_type.is_empty() {
        return Err(ApiError::invalid("xaccount_type", "must not be empty"));
    }
    max_len("xaccount_type", Some(&req.xaccount_type), 64)?;
    if req.password.as_deref() == Some("") {
        return Err(ApiError::invalid("password", "must not be empty"));
    }
    let is_close_market_ms = match req.is_close_market_ms.as_deref() {
        None | Some("") | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(ApiError::invalid(
                "is_close_market_ms",
                "must be \"true\" or \"false\"",
            ))
        }
    };
    max_len(
        "indirect_partner_id",
        req.indirect_partner_id.as_deref(),
        64,
    )?;
    match req.include_association_result {
        None | Some(serde_json::Value::Null) | Some(serde_json::Value::Bool(_)) => {}
        Some(serde_json::Value::String(s)) if s.is_empty() => {}
        Some(_) => {
            return Err(ApiError::invalid(
                "include_association_result",
                "must be a boolean",
            ))
        }
    }
    Ok(NewSubCustomer {
        domain_name,
        mobile_phone: req.mobile_phone,
        verification_code: req.verification_code,
        xaccount_id: req.xaccount_id,
        xaccount_type: req.xaccount_type,
        password: req.password,
        is_close_market_ms,
        association: AssociationType::from_cooperation_type(req.cooperation_type.as_deref()),
        indirect_partner_id: non_empty(req.indirect_partner_id),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct QuerySubCustomerListReq {
    /// Substring of the login name (case-sensitive).
    pub account_name: Option<String>,
    /// Substring of the real-name-authentication name.
    pub customer: Option<String>,
    /// Record offset, [0, 40000000], default 0.
    pub offset: Option<i64>,
    /// Page size, [1, 100], default 10.
    pub limit: Option<i64>,
    /// Substring of the label (case-sensitive).
    pub label: Option<String>,
    /// `"1"` advisory | `"2"` resale.
    pub association_type: Option<String>,
    /// UTC lower bound of the association time; `""` is invalid.
    pub associated_on_begin: Option<String>,
    /// UTC upper bound of the association time; `""` is invalid.
    pub associated_on_end: Option<String>,
    /// Exact customer id.
    pub customer_id: Option<String>,
    /// Distributor listing one of its resellers' customers.
    pub indirect_partner_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountManager {
    pub account_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerInfoV2 {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    pub account_name: String,
    pub customer_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub associated_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub association_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub telephone: Option<String>,
    pub verified_status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    pub customer_type: i64,
    pub is_frozen: i64,
    pub account_managers: Vec<AccountManager>,
    pub xaccount_id: String,
    pub xaccount_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListSubCustomersResponse {
    pub count: i64,
    pub customer_infos: Vec<CustomerInfoV2>,
}

/// A substring filter: absent/`""`/`null` ⇒ none; ≤ 64 characters; a value with a space matches
/// nothing (the vendor does not support spaces).
fn substring(field: &str, v: Option<String>) -> Result<(Option<String>, bool), ApiError> {
    let v = non_empty(v);
    max_len(field, v.as_deref(), 64)?;
    let has_space = v.as_deref().is_some_and(|s| s.contains(' '));
    Ok((v.map(|s| validate::like_escape(&s)), has_space))
}

/// List the partner's sub-customers (or a reseller's, for a distributor with `indirect_partner_id`).
#[utoipa::path(post, path = "/v2/partners/sub-customers/query", tag = "customers",
    request_body = QuerySubCustomerListReq,
    responses((status = 200, body = ListSubCustomersResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_sub_customers(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiJson(req): ApiJson<QuerySubCustomerListReq>,
) -> ApiResult<Json<ListSubCustomersResponse>> {
    let paging = Paging::new(req.offset, req.limit, 40_000_000)?;
    let (account_name_like, s1) = substring("account_name", req.account_name)?;
    let (customer_like, s2) = substring("customer", req.customer)?;
    let (label_like, s3) = substring("label", req.label)?;
    let association_type = non_empty(req.association_type);
    if let Some(t) = association_type.as_deref() {
        if AssociationType::from_code(t).is_none() {
            return Err(ApiError::invalid(
                "association_type",
                "must be \"1\" or \"2\"",
            ));
        }
    }
    let customer_id = non_empty(req.customer_id);
    max_len("customer_id", customer_id.as_deref(), 64)?;
    max_len(
        "indirect_partner_id",
        req.indirect_partner_id.as_deref(),
        64,
    )?;
    let filter = CustomerFilter {
        account_name_like,
        customer_like,
        label_like,
        association_type,
        associated_on_begin: time_bound("associated_on_begin", req.associated_on_begin.as_deref())?,
        associated_on_end: time_bound("associated_on_end", req.associated_on_end.as_deref())?,
        customer_id,
        manager_ids: None,
    };
    let (count, rows) = customers::list_sub_customers(
        &app,
        &caller,
        CustomerQuery {
            filter,
            indirect_partner_id: non_empty(req.indirect_partner_id),
            offset: paging.offset,
            limit: paging.limit,
        },
    )
    .await?;
    if s1 || s2 || s3 {
        return Ok(Json(ListSubCustomersResponse {
            count: 0,
            customer_infos: vec![],
        }));
    }
    Ok(Json(ListSubCustomersResponse {
        count,
        customer_infos: rows
            .into_iter()
            .map(|c| CustomerInfoV2 {
                customer: c.real_name,
                account_name: c.account_name,
                customer_id: c.customer_id,
                associated_on: c.associated_on.map(format_ts),
                association_type: c.association_type,
                label: c.label,
                telephone: c.mobile_phone.filter(|m| !m.is_empty()),
                verified_status: c.verified_status,
                country_code: c.country_code,
                customer_type: c.customer_type.into(),
                is_frozen: c.is_frozen.into(),
                account_managers: c
                    .account_manager
                    .into_iter()
                    .map(|account_name| AccountManager { account_name })
                    .collect(),
                xaccount_id: c.xaccount_id,
                xaccount_type: c.xaccount_type,
                customer_level: c.customer_level,
                email: c.email,
            })
            .collect(),
    }))
}
