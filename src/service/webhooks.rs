//! Webhooks: partners' endpoints, and the delivery worker that pushes their events.
//!
//! * Each event the endpoint takes becomes a delivery in the event's own transaction
//!   (`db::events::insert_events`).
//! * The worker claims due deliveries with `FOR UPDATE SKIP LOCKED` and leases them, so replicas
//!   on one database never send one attempt twice; at most `webhooks.max_concurrency` requests
//!   are in flight, each with `webhooks.request_timeout_secs`.
//! * A 2xx answer is a success. Otherwise the next attempt follows
//!   `domain::events::RETRY_DELAYS_SECS` (±10% jitter, never beyond 24 h after the event); after
//!   the last the delivery is `failed`. An endpoint failing without a success for 5 days is
//!   disabled, with a `webhook_endpoint.disabled` event.
//! * Requests carry the Standard Webhooks headers `webhook-id` (the event id), `webhook-timestamp`
//!   and `webhook-signature`.
//! * No SSRF: an endpoint must resolve only to public addresses, checked at registration and again
//!   when each connection is made (the client's resolver refuses), unless
//!   `webhooks.allow_private_targets`. Redirects are not followed; proxies are not used.

use std::{net::SocketAddr, sync::Arc, time::Duration as StdDuration};

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use sqlx::PgConnection;

use crate::{
    db::{
        self,
        webhooks::{AttemptOutcome, AttemptRow, ClaimedRow, EndpointRow, EndpointUpdate},
    },
    domain::{events as rules, net, time::format_ts},
    error::{ApiError, ApiResult, Code},
    service::{auth::PartnerCaller, events},
    state::{App, AppState},
};

fn no_endpoint() -> ApiError {
    ApiError::business(
        crate::error::codes::ACCOUNT_NOT_FOUND,
        "The webhook endpoint does not exist.",
    )
}

fn bad_url(why: impl std::fmt::Display) -> ApiError {
    ApiError::invalid("url", why)
}

/// Checks an endpoint URL: https (http only to loopback when private targets are allowed), no
/// credentials, and a host whose every address is public unless private targets are allowed.
pub async fn check_url(url: &str, allow_private: bool) -> ApiResult<reqwest::Url> {
    if url.len() > 2048 {
        return Err(bad_url("must be at most 2048 characters"));
    }
    let u = reqwest::Url::parse(url).map_err(|_| bad_url("is not an absolute URL"))?;
    let host = u
        .host_str()
        .ok_or_else(|| bad_url("has no host"))?
        .to_string();
    match u.scheme() {
        "https" => {}
        "http" if allow_private && net::is_loopback_host(&host) => {}
        "http" => {
            return Err(bad_url(
                "must use https (plain http only to loopback in development)",
            ))
        }
        _ => return Err(bad_url("must use https")),
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(bad_url("must not contain credentials"));
    }
    if !allow_private {
        let addrs = resolve(&host, u.port_or_known_default().unwrap_or(443))
            .await
            .map_err(bad_url)?;
        refuse_private(&addrs).map_err(bad_url)?;
    }
    Ok(u)
}

/// Every address of `host` (an IP literal is itself).
async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = h.parse() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let found = tokio::time::timeout(
        StdDuration::from_secs(5),
        tokio::net::lookup_host((h, port)),
    )
    .await
    .map_err(|_| format!("host {h} could not be resolved in time"))?
    .map_err(|_| format!("host {h} could not be resolved"))?;
    let addrs: Vec<SocketAddr> = found.collect();
    if addrs.is_empty() {
        return Err(format!("host {h} has no address"));
    }
    Ok(addrs)
}

fn refuse_private(addrs: &[SocketAddr]) -> Result<(), String> {
    match addrs.iter().find(|a| !net::is_public(a.ip())) {
        Some(a) => Err(format!(
            "refused: resolves to the non-public address {} (private, loopback or link-local)",
            a.ip()
        )),
        None => Ok(()),
    }
}

