//! Extractors: JSON and query bodies whose rejections are our CBC.0100 error naming the field, and
//! the typed callers that the authentication layer attached to the request.

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request},
    http::request::Parts,
};
use serde::de::DeserializeOwned;

use crate::{
    error::{ApiError, Code},
    service::auth::{Caller, CustomerCaller, PartnerCaller},
};

/// JSON body; malformed JSON, a wrong type or a missing field is 400 CBC.0100 naming the field.
pub struct ApiJson<T>(pub T);

fn body_error(e: axum::extract::rejection::BytesRejection) -> ApiError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(Code::PayloadTooLarge, "Request body is too large.")
    } else {
        ApiError::invalid("body", "could not be read")
    }
}

fn path_name(path: &serde_path_to_error::Path) -> String {
    let p = path.to_string();
    if p == "." || p.is_empty() {
        "body".to_string()
    } else {
        p
    }
}

/// Deserialises JSON with the failing field named in the error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // serde would also accept an array in the fields' order as a struct; the API takes objects.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::invalid("body", "a JSON object is required"));
    }
    super::input::check_json_bytes(bytes)?;
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => Ok(v),
        Err(e) => {
            let field = path_name(e.path());
            let inner = e.into_inner();
            // serde names a missing field only in its message ("missing field `x`").
            let msg = inner.to_string();
            let field = match msg.strip_prefix("missing field `") {
                Some(rest) => {
                    let name = rest.split('`').next().unwrap_or(rest);
                    if field == "body" {
                        name.to_string()
                    } else {
                        format!("{field}.{name}")
                    }
                }
                None => field,
            };
            let why = msg.split(" at line ").next().unwrap_or(&msg);
            Err(ApiError::invalid(&field, without_type_names(why)))
        }
    }
}

/// serde names our Rust types in its messages ("expected struct BatchItem with 2 elements");
/// clients are told about JSON instead.
fn without_type_names(why: &str) -> String {
    match why.find("expected struct ") {
        Some(at) => format!("{}expected a JSON object", &why[..at]),
        None => why.to_string(),
    }
}

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(body_error)?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// The JSON body of a money-moving call, its optional `Idempotency-Key` header, and a digest of
/// method, path and the canonical body (what "the same request" means for a replay).
pub struct IdempotentJson<T> {
    pub body: T,
    pub key: Option<String>,
    pub digest: String,
}

/// Longest accepted `Idempotency-Key`.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

impl<S, T> FromRequest<S> for IdempotentJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let key = match req.headers().get("idempotency-key") {
            None => None,
            Some(v) => {
                let k = v
                    .to_str()
                    .ok()
                    .filter(|k| !k.is_empty() && k.len() <= MAX_IDEMPOTENCY_KEY)
                    .ok_or_else(|| {
                        ApiError::invalid(
                            "Idempotency-Key",
                            format!("must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters"),
                        )
                    })?;
                Some(k.to_string())
            }
        };
        let head = format!("{}\n{}\n", req.method(), req.uri().path());
        let bytes = Bytes::from_request(req, state).await.map_err(body_error)?;
        let body = parse_json(&bytes)?;
        // Whitespace and key order do not make a different request; number spelling does.
        let canonical = serde_json::from_slice::<serde_json::Value>(&bytes)
            .map(|v| v.to_string())
            .map_err(|_| ApiError::invalid("body", "must be JSON"))?;
        let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
            format!("{head}{canonical}").as_bytes(),
        ));
        Ok(IdempotentJson { body, key, digest })
    }
}

/// Query string; a bad value is 400 CBC.0100 naming the parameter.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        super::input::check_query(q)?;
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(q.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| {
                let field = path_name(e.path());
                let msg = e.into_inner().to_string();
                let field = match msg.strip_prefix("missing field `") {
                    Some(rest) => rest.split('`').next().unwrap_or(rest).to_string(),
                    None => field,
                };
                ApiError::invalid(&field, msg)
            })
    }
}

fn caller(parts: &Parts) -> Result<&Caller, ApiError> {
    // The authentication layer always attaches a caller; without one the route was mounted
    // outside it, and we fail closed.
    parts
        .extensions
        .get::<Caller>()
        .ok_or_else(|| ApiError::new(Code::SignatureInvalid, "Authentication required."))
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        caller(parts).cloned()
    }
}

/// A partner (solution provider, distributor or reseller); a customer gets 403 CBC.0151.
impl<S: Send + Sync> FromRequestParts<S> for PartnerCaller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match caller(parts)? {
            Caller::Partner(p) => Ok(p.clone()),
            Caller::Customer(_) => Err(ApiError::access_denied()),
        }
    }
}

/// A customer using its own credentials; a partner gets 403 CBC.0151.
impl<S: Send + Sync> FromRequestParts<S> for CustomerCaller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match caller(parts)? {
            Caller::Customer(c) => Ok(c.clone()),
            Caller::Partner(_) => Err(ApiError::access_denied()),
        }
    }
}

/// The `offset`/`limit` pair of list operations, checked against the contract's ranges.
#[derive(Debug, Clone, Copy)]
pub struct Paging {
    pub offset: i64,
    pub limit: i64,
}

impl Paging {
    pub fn new(offset: Option<i64>, limit: Option<i64>, max_offset: i64) -> Result<Self, ApiError> {
        let offset = offset.unwrap_or(0);
        let limit = limit.unwrap_or(10);
        if !(0..=max_offset).contains(&offset) {
            return Err(ApiError::invalid(
                "offset",
                format!("must be between 0 and {max_offset}"),
            ));
        }
        if !(1..=100).contains(&limit) {
            return Err(ApiError::invalid("limit", "must be between 1 and 100"));
        }
        Ok(Paging { offset, limit })
    }
}
