//! Moving a sandbox clock (`sandbox.clock = true`): forward only, in steps of at most a day,
//! with every time-driven rule ([`time_rules::run_all`]) run after each step, so rules see the
//! time pass in order (each rule also catches up everything due up to its "now").

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::{
    error::{codes, ApiError, ApiResult},
    service::time_rules,
    state::{App, SandboxClock},
};

/// The longest step between two passes of the rules.
pub const STEP_MS: i64 = 86_400_000;

/// The longest single move: ten years.
pub const MAX_ADVANCE_SECS: i64 = 10 * 366 * 86_400;

/// Where to move the clock.
pub enum Target {
    By { seconds: i64 },
    At(DateTime<Utc>),
}

pub struct Moved {
    pub now: DateTime<Utc>,
    pub offset_seconds: i64,
    /// Passes of the rules run.
    pub steps: u64,
    /// What the passes did, summed by rule.
    pub rules: BTreeMap<String, u64>,
}

fn backwards() -> ApiError {
    ApiError::business(
        codes::CLOCK_BACKWARDS,
        "The sandbox clock only moves forward.",
    )
}

/// Adds a pass's counts to the totals (every numeric field of [`time_rules::Pass`]).
fn add_pass(totals: &mut BTreeMap<String, u64>, pass: &time_rules::Pass) -> ApiResult<()> {
    let v = serde_json::to_value(pass).map_err(ApiError::internal)?;
    for (k, n) in v.as_object().into_iter().flatten() {
        *totals.entry(k.clone()).or_default() += n.as_u64().unwrap_or(0);
    }
    Ok(())
}

/// Moves the clock forward and runs the rules for the time passed before returning.
/// Concurrent moves run one after the other.
pub async fn advance(app: &App, clock: &SandboxClock, target: Target) -> ApiResult<Moved> {
    let _moving = clock.moving.lock().await;
    let total_ms = match target {
        Target::By { seconds } if seconds < 0 => return Err(backwards()),
        Target::By { seconds } => seconds * 1000,
        Target::At(t) => {
            let ms = (t - clock_now(clock)).num_milliseconds();
            if ms < 0 {
                return Err(backwards());
            }
            if ms > MAX_ADVANCE_SECS * 1000 {
                return Err(ApiError::invalid(
                    "now",
                    format!("must be at most {MAX_ADVANCE_SECS} seconds ahead"),
                ));
            }
            ms
        }
    };
    let mut left = total_ms;
    let mut steps = 0;
    let mut rules = BTreeMap::new();
    loop {
        let step = left.min(STEP_MS);
        clock.advance_ms(step);
        left -= step;
        add_pass(&mut rules, &time_rules::run_all(app).await?)?;
        steps += 1;
        if left == 0 {
            break;
        }
    }
    Ok(Moved {
        now: clock_now(clock),
        offset_seconds: clock.offset_seconds(),
        steps,
        rules,
    })
}

fn clock_now(clock: &SandboxClock) -> DateTime<Utc> {
    crate::state::Clock::now(clock)
}
