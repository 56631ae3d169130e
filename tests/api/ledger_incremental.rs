//! The incremental ledger audit: a run reads only what was written since the last clean run and
//! still catches an imbalance planted there.

use serde_json::json;

use crate::helpers::TestApp;

const FUND: &str = "/v2/accounts/partner-accounts/adjust-amount";

#[tokio::test]
async fn a_second_incremental_audit_reads_only_new_journals_and_catches_a_planted_imbalance() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await.id;
    app.deposit(&p, "10.00").await;
    let fund = |amount: &'static str| {
        let (app, p, c) = (&app, &p, &c);
        async move {
            app.signed(p)
                .post(
                    FUND,
                    &json!({"customer_id": c, "amount": amount.parse::<f64>().unwrap()}),
                )
                .await
                .ok();
        }
    };
    fund("1.00").await;
    let all: i64 = sqlx::query_scalar("select count(*) from posting")
        .fetch_one(&app.pool)
        .await
        .unwrap();

    // The first run has no checkpoint: it reads everything.
    let first = partner_center::ledger::audit_incremental(&app.pool)
        .await
        .unwrap();
    assert!(first.report.ok, "{:?}", first.report.violations);
    assert_eq!(first.from_posting_id, 0);
    assert_eq!(first.postings_read, all);
    assert_eq!(first.report.postings, all);

    // One more funding (one journal, two postings: partner cash and customer cash).
    fund("2.00").await;
    let second = partner_center::ledger::audit_incremental(&app.pool)
        .await
        .unwrap();
    assert!(second.report.ok, "{:?}", second.report.violations);
    assert_eq!(second.from_posting_id, first.checkpoint_posting_id);
    assert_eq!((second.postings_read, second.journals_read), (2, 1));
    assert_eq!(second.report.postings, all + 2);

    // A balanced journal written around the ledger: its postings move no balance.
    let ids: Vec<i64> = sqlx::query_scalar(
        "select id from ledger_account where owner_id in ($1, $2)
            and purpose in ('partner_cash', 'customer_cash') order by id",
    )
    .bind(&p.id)
    .bind(&c)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query(
        "with j as (insert into journal (trans_id, kind, created_at)
                    values ('planted', 'adjustment', now()) returning id)
         insert into posting (journal_id, account_id, asset, amount, balance_after, created_at)
         select j.id, a, 'CNY', amt, 0, now() from j,
                unnest($1::bigint[], array[-5, 5]::bigint[]) as t(a, amt)",
    )
    .bind(&ids)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let third = partner_center::ledger::audit_incremental(&app.pool)
        .await
        .unwrap();
    assert!(!third.report.ok);
    assert_eq!((third.postings_read, third.journals_read), (2, 1));
    assert!(
        third
            .report
            .violations
            .iter()
            .any(|v| v.contains(&format!("account {}", ids[0]))),
        "{:?}",
        third.report.violations
    );
    // A failed run leaves the checkpoint where it was: the next run reads the bad posting again.
    assert_eq!(third.checkpoint_posting_id, third.from_posting_id);
    let fourth = partner_center::ledger::audit_incremental(&app.pool)
        .await
        .unwrap();
    assert!(!fourth.report.ok);
    assert_eq!(fourth.from_posting_id, second.checkpoint_posting_id);
    // The full audit agrees.
    let full = partner_center::ledger::audit_snapshot(&app.pool)
        .await
        .unwrap();
    assert!(!full.ok);
}
