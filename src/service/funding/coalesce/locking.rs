//! The locking path of a coalesced batch: one transaction with every key's advisory lock, the
//! rules, one lock of all accounts (ascending id), the planned journals in one statement, the
//! records and outcomes, one commit (steps 0–4 of the module's description).

use sqlx::PgConnection;

use super::*;

/// Runs the batch in one transaction, rolled back explicitly when it fails before the commit (so
/// the keys' locks are released before the requests are re-run alone).
pub(super) async fn transact(
    app: &AppState,
    reqs: &[(&Request, Option<&IdemRequest>)],
) -> Result<Vec<ApiResult<Outcome>>, Failed> {
    let mut tx = app.db.begin().await?;
    match in_tx(app, &mut tx, reqs).await {
        Ok(outcomes) => {
            tx.commit().await.map_err(|e| Failed::Commit(e.into()))?;
            Ok(outcomes)
        }
        Err(e) => {
            let _ = tx.rollback().await;
            Err(e)
        }
    }
}

/// Step 0: the answers of keyed requests that do not run (409, 422, replays).
async fn keyed_answers(
    app: &AppState,
    conn: &mut PgConnection,
    reqs: &[(&Request, Option<&IdemRequest>)],
    done: &mut [Option<ApiResult<Outcome>>],
) -> Result<(), Failed> {
    let keyed = distinct_keys(reqs, done);
    if keyed.is_empty() {
        return Ok(());
    }
    let pairs: Vec<(&str, &str)> = keyed
        .iter()
        .map(|(_, k)| (k.caller_id.as_str(), k.key.as_str()))
        .collect();
    let locked = db::idempotency::try_lock_many(conn, &pairs).await?;
    let cutoff = idempotency::retention_cutoff(app);
    let stored = db::idempotency::forget_and_find_many(conn, &pairs, cutoff).await?;
    for (n, taken) in locked.into_iter().enumerate() {
        if !taken {
            done[keyed[n].0] = Some(Err(idempotency::in_progress()));
        }
    }
    for (n, outcome) in stored {
        replay_into(reqs, &keyed, n, outcome, done);
    }
    Ok(())
}

/// Step 1: the items of the requests that run, each with its rules' verdict.
async fn items<'a>(
    conn: &mut PgConnection,
    reqs: &[(&'a Request, Option<&IdemRequest>)],
    done: &mut [Option<ApiResult<Outcome>>],
) -> Result<Vec<Item<'a>>, Failed> {
    let mut items = Vec::new();
    for (i, (req, _)) in reqs.iter().enumerate() {
        if done[i].is_some() {
            continue;
        }
        match req {
            Request::Move(op) => {
                let partner = rejection(reclaim_or_fund_rules(conn, op).await)?;
                items.push(Item {
                    req: i,
                    kind: op.kind,
                    caller: &op.caller,
                    customer_id: &op.customer_id,
                    amount: op.amount,
                    partner,
                    posted: None,
                });
            }
            Request::Batch(op) => {
                let acting =
                    partners::resolve_acting(conn, &op.caller, op.indirect_partner_id.as_deref())
                        .await;
                let acting = match rejection(acting)? {
                    Ok(a) => a,
                    Err(e) => {
                        done[i] = Some(Err(e));
                        continue;
                    }
                };
                for (customer_id, amount) in &op.items {
                    let rules = resale_customer_of(
                        conn,
                        &op.caller,
                        &acting.partner_id,
                        customer_id,
                        Direction::ToCustomer,
                    )
                    .await;
                    let partner = rejection(rules)?.map(|()| acting.partner_id.clone());
                    items.push(Item {
                        req: i,
                        kind: Kind::Fund,
                        caller: &op.caller,
                        customer_id,
                        amount: *amount,
                        partner,
                        posted: None,
                    });
                }
            }
        }
    }
    Ok(items)
}

async fn in_tx(
    app: &AppState,
    tx: &mut PgConnection,
    reqs: &[(&Request, Option<&IdemRequest>)],
) -> Result<Vec<ApiResult<Outcome>>, Failed> {
    let mut done: Vec<Option<ApiResult<Outcome>>> = (0..reqs.len()).map(|_| None).collect();
    keyed_answers(app, tx, reqs, &mut done).await?;
    // The keyed requests answered without running (replays, 409, 422) store nothing.
    let settled: Vec<bool> = done.iter().map(Option::is_some).collect();
    // 1. Rules.
    let mut items = items(tx, reqs, &mut done).await?;
    // 2. Every account of the accepted items, locked once, in the one lock order.
    let refs = account_refs(&items);
    let mut locked = if refs.is_empty() {
        Vec::new()
    } else {
        ledger::lock_accounts(tx, &refs).await?
    };
    // 3. One journal per item, planned against the locked balances, all written in one statement.
    let (planned, posted) = plan(app, &mut items, &mut locked)?;
    ledger::write_planned(tx, &planned, &locked).await?;
    // 4. The adjust records in one statement.
    let rows = adjust_rows(&items, &posted);
    db::funding::insert_adjust_records(tx, &rows).await?;
    crate::service::events::funding_recorded(tx, &rows).await?;
    // Every request's answer; the outcomes of the keyed ones that ran, in one statement.
    let (outcomes, kept) = settle(reqs, done, &settled, items)?;
    db::idempotency::insert_many(tx, &new_outcomes(app, &kept)).await?;
    Ok(outcomes)
}