/// The HTTP client's resolver: a connection to a non-public address is refused (a name that
/// resolved to a public address at registration may point elsewhere later).
struct GuardedResolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        let allow_private = self.allow_private;
        Box::pin(async move {
            let addrs = resolve(&host, 0).await?;
            if !allow_private {
                refuse_private(&addrs)?;
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

fn validate_types(types: Option<Vec<String>>) -> ApiResult<Option<Vec<String>>> {
    let Some(mut types) = types else {
        return Ok(None);
    };
    if let Some(bad) = types.iter().find(|t| !rules::is_event_type(t)) {
        return Err(ApiError::invalid(
            "types",
            format!("unknown event type {bad}"),
        ));
    }
    types.sort();
    types.dedup();
    // An empty list means every type, as an absent one does.
    Ok((!types.is_empty()).then_some(types))
}

/// What a partner sets on an endpoint.
pub struct EndpointInput {
    pub url: String,
    pub description: String,
    pub types: Option<Vec<String>>,
    pub enabled: bool,
}

fn new_endpoint_id() -> String {
    format!("ep_{}", uuid::Uuid::new_v4().simple())
}

/// Endpoints per partner.
pub const MAX_ENDPOINTS: i64 = 20;

/// Registers an endpoint; returns it with its signing secret (shown only here and on rotation).
pub async fn create_endpoint(
    app: &App,
    caller: &PartnerCaller,
    input: EndpointInput,
) -> ApiResult<(EndpointRow, String)> {
    let url = check_url(&input.url, app.config.webhooks.allow_private_targets).await?;
    let types = validate_types(input.types)?;
    let secret = rules::new_secret();
    let (nonce, ct) = app.secrets.seal(&secret);
    let id = new_endpoint_id();
    let mut tx = app.db.begin().await?;
    let (count, _) = db::webhooks::list_endpoints(&mut tx, &caller.account_id, 0, 0).await?;
    if count >= MAX_ENDPOINTS {
        return Err(ApiError::new(
            Code::ParameterInvalid,
            format!("A partner may register at most {MAX_ENDPOINTS} webhook endpoints."),
        ));
    }
    db::webhooks::insert_endpoint(
        &mut tx,
        &db::webhooks::NewEndpoint {
            id: &id,
            partner_id: &caller.account_id,
            url: url.as_str(),
            description: &input.description,
            types: types.as_deref(),
            enabled: input.enabled,
            secret_nonce: &nonce,
            secret_ciphertext: &ct,
            at: app.now(),
        },
    )
    .await?;
    let row = db::webhooks::find_endpoint(&mut tx, &caller.account_id, &id)
        .await?
        .ok_or_else(no_endpoint)?;
    tx.commit().await?;
    Ok((row, secret))
}

pub async fn list_endpoints(
    app: &App,
    caller: &PartnerCaller,
    offset: i64,
    limit: i64,
) -> ApiResult<(i64, Vec<EndpointRow>)> {
    let mut conn = app.db.acquire().await?;
    Ok(db::webhooks::list_endpoints(&mut conn, &caller.account_id, offset, limit).await?)
}

pub async fn show_endpoint(app: &App, caller: &PartnerCaller, id: &str) -> ApiResult<EndpointRow> {
    let mut conn = app.db.acquire().await?;
    db::webhooks::find_endpoint(&mut conn, &caller.account_id, id)
        .await?
        .ok_or_else(no_endpoint)
}

/// Changes an endpoint: fields left `None` keep their value.
pub struct EndpointChange {
    pub url: Option<String>,
    pub description: Option<String>,
    /// `Some(None)`: every type again.
    pub types: Option<Option<Vec<String>>>,
    pub enabled: Option<bool>,
}

pub async fn update_endpoint(
    app: &App,
    caller: &PartnerCaller,
    id: &str,
    change: EndpointChange,
) -> ApiResult<EndpointRow> {
    let url = match &change.url {
        Some(u) => Some(check_url(u, app.config.webhooks.allow_private_targets).await?),
        None => None,
    };
    let types = match change.types {
        Some(t) => Some(validate_types(t)?),
        None => None,
    };
    let mut tx = app.db.begin().await?;
    let cur = db::webhooks::lock_endpoint(&mut tx, &caller.account_id, id)
        .await?
        .ok_or_else(no_endpoint)?;
    let types = types.unwrap_or(cur.types.clone());
    db::webhooks::update_endpoint(
        &mut tx,
        id,
        &EndpointUpdate {
            url: url.as_ref().map_or(cur.url.as_str(), |u| u.as_str()),
            description: change.description.as_deref().unwrap_or(&cur.description),
            types: types.as_deref(),
            enabled: change.enabled.unwrap_or(cur.enabled),
            at: app.now(),
        },
    )
    .await?;
    let row = db::webhooks::find_endpoint(&mut tx, &caller.account_id, id)
        .await?
        .ok_or_else(no_endpoint)?;
    tx.commit().await?;
    Ok(row)
}

pub async fn delete_endpoint(app: &App, caller: &PartnerCaller, id: &str) -> ApiResult<()> {
    let mut conn = app.db.acquire().await?;
    if !db::webhooks::delete_endpoint(&mut conn, &caller.account_id, id).await? {
        return Err(no_endpoint());
    }
    Ok(())
}

/// A new signing secret (the old one stops signing at once); returns it.
pub async fn rotate_secret(app: &App, caller: &PartnerCaller, id: &str) -> ApiResult<String> {
    let mut tx = app.db.begin().await?;
    db::webhooks::lock_endpoint(&mut tx, &caller.account_id, id)
        .await?
        .ok_or_else(no_endpoint)?;
    let secret = rules::new_secret();
    let (nonce, ct) = app.secrets.seal(&secret);
    db::webhooks::set_secret(&mut tx, id, &nonce, &ct, app.now()).await?;
    tx.commit().await?;
    Ok(secret)
}

pub async fn list_attempts(
    app: &App,
    caller: &PartnerCaller,
    id: &str,
    offset: i64,
    limit: i64,
) -> ApiResult<(i64, Vec<AttemptRow>)> {
    let mut conn = app.db.acquire().await?;
    db::webhooks::find_endpoint(&mut conn, &caller.account_id, id)
        .await?
        .ok_or_else(no_endpoint)?;
    Ok(db::webhooks::list_attempts(&mut conn, id, offset, limit).await?)
}

/// Sends an event of the partner's feed to the endpoint again (a new delivery, due now, whatever
/// the endpoint's type filter); returns the delivery id.
pub async fn redeliver(
    app: &App,
    caller: &PartnerCaller,
    endpoint_id: &str,
    event_id: &str,
) -> ApiResult<i64> {
    let mut tx = app.db.begin().await?;
    let ep = db::webhooks::lock_endpoint(&mut tx, &caller.account_id, endpoint_id)
        .await?
        .ok_or_else(no_endpoint)?;
    if !ep.enabled {
        return Err(ApiError::new(
            Code::ParameterInvalid,
            "The webhook endpoint is disabled; enable it first.",
        ));
    }
    let ev = db::events::find_received(&mut tx, &caller.account_id, event_id)
        .await?
        .filter(|e| e.occurred_at >= events::retention_cutoff(app))
        .ok_or_else(|| {
            ApiError::business(
                crate::error::codes::ACCOUNT_NOT_FOUND,
                "The event does not exist.",
            )
        })?;
    let id = db::webhooks::insert_delivery(&mut tx, endpoint_id, ev.seq, app.now()).await?;
    tx.commit().await?;
    Ok(id)
}

// ---- delivery ----

/// Extra time a claimed attempt is leased beyond its request timeout.
const LEASE_MARGIN_SECS: i64 = 60;

/// Starts the event retention sweeper and (unless `webhooks.max_concurrency` is 0) the delivery
/// worker; the server aborts them at shutdown.
pub fn spawn_background(state: AppState) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = vec![spawn_retention_sweeper(state.clone())];
    if state.config.webhooks.max_concurrency > 0 {
        tasks.push(tokio::spawn(work(state)));
    }
    tasks
}

fn client(app: &App) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(StdDuration::from_secs(
            app.config.webhooks.request_timeout_secs,
        ))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(concat!(
            "partner-center-webhooks/",
            env!("CARGO_PKG_VERSION")
        ))
        .dns_resolver(Arc::new(GuardedResolver {
            allow_private: app.config.webhooks.allow_private_targets,
        }))
        .build()
        .expect("the webhook HTTP client builds")
}

async fn work(state: AppState) {
    let client = client(&state);
    let max = state.config.webhooks.max_concurrency;
    let slots = Arc::new(tokio::sync::Semaphore::new(max));
    let pause = StdDuration::from_millis(state.config.webhooks.poll_interval_ms);
    loop {
        let free = slots.available_permits();
        let claimed = if free == 0 {
            Vec::new()
        } else {
            match claim(&state, free as i64).await {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = ?e.source, "claiming webhook deliveries failed");
                    Vec::new()
                }
            }
        };
        let full = !claimed.is_empty() && claimed.len() == free;
        for c in claimed {
            let Ok(permit) = slots.clone().acquire_owned().await else {
                return;
            };
            let (state, client) = (state.clone(), client.clone());
            tokio::spawn(async move {
                if let Err(e) = attempt(&state, &client, c).await {
                    tracing::warn!(error = ?e.source, "recording a webhook attempt failed");
                }
                drop(permit);
            });
        }
        if !full {
            tokio::time::sleep(pause).await;
        } else {
            // Every slot is busy: wait for one to free up.
            let _ = slots.acquire().await;
        }
    }
}

