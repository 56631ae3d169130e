//! Authentication layers over whole routers (fail closed): AK/SK signatures or `X-Auth-Token` for
//! the partner and customer API, a bearer token for the vendor admin API.

use axum::{
    body::{to_bytes, Body},
    extract::{OriginalUri, Request, State},
    http::{header::RETRY_AFTER, HeaderMap, HeaderValue, Method},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{
    domain::assume_role::{route_allowed, Scope},
    error::{codes, ApiError, Code},
    service::{
        auth::{self, Caller, CustomerCaller, SignedRequest},
        authorizations,
    },
    state::AppState,
};

fn header_value(headers: &HeaderMap, name: &str) -> Option<String> {
    let mut values = headers.get_all(name).iter();
    let first = values.next()?.to_str().ok()?.to_string();
    // Repeated headers are joined the way HTTP folds them.
    Some(values.fold(first, |acc, v| {
        format!("{acc},{}", v.to_str().unwrap_or_default())
    }))
}

/// Verifies the request's credentials and attaches the typed [`Caller`].
pub async fn require_caller(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let req = match authenticate(&app, req).await {
        Ok(req) => req,
        Err(e) => return e.into_response(),
    };
    let principal = req
        .extensions()
        .get::<Caller>()
        .map(|c| c.principal_id().to_string())
        .unwrap_or_default();
    if let Err(wait) = app.limiter.check(&principal).await {
        let mut resp = ApiError::new(
            Code::RateLimited,
            "Flow control: too many requests, retry later.",
        )
        .into_response();
        // Whole seconds, rounded up: retrying after it finds a token.
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        resp.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs.max(1)));
        return resp;
    }
    match req.extensions().get::<Caller>() {
        Some(Caller::Customer(c)) if c.acting.is_some() => {
            let c = c.clone();
            assumed_role_request(&app, c, req, next).await
        }
        _ => next.run(req).await,
    }
}

/// A request made with an assume-role token: logged (authorisation, partner, customer, method,
/// path, status, time) before it runs and completed with its status; a route outside the
/// authorisation's scope is refused with 403 CBC.99014006 (and logged too).
async fn assumed_role_request(
    app: &AppState,
    caller: CustomerCaller,
    req: Request,
    next: Next,
) -> Response {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let log_id = match authorizations::log_request(app, &caller, &method, &path).await {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let allowed = caller
        .acting
        .as_ref()
        .and_then(|a| Scope::parse(&a.scope))
        .is_some_and(|scope| route_allowed(scope, &method, &path));
    let resp = if allowed {
        next.run(req).await
    } else {
        ApiError::new(
            Code::Forbidden(codes::OUTSIDE_AUTHORIZED_SCOPE),
            "Access denied: the route is outside the scope the customer authorised.",
        )
        .into_response()
    };
    if let Some(id) = log_id {
        if let Err(e) = authorizations::finish_request(app, id, resp.status().as_u16()).await {
            tracing::error!(error = ?e.source, log_id = id, "assume-role request log not completed");
        }
    }
    resp
}

/// Authenticates a request outside the signed routes (the assume-role token request).
pub async fn authenticate_request(app: &AppState, req: Request) -> Result<Caller, ApiError> {
    let req = authenticate(app, req).await?;
    req.extensions()
        .get::<Caller>()
        .cloned()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("authenticated without a caller")))
}

async fn authenticate(app: &AppState, req: Request) -> Result<Request, ApiError> {
    let (mut parts, body) = req.into_parts();
    let caller: Caller;
    let body = if let Some(token) = header_value(&parts.headers, "x-auth-token") {
        caller = auth::verify_token(app, &token).await?;
        body
    } else {
        let authorization = header_value(&parts.headers, "authorization").ok_or_else(|| {
            ApiError::new(
                Code::SignatureInvalid,
                "Incorrect IAM authentication information: no Authorization or X-Auth-Token header",
            )
        })?;
        let bytes = to_bytes(body, app.config.http.body_limit_bytes)
            .await
            .map_err(|_| ApiError::new(Code::PayloadTooLarge, "Request body is too large."))?;
        let uri = parts
            .extensions
            .get::<OriginalUri>()
            .map(|u| u.0.clone())
            .unwrap_or_else(|| parts.uri.clone());
        let headers = parts.headers.clone();
        let lookup = move |name: &str| header_value(&headers, name);
        let method = parts.method.as_str().to_string();
        caller = auth::verify_signature(
            app,
            SignedRequest {
                authorization: &authorization,
                method: &method,
                raw_path: uri.path(),
                raw_query: uri.query().unwrap_or(""),
                header: &lookup,
                body: &bytes,
            },
        )
        .await?;
        Body::from(bytes)
    };
    tracing::Span::current().record("caller_id", caller.principal_id());
    parts.extensions.insert(caller);
    Ok(Request::from_parts(parts, body))
}

/// After any request that may change who a caller is (every non-GET/HEAD request except the
/// funding endpoints under `/v2/accounts/` and the read-only `…/query` searches), this replica
/// forgets its cached callers, so a key or account disabled here is refused at once; other
/// replicas refuse it within `auth.caller_cache_ms`.
pub async fn invalidate_callers(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        || path.starts_with("/v2/accounts/")
        || path.ends_with("query");
    let resp = next.run(req).await;
    if !safe {
        app.callers.clear();
    }
    resp
}

/// `Authorization: Bearer <admin.token>`, compared in constant time.
pub async fn require_admin(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let given = header_value(req.headers(), "authorization")
        .and_then(|v| v.strip_prefix("Bearer ").map(str::to_string))
        .unwrap_or_default();
    if !crate::signing::signatures_match(app.config.admin.token.expose(), given.trim()) {
        return ApiError::new(Code::TokenInvalid, "Admin token invalid.").into_response();
    }
    tracing::Span::current().record("caller_id", "admin");
    next.run(req).await
}
