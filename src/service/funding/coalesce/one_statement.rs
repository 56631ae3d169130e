//! The usual path of a coalesced batch: one read without locks, the rules and the plan in the
//! server, then every write in one statement (`funding_apply`) that re-checks what was read.

use super::*;

/// The usual path, in **two round trips** and no explicit transaction: one read without locks
/// ([`db::funding::move_snapshot`]: customers, accounts, stored outcomes), the rules and the
/// plan here, then every write in one statement that re-checks what was read under its locks
/// ([`ledger::apply_planned`]). `None` when it does not apply (an operator with a manager scope,
/// a distributor acting for a reseller, an account not opened yet) or what was read changed (or
/// a key is in use elsewhere): nothing was written, and the batch takes the locking path.
pub(super) async fn at_once(
    app: &AppState,
    reqs: &[(&Request, Option<&IdemRequest>)],
) -> Result<Option<Vec<ApiResult<Outcome>>>, Failed> {
    if !reqs.iter().all(|(r, _)| is_plain(r)) {
        return Ok(None);
    }
    let mut done: Vec<Option<ApiResult<Outcome>>> = (0..reqs.len()).map(|_| None).collect();
    let keyed = distinct_keys(reqs, &mut done);
    let pairs: Vec<(&str, &str)> = keyed
        .iter()
        .map(|(_, k)| (k.caller_id.as_str(), k.key.as_str()))
        .collect();
    let mut customer_ids: Vec<&str> = Vec::new();
    let mut wanted: Vec<(&str, &str)> = Vec::new();
    for (i, (req, _)) in reqs.iter().enumerate() {
        if done[i].is_some() {
            continue;
        }
        let (partner, customers): (&str, Vec<&str>) = match req {
            Request::Move(op) => (&op.caller.account_id, vec![op.customer_id.as_str()]),
            Request::Batch(op) => (
                &op.caller.account_id,
                op.items.iter().map(|(c, _)| c.as_str()).collect(),
            ),
        };
        for r in [Purpose::PartnerCash, Purpose::PartnerCredit] {
            wanted.push((partner, r.as_str()));
        }
        for c in customers {
            customer_ids.push(c);
            for r in [Purpose::CustomerCash, Purpose::CustomerDebt] {
                wanted.push((c, r.as_str()));
            }
        }
    }
    let cutoff = idempotency::retention_cutoff(app);
    let mut conn = app.db.acquire().await?;
    let snap =
        db::funding::move_snapshot(&mut conn, &customer_ids, &wanted, &pairs, cutoff).await?;
    for s in snap.stored {
        let outcome = db::idempotency::StoredOutcome {
            request_hash: s.request_hash,
            status: s.status,
            body: s.body,
        };
        replay_into(reqs, &keyed, s.n - 1, outcome, &mut done);
    }
    let settled: Vec<bool> = done.iter().map(Option::is_some).collect();
    let running: Vec<(&str, &str)> = keyed
        .iter()
        .zip(&pairs)
        .filter(|((i, _), _)| !settled[*i])
        .map(|(_, p)| *p)
        .collect();
    // 1. Rules, against the customers read.
    let customer = |id: &str| {
        snap.customers
            .iter()
            .find(|c| c.id == id)
            .map(|c| MovedCustomer {
                partner_id: c.partner_id.as_deref(),
                association_type: c.association_type.as_deref(),
                is_frozen: c.is_frozen,
            })
    };
    let mut items = Vec::new();
    for (i, (req, _)) in reqs.iter().enumerate() {
        if done[i].is_some() {
            continue;
        }
        let moves: Vec<(Kind, &PartnerCaller, &str, Amount)> = match req {
            Request::Move(op) => vec![(op.kind, &op.caller, &op.customer_id, op.amount)],
            Request::Batch(op) => op
                .items
                .iter()
                .map(|(c, a)| (Kind::Fund, &op.caller, c.as_str(), *a))
                .collect(),
        };
        for (kind, caller, customer_id, amount) in moves {
            let direction = match kind {
                Kind::Fund => Direction::ToCustomer,
                Kind::Reclaim => Direction::FromCustomer,
            };
            let partner = customer_rules(
                customer(customer_id).as_ref(),
                &caller.account_id,
                direction,
            )
            .map(|()| caller.account_id.clone());
            items.push(Item {
                req: i,
                kind,
                caller,
                customer_id,
                amount,
                partner,
                posted: None,
            });
        }
    }
    // 2. The accounts as read; one not opened yet is opened on the locking path.
    let mut locked = Vec::new();
    for r in account_refs(&items) {
        let Some(a) = snap
            .accounts
            .iter()
            .find(|a| a.owner_id == r.owner_id && a.purpose == r.purpose.as_str())
        else {
            return Ok(None);
        };
        locked.push(a.clone());
    }
    let start = locked.clone();
    // 3. The plan; 4. every write in one statement.
    let (planned, posted) = plan(app, &mut items, &mut locked)?;
    let rows = adjust_rows(&items, &posted);
    let adjust = to_json(&rows)?;
    let events = to_json(&crate::service::events::funding_events(&rows))?;
    drop(rows);
    let customers = to_json(&snap.customers)?;
    let (outcomes, kept) = settle(reqs, done, &settled, items)?;
    let alongside = ledger::Alongside {
        keys: &running,
        forget_before: cutoff,
        customers,
        adjust,
        events,
        outcomes: to_json(&new_outcomes(app, &kept))?,
    };
    match ledger::apply_planned(&mut conn, &planned, &start, alongside).await {
        // Committed before the requests are answered (this task is not theirs): behind a
        // transaction pooler the statement ran in the checkout's transaction.
        Ok(true) => match conn.settle().await {
            Ok(()) => Ok(Some(outcomes)),
            Err(e) => Err(Failed::Commit(e.into())),
        },
        Ok(false) => Ok(None),
        // The server refused the statement: it rolled back, nothing was written.
        Err(ledger::LedgerError::Db(sqlx::Error::Database(e))) => {
            tracing::debug!(error = %e, "funding batch: the one statement was refused");
            Ok(None)
        }
        Err(ledger::LedgerError::Db(e)) => Err(Failed::Commit(e.into())),
        Err(e) => {
            tracing::debug!(error = %e, "funding batch: the one statement was refused");
            Ok(None)
        }
    }
}