async fn claim(app: &App, limit: i64) -> ApiResult<Vec<ClaimedRow>> {
    let mut conn = app.db.acquire().await?;
    let now = app.now();
    let lease =
        Duration::seconds(app.config.webhooks.request_timeout_secs as i64 + LEASE_MARGIN_SECS);
    Ok(db::webhooks::claim_due(&mut conn, now, now + lease, limit).await?)
}

/// The JSON body of a delivery: the event as the feed shows it.
fn body_of(c: &ClaimedRow) -> ApiResult<Vec<u8>> {
    let ev = events::Event {
        event_id: c.event_id.clone(),
        event_type: c.event_type.clone(),
        partner_id: c.event_partner_id.clone(),
        customer_id: c.customer_id.clone(),
        occurred_at: format_ts(c.occurred_at),
        data: serde_json::from_str(&c.data).map_err(ApiError::internal)?,
    };
    serde_json::to_vec(&ev).map_err(ApiError::internal)
}

/// What one request got.
struct Sent {
    response_code: Option<i32>,
    error: Option<String>,
}

async fn send(app: &App, client: &reqwest::Client, c: &ClaimedRow, body: Vec<u8>) -> Sent {
    let allow_private = app.config.webhooks.allow_private_targets;
    // Re-checked at delivery: an IP literal never reaches the resolver.
    if let Err(e) = check_url(&c.url, allow_private).await {
        return Sent {
            response_code: None,
            error: Some(e.message.into_owned()),
        };
    }
    let secret = match app.secrets.open(&c.secret_nonce, &c.secret_ciphertext) {
        Ok(s) => s,
        Err(e) => {
            return Sent {
                response_code: None,
                error: Some(format!("the signing secret cannot be read: {e}")),
            }
        }
    };
    let ts = app.now().timestamp();
    let Some(signature) = rules::sign(&secret, &c.event_id, ts, &body) else {
        return Sent {
            response_code: None,
            error: Some("the signing secret is malformed".into()),
        };
    };
    let r = client
        .post(&c.url)
        .header("content-type", "application/json")
        .header("webhook-id", &c.event_id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await;
    match r {
        Ok(resp) => {
            let code = i32::from(resp.status().as_u16());
            Sent {
                response_code: Some(code),
                error: (!resp.status().is_success()).then(|| format!("HTTP {code}")),
            }
        }
        Err(e) => Sent {
            response_code: None,
            error: Some(error_chain(&e)),
        },
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        cur = inner.source();
    }
    s.chars().take(500).collect()
}

/// When the attempt after failed attempt `attempt` is due, or `None` after the last.
fn next_attempt(c: &ClaimedRow, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let delay = rules::retry_delay(c.attempt, rand::thread_rng().gen::<f64>())?;
    let last = c.created_at + Duration::hours(rules::RETRY_WINDOW_HOURS);
    Some((now + delay).min(last).max(now))
}

async fn attempt(app: &App, client: &reqwest::Client, c: ClaimedRow) -> ApiResult<()> {
    let body = body_of(&c)?;
    let started = std::time::Instant::now();
    let sent = send(app, client, &c, body).await;
    let duration_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    let now = app.now();
    let succeeded = sent.error.is_none();
    let next = if succeeded {
        None
    } else {
        next_attempt(&c, now)
    };
    let mut tx = app.db.begin().await?;
    let recorded = db::webhooks::record_attempt(
        &mut tx,
        &AttemptOutcome {
            delivery_id: c.delivery_id,
            endpoint_id: &c.endpoint_id,
            event_id: &c.event_id,
            attempt: c.attempt,
            succeeded,
            response_code: sent.response_code,
            error: sent.error.as_deref(),
            duration_ms,
            at: now,
            next_attempt_at: next,
        },
    )
    .await?;
    if !recorded {
        tracing::warn!(
            delivery_id = c.delivery_id,
            "webhook attempt outlived its lease"
        );
        return Ok(());
    }
    if succeeded {
        db::webhooks::clear_failing(&mut tx, &c.endpoint_id).await?;
    } else {
        disable_if_failing_too_long(&mut tx, &c, now).await?;
    }
    tx.commit().await?;
    let outcome = match (succeeded, next) {
        (true, _) => "succeeded",
        (false, Some(_)) => "failed_will_retry",
        (false, None) => "failed",
    };
    app.metrics.record_webhook(outcome);
    tracing::info!(
        delivery_id = c.delivery_id,
        endpoint_id = %c.endpoint_id,
        attempt = c.attempt,
        outcome,
        code = ?sent.response_code,
        "webhook attempt"
    );
    Ok(())
}

/// An endpoint without a success for [`rules::DISABLE_AFTER_DAYS`] is disabled, with an event.
async fn disable_if_failing_too_long(
    conn: &mut PgConnection,
    c: &ClaimedRow,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let Some((since, enabled)) = db::webhooks::mark_failing(conn, &c.endpoint_id, now).await?
    else {
        return Ok(());
    };
    if !enabled || now - since < Duration::days(rules::DISABLE_AFTER_DAYS) {
        return Ok(());
    }
    let reason = format!(
        "every delivery failed for {} days (since {})",
        rules::DISABLE_AFTER_DAYS,
        format_ts(since)
    );
    db::webhooks::disable_endpoint(conn, &c.endpoint_id, &reason, now).await?;
    events::emit(
        conn,
        &c.partner_id,
        None,
        "webhook_endpoint.disabled",
        serde_json::json!({
            "endpoint_id": c.endpoint_id,
            "url": c.url,
            "failing_since": format_ts(since),
            "disabled_reason": reason,
        }),
        now,
    )
    .await
}

/// Prometheus lines: the age of the oldest undelivered delivery (by the app clock).
pub async fn metrics_text(app: &App) -> String {
    let oldest = match app.db.acquire().await {
        Ok(mut conn) => db::webhooks::oldest_pending(&mut conn).await.ok().flatten(),
        Err(_) => None,
    };
    let age = oldest.map_or(0.0, |t| {
        ((app.now() - t).num_milliseconds().max(0) as f64) / 1000.0
    });
    format!(
        "# HELP webhook_oldest_undelivered_seconds Age of the oldest pending webhook delivery (0: none).\n\
         # TYPE webhook_oldest_undelivered_seconds gauge\n\
         webhook_oldest_undelivered_seconds {age}\n"
    )
}

/// Deletes events past retention every ten minutes while the server runs.
fn spawn_retention_sweeper(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(StdDuration::from_secs(600));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            match events::sweep_expired(&state).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "events past retention swept"),
                Err(e) => tracing::warn!(error = ?e.source, "event retention sweep failed"),
            }
        }
    })
}
