//! IAM-compatible endpoints: password tokens (`POST /v3/auth/tokens`) and domain discovery for
//! SDK clients built with a region (`GET /v3/auth/domains`).

use axum::{
    extract::State,
    http::{HeaderName, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    error::{ApiError, ApiResult},
    http::{extract::ApiJson, ErrorBody},
    service::auth::{self, Caller},
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
    /// Must contain `password`.
    pub methods: Vec<String>,
    pub password: PasswordIdentity,
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
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub token: TokenInfo,
}

fn iam_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Obtain a token with the IAM password method; the token is in the `X-Subject-Token` header.
#[utoipa::path(post, path = "/v3/auth/tokens", tag = "iam",
    request_body = TokenRequest,
    responses((status = 201, body = TokenResponse, headers(("X-Subject-Token" = String, description = "The token"))),
              (status = "4XX", body = ErrorBody)))]
pub async fn create_token(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<TokenRequest>,
) -> ApiResult<Response> {
    let identity = req.auth.identity;
    if !identity.methods.iter().any(|m| m == "password") {
        return Err(ApiError::invalid(
            "auth.identity.methods",
            "must contain \"password\"",
        ));
    }
    let user = identity.password.user;
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
        },
    };
    let token = HeaderValue::from_str(&issued.token).map_err(ApiError::internal)?;
    let mut resp = (StatusCode::CREATED, Json(body)).into_response();
    resp.headers_mut()
        .insert(HeaderName::from_static("x-subject-token"), token);
    Ok(resp)
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
