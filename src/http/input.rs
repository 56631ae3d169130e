//! One rule for text input, applied to every route before anything else runs: no string may
//! carry a NUL byte (PostgreSQL text cannot hold one), whether it comes in a path segment, a query
//! parameter, a header or anywhere in a JSON body; and a POST/PUT/PATCH body whose type is given
//! must be declared JSON. Both are 400 CBC.0100 naming the field. The JSON and query extractors
//! apply the same NUL check, so a route mounted outside this layer cannot forget it either.

use axum::{
    body::{to_bytes, Body},
    extract::{RawPathParams, Request, State},
    http::{header::CONTENT_TYPE, HeaderMap, Method},
    middleware::Next,
    response::{IntoResponse, Response},
    RequestPartsExt,
};
use serde_json::Value;

use crate::{
    error::{ApiError, Code},
    state::AppState,
};

const NUL_MSG: &str = "must not contain a NUL character";

/// The first string (value or key) holding a NUL, named like the extractors name fields
/// (`body`, `items[2].name`).
pub fn nul_in_json(v: &Value) -> Option<String> {
    fn walk(v: &Value, path: &mut String) -> bool {
        match v {
            Value::String(s) => s.contains('\0'),
            Value::Array(items) => items.iter().enumerate().any(|(i, item)| {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let found = walk(item, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            Value::Object(map) => map.iter().any(|(k, item)| {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&k.replace('\0', "\\u0000"));
                let found = k.contains('\0') || walk(item, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            _ => false,
        }
    }
    let mut path = String::new();
    walk(v, &mut path).then(|| {
        if path.is_empty() {
            "body".to_string()
        } else {
            path
        }
    })
}

/// A NUL inside a JSON text can only be spelled `\u0000`: bodies without that sequence are
/// passed without a second parse.
pub fn check_json_bytes(bytes: &[u8]) -> Result<(), ApiError> {
    if !bytes.windows(6).any(|w| w == b"\\u0000") {
        return Ok(());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => match nul_in_json(&v) {
            Some(field) => Err(ApiError::invalid(&field, NUL_MSG)),
            None => Ok(()),
        },
        // Not JSON: the extractor reports that.
        Err(_) => Ok(()),
    }
}

/// A query parameter (name or value, after percent-decoding) holding a NUL.
pub fn check_query(query: &str) -> Result<(), ApiError> {
    if !query.contains("%00") && !query.contains('\0') {
        return Ok(());
    }
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        if k.contains('\0') || v.contains('\0') {
            return Err(ApiError::invalid(&k.replace('\0', "%00"), NUL_MSG));
        }
    }
    Ok(())
}

fn check_headers(headers: &HeaderMap) -> Result<(), ApiError> {
    // HTTP/1 parsers refuse a raw NUL in a header; a decoded header (HTTP/2) is checked here.
    match headers.iter().find(|(_, v)| v.as_bytes().contains(&0)) {
        Some((name, _)) => Err(ApiError::invalid(name.as_str(), NUL_MSG)),
        None => Ok(()),
    }
}

/// `application/json`, `application/json;charset=UTF-8` or an `application/*+json` type.
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The route layer: path parameters, query, headers, then (POST/PUT/PATCH) the content type and
/// the body. A body without a `Content-Type` is taken as JSON (the JSON extractors then decide).
pub async fn guard(State(app): State<AppState>, req: Request, next: Next) -> Response {
    match check(&app, req).await {
        Ok(req) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

async fn check(app: &AppState, req: Request) -> Result<Request, ApiError> {
    let (mut parts, body) = req.into_parts();
    let params = parts
        .extract::<RawPathParams>()
        .await
        .map_err(|_| ApiError::invalid("path", "is not valid UTF-8 after percent-decoding"))?;
    if let Some((name, _)) = params.iter().find(|(_, v)| v.contains('\0')) {
        return Err(ApiError::invalid(name, NUL_MSG));
    }
    check_query(parts.uri.query().unwrap_or(""))?;
    check_headers(&parts.headers)?;
    if !matches!(parts.method, Method::POST | Method::PUT | Method::PATCH) {
        return Ok(Request::from_parts(parts, body));
    }
    // Every Content-Type given must be JSON (a second, different one would be ambiguous).
    let mut types = parts.headers.get_all(CONTENT_TYPE).iter().peekable();
    let declared = types
        .peek()
        .is_some()
        .then(|| types.all(|v| v.to_str().map(is_json).unwrap_or(false)));
    if declared == Some(false) {
        return Err(ApiError::invalid(
            "Content-Type",
            "must be application/json",
        ));
    }
    let limit = app.config.http.body_limit_bytes;
    let read = tokio::time::timeout(app.config.http.body_read_timeout(), to_bytes(body, limit));
    let bytes = match read.await {
        Err(_) => {
            return Err(ApiError::new(
                Code::RequestTimeout,
                "The request body was not received in time.",
            ))
        }
        Ok(Err(_)) => {
            return Err(ApiError::new(
                Code::PayloadTooLarge,
                "Request body is too large.",
            ))
        }
        Ok(Ok(b)) => b,
    };
    check_json_bytes(&bytes)?;
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nul_is_found_at_any_depth_and_named() {
        let v: Value = serde_json::from_str(r#"{"a":{"b":[1,"x","y\u0000"]}}"#).unwrap();
        assert_eq!(nul_in_json(&v).as_deref(), Some("a.b[2]"));
        let v: Value = serde_json::from_str(r#"{"ok":"fine","k\u0000":1}"#).unwrap();
        assert_eq!(nul_in_json(&v).as_deref(), Some("k\\u0000"));
        let v: Value = serde_json::from_str(r#"{"ok":["fine"],"n":{"m":null}}"#).unwrap();
        assert_eq!(nul_in_json(&v), None);
        assert!(
            check_json_bytes(br#"{"a":"\\u0000"}"#).is_ok(),
            "an escaped backslash"
        );
        assert!(check_json_bytes(br#"{"a":"x\u0000"}"#).is_err());
    }

    #[test]
    fn query_and_content_type_rules() {
        assert!(check_query("a=1&b=x%00y").is_err());
        assert!(check_query("a%00=1").is_err());
        assert!(check_query("a=1&b=%2500").is_ok());
        assert!(is_json("application/json;charset=UTF-8"));
        assert!(is_json("Application/JSON"));
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/jsonx"));
    }
}
