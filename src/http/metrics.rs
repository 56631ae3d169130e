//! Prometheus text metrics: requests by route and status, a latency histogram, pool statistics.

use std::{collections::BTreeMap, fmt::Write, sync::Mutex, time::Instant};

use axum::{
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::state::AppState;

const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<(String, String), Histogram>>,
    /// Webhook delivery attempts by outcome.
    webhooks: Mutex<BTreeMap<&'static str, u64>>,
    /// Coalesced funding batches by the path they were written on.
    funding_batches: Mutex<BTreeMap<&'static str, u64>>,
    /// Coalesced reads by kind: (queries run, reads they answered).
    coalesced_reads: Mutex<BTreeMap<&'static str, (u64, u64)>>,
}

impl Metrics {
    pub fn record(&self, method: &str, route: &str, status: u16, seconds: f64) {
        *self
            .requests
            .lock()
            .expect("metrics lock")
            .entry((method.to_string(), route.to_string(), status))
            .or_default() += 1;
        let mut lat = self.latency.lock().expect("metrics lock");
        let h = lat
            .entry((method.to_string(), route.to_string()))
            .or_default();
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                h.counts[i] += 1;
            }
        }
        h.sum += seconds;
        h.count += 1;
    }

    /// One webhook attempt: `succeeded`, `failed_will_retry` or `failed` (the last attempt).
    pub fn record_webhook(&self, outcome: &'static str) {
        *self
            .webhooks
            .lock()
            .expect("metrics lock")
            .entry(outcome)
            .or_default() += 1;
    }

    /// One coalesced funding batch written: `one_statement` (`ledger::apply_planned`) or
    /// `locking` (its own transaction under row locks).
    pub fn record_funding_batch(&self, path: &'static str) {
        *self
            .funding_batches
            .lock()
            .expect("metrics lock")
            .entry(path)
            .or_default() += 1;
    }

    /// One query of a coalesced read kind, answering `reads` reads.
    pub fn record_coalesced_read(&self, kind: &'static str, reads: usize) {
        let mut m = self.coalesced_reads.lock().expect("metrics lock");
        let e = m.entry(kind).or_default();
        e.0 += 1;
        e.1 += reads as u64;
    }

    pub fn render(&self, pool_size: u32, pool_idle: usize, pool_max: u32) -> String {
        let mut out = String::new();
        out.push_str("# HELP http_requests_total HTTP requests by method, route and status.\n");
        out.push_str("# TYPE http_requests_total counter\n");
        for ((m, r, s), n) in self.requests.lock().expect("metrics lock").iter() {
            let _ = writeln!(
                out,
                "http_requests_total{{method=\"{m}\",route=\"{r}\",status=\"{s}\"}} {n}"
            );
        }
        out.push_str("# HELP http_request_duration_seconds Request latency by method and route.\n");
        out.push_str("# TYPE http_request_duration_seconds histogram\n");
        for ((m, r), h) in self.latency.lock().expect("metrics lock").iter() {
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_bucket{{method=\"{m}\",route=\"{r}\",le=\"{b}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(out, "http_request_duration_seconds_bucket{{method=\"{m}\",route=\"{r}\",le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(
                out,
                "http_request_duration_seconds_sum{{method=\"{m}\",route=\"{r}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "http_request_duration_seconds_count{{method=\"{m}\",route=\"{r}\"}} {}",
                h.count
            );
        }
        out.push_str("# HELP db_pool_connections Database pool connections by state.\n");
        out.push_str("# TYPE db_pool_connections gauge\n");
        let _ = writeln!(out, "db_pool_connections{{state=\"open\"}} {pool_size}");
        let _ = writeln!(out, "db_pool_connections{{state=\"idle\"}} {pool_idle}");
        let _ = writeln!(out, "db_pool_connections{{state=\"max\"}} {pool_max}");
        out.push_str("# HELP webhook_attempts_total Webhook delivery attempts by outcome.\n");
        out.push_str("# TYPE webhook_attempts_total counter\n");
        for (o, n) in self.webhooks.lock().expect("metrics lock").iter() {
            let _ = writeln!(out, "webhook_attempts_total{{outcome=\"{o}\"}} {n}");
        }
        out.push_str("# HELP funding_batches_total Coalesced funding batches by write path.\n");
        out.push_str("# TYPE funding_batches_total counter\n");
        for (p, n) in self.funding_batches.lock().expect("metrics lock").iter() {
            let _ = writeln!(out, "funding_batches_total{{path=\"{p}\"}} {n}");
        }
        let reads = self.coalesced_reads.lock().expect("metrics lock");
        out.push_str(
            "# HELP coalesced_read_queries_total Queries run for coalesced reads, by kind.\n",
        );
        out.push_str("# TYPE coalesced_read_queries_total counter\n");
        for (k, (q, _)) in reads.iter() {
            let _ = writeln!(out, "coalesced_read_queries_total{{kind=\"{k}\"}} {q}");
        }
        out.push_str("# HELP coalesced_reads_total Reads answered by those queries, by kind.\n");
        out.push_str("# TYPE coalesced_reads_total counter\n");
        for (k, (_, n)) in reads.iter() {
            let _ = writeln!(out, "coalesced_reads_total{{kind=\"{k}\"}} {n}");
        }
        out
    }
}

/// The route template of a request (low cardinality), or `unmatched`.
pub fn route_of(req: &Request) -> String {
    req.extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string())
}

/// The method label: one of the standard methods, else `other` (labels stay a fixed set however
/// many made-up methods clients send).
pub fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    const KNOWN: [(Method, &str); 9] = [
        (Method::GET, "GET"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::PATCH, "PATCH"),
        (Method::DELETE, "DELETE"),
        (Method::HEAD, "HEAD"),
        (Method::OPTIONS, "OPTIONS"),
        (Method::CONNECT, "CONNECT"),
        (Method::TRACE, "TRACE"),
    ];
    KNOWN
        .iter()
        .find(|(m, _)| m == method)
        .map_or("other", |(_, label)| label)
}

pub async fn track(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let method = method_label(req.method());
    let route = route_of(&req);
    let start = Instant::now();
    let resp = next.run(req).await;
    app.metrics.record(
        method,
        &route,
        resp.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    resp
}

pub async fn render(State(app): State<AppState>) -> impl IntoResponse {
    let mut body = app.metrics.render(
        app.db.size(),
        app.db.num_idle(),
        app.config.database.max_connections,
    );
    body.push_str(&crate::service::webhooks::metrics_text(&app).await);
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        body,
    )
}
