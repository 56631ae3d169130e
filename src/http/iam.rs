//! IAM-compatible endpoints: password and assume-role tokens (`POST /v3/auth/tokens`) and domain
//! discovery for SDK clients built with a region (`GET /v3/auth/domains`).

use axum::{
    body::{to_bytes, Body},
    extract::{Request, State},
    http::{HeaderName, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    domain::assume_role::{DEFAULT_DURATION_SECS, MAX_DURATION_SECS, MIN_DURATION_SECS},
    error::{ApiError, ApiResult},
    http::{extract::parse_json, ErrorBody},
    service::auth::{self, AssumedDomain, Caller},
    state::AppState,
};

#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRequest {
    pub auth: AuthBody,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AuthBody {
    pub identity: Identity,
    /// Accepted and ignored: tokens are scoped to the account.
    #[schema(value_type = Option<Object>)]
    pub scope: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Identity {
    /// `["password"]`, or `["assume_role"]` (a partner's token for one of its customers).
    pub methods: Vec<String>,
    /// Required with the `password` method.
    pub password: Option<PasswordIdentity>,
    /// Required with the `assume_role` method.
    pub assume_role: Option<AssumeRoleIdentity>,
}

/// The customer whose role the partner assumes (IAM's 获取委托Token shape). The request must be
/// authenticated as the partner's main account (`X-Auth-Token` or AK/SK signature).
#[derive(Debug, Deserialize, ToSchema)]
pub struct AssumeRoleIdentity {
    /// The customer's account (domain) id; or give `domain_name`.
    pub domain_id: Option<String>,
    /// The customer's account (domain) name.
    pub domain_name: Option<String>,
    /// The agency's name (1–64 characters): echoed; the customer's authorisation decides.
    pub agency_name: String,
    /// 900–86400, default 3600; never longer than `auth.token_ttl_secs` or the authorisation.
    pub duration_seconds: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordIdentity {
    pub user: UserCredentials,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UserCredentials {
    pub name: String,
    pub password: String,
    pub domain: DomainRef,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DomainRef {
    pub name: Option<String>,
    pub id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DomainInfo {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenUser {
    pub id: String,
    pub name: String,
    pub domain: DomainInfo,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenInfo {
    pub expires_at: String,
    pub issued_at: String,
    pub methods: Vec<String>,
    pub user: TokenUser,
    pub domain: DomainInfo,
    /// Assume-role tokens: the partner behind the token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assumed_by: Option<AssumedBy>,
    /// Assume-role tokens: the authorisation and its scope (extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assume_role: Option<AssumeRoleInfo>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssumedBy {
    pub user: TokenUser,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssumeRoleInfo {
    pub authorization_id: String,
    /// `order` | `order_and_resource`.
    pub scope: String,
    pub agency_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub token: TokenInfo,
}

fn iam_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Obtain a token (in the `X-Subject-Token` header): the IAM password method, or `assume_role`
/// — the partner (authenticated by its `X-Auth-Token` or AK/SK signature) gets a token acting as
/// one of its resale customers while an approved authorisation exists (403 CBC.99014005
/// otherwise); the token may call the authorised scope's routes only (403 CBC.99014006).
#[utoipa::path(post, path = "/v3/auth/tokens", tag = "iam",
    request_body = TokenRequest,
    responses((status = 201, body = TokenResponse, headers(("X-Subject-Token" = String, description = "The token"))),
              (status = "4XX", body = ErrorBody)))]
pub async fn create_token(State(app): State<AppState>, req: Request) -> ApiResult<Response> {
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, app.config.http.body_limit_bytes)
        .await
        .map_err(|_| {
            ApiError::new(
                crate::error::Code::PayloadTooLarge,
                "Request body is too large.",
            )
        })?;
    let token_req: TokenRequest = parse_json(&bytes)?;
    let identity = token_req.auth.identity;
    if identity.methods.iter().any(|m| m == "assume_role") {
        let caller =
            super::auth::authenticate_request(&app, Request::from_parts(parts, Body::from(bytes)))
                .await?;
        return assume_role(&app, caller, identity.assume_role).await;
    }
    if !identity.methods.iter().any(|m| m == "password") {
        return Err(ApiError::invalid(
            "auth.identity.methods",
            "must contain \"password\" or \"assume_role\"",
        ));
    }
    let user = identity
        .password
        .ok_or_else(|| ApiError::invalid("auth.identity.password", "missing field `password`"))?
        .user;
    if user.domain.name.is_none() && user.domain.id.is_none() {
        return Err(ApiError::invalid(
            "auth.identity.password.user.domain",
            "needs a name or an id",
        ));
    }
    let issued = auth::issue_token(
        &app,
        &user.name,
        &user.password,
        user.domain.name.as_deref(),
        user.domain.id.as_deref(),
    )
    .await?;
    let domain = || DomainInfo {
        id: issued.domain_id.clone(),
        name: issued.domain_name.clone(),
    };
    let body = TokenResponse {
        token: TokenInfo {
            expires_at: iam_time(issued.expires_at),
            issued_at: iam_time(issued.issued_at),
            methods: vec!["password".into()],
            user: TokenUser {
                id: issued.account_id.clone(),
                name: issued.login_name.clone(),
                domain: domain(),
            },
            domain: domain(),
            assumed_by: None,
            assume_role: None,
        },
    };
    token_response(&issued.token, body)
}

fn token_response(token: &str, body: TokenResponse) -> ApiResult<Response> {
    let token = HeaderValue::from_str(token).map_err(ApiError::internal)?;
    let mut resp = (StatusCode::CREATED, Json(body)).into_response();
    resp.headers_mut()
        .insert(HeaderName::from_static("x-subject-token"), token);
    Ok(resp)
}

async fn assume_role(
    app: &AppState,
    caller: Caller,
    identity: Option<AssumeRoleIdentity>,
) -> ApiResult<Response> {
    // Partners' main accounts only: an operator, a customer or an assume-role token is refused.
    let partner = match caller {
        Caller::Partner(p) if p.is_main_account() => p,
        _ => {
            return Err(ApiError::new(
                crate::error::Code::AccessDenied,
                "Access denied: only a partner's main account may assume a customer's role.",
            ))
        }
    };
    let a = identity.ok_or_else(|| {
        ApiError::invalid("auth.identity.assume_role", "missing field `assume_role`")
    })?;
    let agency = a.agency_name.trim();
    if agency.is_empty() || agency.chars().count() > 64 {
        return Err(ApiError::invalid(
            "auth.identity.assume_role.agency_name",
            "must be 1 to 64 characters",
        ));
    }
    let duration = a.duration_seconds.unwrap_or(DEFAULT_DURATION_SECS);
    if !(MIN_DURATION_SECS..=MAX_DURATION_SECS).contains(&duration) {
        return Err(ApiError::invalid(
            "auth.identity.assume_role.duration_seconds",
            format!("must be between {MIN_DURATION_SECS} and {MAX_DURATION_SECS}"),
        ));
    }
    let domain = match (a.domain_id.as_deref(), a.domain_name.as_deref()) {
        (Some(id), _) if !id.is_empty() => AssumedDomain::Id(id),
        (_, Some(name)) if !name.is_empty() => AssumedDomain::Name(name),
        _ => {
            return Err(ApiError::invalid(
                "auth.identity.assume_role",
                "needs a domain_id or a domain_name",
            ))
        }
    };
    let t = auth::issue_assumed_token(app, &partner, domain, duration).await?;
    let customer_domain = || DomainInfo {
        id: t.customer_id.clone(),
        name: t.customer_login.clone(),
    };
    let partner_domain = DomainInfo {
        id: partner.account_id.clone(),
        name: partner.login_name.clone(),
    };
    let body = TokenResponse {
        token: TokenInfo {
            expires_at: iam_time(t.expires_at),
            issued_at: iam_time(t.issued_at),
            methods: vec!["assume_role".into()],
            user: TokenUser {
                id: t.customer_id.clone(),
                name: format!("{}/{agency}", t.customer_login),
                domain: customer_domain(),
            },
            domain: customer_domain(),
            assumed_by: Some(AssumedBy {
                user: TokenUser {
                    id: partner.account_id.clone(),
                    name: partner.login_name.clone(),
                    domain: partner_domain,
                },
            }),
            assume_role: Some(AssumeRoleInfo {
                authorization_id: t.authorization_id.clone(),
                scope: t.scope.as_str().to_string(),
                agency_name: agency.to_string(),
            }),
        },
    };
    token_response(&t.token, body)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DomainsResponse {
    pub domains: Vec<DomainInfo>,
}

/// The caller's own domain (account): how region-configured SDK clients discover their domain id.
#[utoipa::path(get, path = "/v3/auth/domains", tag = "iam",
    responses((status = 200, body = DomainsResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_domains(caller: Caller) -> Json<DomainsResponse> {
    Json(DomainsResponse {
        domains: vec![DomainInfo {
            id: caller.account_id().to_string(),
            name: caller.login_name().to_string(),
        }],
    })
}
