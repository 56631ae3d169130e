//! The ledger itself: the database refuses to rewrite history or accept an unbalanced journal,
//! nothing outside `src/ledger/` writes ledger tables, and a property test against an in-memory
//! model.

use std::path::Path;

use partner_center::{
    domain::Amount,
    ledger::{self, AccountRef, Entry, JournalKind, LedgerError, Purpose},
};
use proptest::prelude::*;
use sqlx::{Connection, PgPool};

use crate::helpers::{Creds, TestApp};

async fn expect_refused(pool: &PgPool, sql: &str) -> String {
    let err = sqlx::query(sql)
        .execute(pool)
        .await
        .expect_err(&format!("the database must refuse: {sql}"));
    err.to_string()
}

#[tokio::test]
async fn the_database_refuses_to_update_or_delete_postings_journals_and_adjust_records() {
    let app = TestApp::spawn().await;
    deposit_10_and_fund_4(&app).await;
    for sql in [
        "update posting set amount = amount + 1",
        "delete from posting",
        "truncate posting cascade",
        "update journal set kind = 'adjustment'",
        "delete from journal",
        "truncate journal cascade",
        "update adjust_record set amount = amount + 1",
        "delete from adjust_record",
        "truncate adjust_record cascade",
    ] {
        let e = expect_refused(&app.pool, sql).await;
        assert!(e.contains("append-only"), "{sql}: {e}");
    }
    let n: i64 = sqlx::query_scalar("select count(*) from posting")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 4);
    // A balance below its floor is refused by the CHECK.
    let e = expect_refused(
        &app.pool,
        "update ledger_account set balance = -1 where purpose = 'partner_cash'",
    )
    .await;
    assert!(e.contains("ledger_account_floor_check"), "{e}");
    app.assert_audit_ok().await;
}

/// Migration 0028: an adjust record's partner, operator and counterparty are checked per
/// inserting statement (no foreign keys); a named partner or account cannot be deleted or
/// re-keyed.
#[tokio::test]
async fn adjust_records_must_name_existing_partners_and_accounts_which_then_stay() {
    let app = TestApp::spawn().await;
    let (p, c) = deposit_10_and_fund_4(&app).await;
    let copy = |column: &str, value: &str| {
        let cols = ["partner_id", "operator_id", "counterparty_id"]
            .map(|c| {
                if c == column {
                    format!("'{value}'")
                } else {
                    c.to_string()
                }
            })
            .join(", ");
        format!(
            "insert into adjust_record (trans_id, partner_id, operator_id, counterparty_id,
                                        counterparty_kind, operation_type, amount, created_at)
             select 'copy-' || trans_id, {cols}, counterparty_kind, operation_type, amount, created_at
               from adjust_record"
        )
    };
    let nobody = "0123456789abcdef0123456789abcdef";
    for (column, constraint) in [
        ("partner_id", "adjust_record_partner_id_fkey"),
        ("operator_id", "adjust_record_operator_id_fkey"),
        ("counterparty_id", "adjust_record_counterparty_id_fkey"),
    ] {
        let e = expect_refused(&app.pool, &copy(column, nobody)).await;
        assert!(e.contains(constraint), "{column}: {e}");
        // A customer's account is an account but not a partner.
        if column == "partner_id" {
            let e = expect_refused(&app.pool, &copy(column, &c.id)).await;
            assert!(e.contains(constraint), "{column}: {e}");
        }
    }
    // Every reference existing, the copy is accepted by the check (and then by the deferred
    // journal key only if its journal exists: rolled back here).
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query(&copy("operator_id", &c.id))
        .execute(&mut *tx)
        .await
        .expect("a record naming existing accounts passes the statement's check");
    let e = tx
        .commit()
        .await
        .expect_err("no journal copy-…")
        .to_string();
    assert!(e.contains("adjust_record_trans_id_fkey"), "{e}");

    for (sql, constraint) in [
        (
            format!("delete from partner where account_id = '{}'", p.id),
            "adjust_record_partner_id_fkey",
        ),
        (
            format!(
                "update partner set account_id = '{nobody}' where account_id = '{}'",
                p.id
            ),
            "adjust_record_partner_id_fkey",
        ),
        (
            format!("delete from account where id = '{}'", c.id),
            "adjust_record_counterparty_id_fkey",
        ),
        (
            format!("update account set id = '{nobody}' where id = '{}'", c.id),
            "adjust_record_counterparty_id_fkey",
        ),
    ] {
        let e = expect_refused(&app.pool, &sql).await;
        assert!(e.contains(constraint), "{sql}: {e}");
    }
    let n: i64 = sqlx::query_scalar("select count(*) from adjust_record")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn the_database_refuses_unbalanced_journals_and_journals_with_one_posting_at_commit() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    app.deposit(&p, "10").await;
    let ids: Vec<i64> = sqlx::query_scalar("select id from ledger_account order by id limit 2")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    let cases: [(&str, &[i64]); 3] = [
        ("one posting", &[5]),
        ("not summing to zero", &[5, -4]),
        ("no postings", &[]),
    ];
    for (i, (what, amounts)) in cases.into_iter().enumerate() {
        let mut conn = app.pool.acquire().await.unwrap();
        let mut tx = conn.begin().await.unwrap();
        let jid: i64 = sqlx::query_scalar(
            "insert into journal (trans_id, kind, created_at) values ($1, 'adjustment', now()) returning id",
        )
        .bind(format!("bad-{i}"))
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        for (k, a) in amounts.iter().enumerate() {
            sqlx::query(
                "insert into posting (journal_id, account_id, asset, amount, balance_after, created_at)
                 values ($1, $2, 'CNY', $3, 0, now())",
            )
            .bind(jid)
            .bind(ids[k])
            .bind(a)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        let e = tx.commit().await.expect_err(what).to_string();
        assert!(e.contains("journal"), "{what}: {e}");
    }
    // A posting added later to an existing, balanced journal is refused as well.
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query(
        "insert into posting (journal_id, account_id, asset, amount, balance_after, created_at)
         select min(id), $1, 'CNY', 1, 0, now() from journal",
    )
    .bind(ids[1])
    .execute(&mut *tx)
    .await
    .unwrap();
    let e = tx.commit().await.expect_err("a late posting").to_string();
    assert!(e.contains("does not sum to zero"), "{e}");
    app.assert_audit_ok().await;
}

fn cli_audit(app: &TestApp) -> (bool, serde_json::Value) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_partner-center"))
        .args(["ledger", "audit"])
        .env("DATABASE_URL", app.db_url())
        .output()
        .expect("run partner-center ledger audit");
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        serde_json::json!({
            "unparsed_stdout": String::from_utf8_lossy(&out.stdout),
            "stderr": String::from_utf8_lossy(&out.stderr),
        })
    });
    (out.status.success(), report)
}

/// A partner with 10.00 deposited and 4.00 funded to its customer; the audit is clean.
async fn deposit_10_and_fund_4(app: &TestApp) -> (Creds, Creds) {
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, serde_json::json!({})).await;
    app.deposit(&p, "10").await;
    app.signed(&p)
        .post(
            "/v2/accounts/partner-accounts/adjust-amount",
            &serde_json::json!({"customer_id": c.id, "amount": 4}),
        )
        .await
        .ok();
    app.assert_audit_ok().await;
    (p, c)
}

#[tokio::test]
async fn the_audit_endpoint_and_cli_report_a_tampered_balance() {
    let app = TestApp::spawn().await;
    let (_, c) = deposit_10_and_fund_4(&app).await;
    let (ok, report) = cli_audit(&app);
    assert!(ok, "{report}");
    assert_eq!(report["ok"], true);
    assert_eq!(report["journals"], 2);

    // Money appearing without a journal: the balance no longer equals its postings and CNY is no
    // longer conserved.
    sqlx::query("update ledger_account set balance = balance + 1 where owner_id = $1 and purpose = 'customer_cash'")
        .bind(&c.id)
        .execute(&app.pool)
        .await
        .unwrap();
    let r = app
        .admin(reqwest::Method::GET, "/admin/v1/ledger/audit", None)
        .await;
    assert_eq!(r.body["ok"], false, "{}", r.text);
    let violations = r.body["violations"].to_string();
    assert!(violations.contains("postings sum to 400"), "{violations}");
    assert!(
        violations.contains("asset CNY is not conserved"),
        "{violations}"
    );
    let (ok, report) = cli_audit(&app);
    assert!(!ok, "the CLI exits non-zero: {report}");
    assert_eq!(report["ok"], false);
}

#[tokio::test]
async fn the_audit_checks_every_postings_running_balance() {
    let app = TestApp::spawn().await;
    let (p, _) = deposit_10_and_fund_4(&app).await;
    // Rewrite the balance_after of the partner's first posting (the deposit; not its last one,
    // so balances, sums and the last balance_after all still agree). Postings are append-only:
    // only a superuser session that skips triggers can do this.
    let mut conn = app.pool.acquire().await.unwrap();
    sqlx::query("set session_replication_role = replica")
        .execute(&mut *conn)
        .await
        .unwrap();
    let tampered: i64 = sqlx::query_scalar(
        "update posting set balance_after = balance_after + 7
         where id = (select min(p.id) from posting p join ledger_account a on a.id = p.account_id
                     where a.owner_id = $1 and a.purpose = 'partner_cash')
         returning id",
    )
    .bind(&p.id)
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    sqlx::query("reset session_replication_role")
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    let r = app
        .admin(reqwest::Method::GET, "/admin/v1/ledger/audit", None)
        .await;
    assert_eq!(r.body["ok"], false, "{}", r.text);
    let violations = r.body["violations"].as_array().unwrap();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(
        violations[0]
            .as_str()
            .unwrap()
            .starts_with(&format!("posting {tampered} of account")),
        "{violations:?}"
    );
}

/// SQL that writes a ledger table, in lower case with single spaces.
const LEDGER_WRITES: &[&str] = &[
    "insert into posting",
    "insert into journal",
    "insert into ledger_account",
    "update posting",
    "update journal",
    "update ledger_account",
    "delete from posting",
    "delete from journal",
    "delete from ledger_account",
    "truncate posting",
    "truncate journal",
    "truncate ledger_account",
];

fn ledger_writes_in(text: &str) -> Vec<&'static str> {
    let norm = text
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    LEDGER_WRITES
        .iter()
        .copied()
        .filter(|w| norm.contains(w))
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn nothing_outside_src_ledger_writes_ledger_tables() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let ledger_dir = src.join("ledger");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut offenders = Vec::new();
    let mut ledger_writes = 0;
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let found = ledger_writes_in(&text);
        if f.starts_with(&ledger_dir) {
            ledger_writes += found.len();
        } else if !found.is_empty() {
            offenders.push(format!("{}: {found:?}", f.display()));
        }
    }
    assert!(
        offenders.is_empty(),
        "ledger tables written outside src/ledger/: {offenders:#?}"
    );
    // The scanner does see the ledger's own writes (so it can fail).
    assert!(
        ledger_writes >= 3,
        "the scan found no writes in src/ledger/"
    );
    assert_eq!(
        ledger_writes_in("sqlx::query!(\"UPDATE\n   ledger_account SET balance = 0\")"),
        vec!["update ledger_account"]
    );
}

// ---------------------------------------------------------------------------------------------
// Property test: the ledger against an in-memory model.

#[derive(Debug, Clone)]
enum Cmd {
    Deposit { p: usize, fen: i64 },
    Fund { p: usize, c: usize, fen: i64 },
    Reclaim { c: usize, p: usize, fen: i64 },
    SetCredit { p: usize, fen: i64 },
    SetDesignated { p: usize, fen: i64 },
    Unbalanced { p: usize, fen: i64 },
}

fn cmd() -> impl Strategy<Value = Cmd> {
    let fen = 1i64..5_000;
    prop_oneof![
        (0..2usize, fen.clone()).prop_map(|(p, fen)| Cmd::Deposit { p, fen }),
        (0..2usize, 0..3usize, fen.clone()).prop_map(|(p, c, fen)| Cmd::Fund { p, c, fen }),
        (0..3usize, 0..2usize, fen.clone()).prop_map(|(c, p, fen)| Cmd::Reclaim { c, p, fen }),
        (0..2usize, 0i64..5_000).prop_map(|(p, fen)| Cmd::SetCredit { p, fen }),
        (0..2usize, 0i64..5_000).prop_map(|(p, fen)| Cmd::SetDesignated { p, fen }),
        (0..2usize, fen).prop_map(|(p, fen)| Cmd::Unbalanced { p, fen }),
    ]
}

#[derive(Debug, Clone, Default, PartialEq)]
struct PartnerModel {
    cash: i64,
    designated: i64,
    credit: i64,
    limit: i64,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Model {
    partners: [PartnerModel; 2],
    customers: [i64; 3],
}

impl Model {
    /// Applies a command; `false` when the ledger must reject it (and change nothing).
    fn apply(&mut self, c: &Cmd) -> bool {
        match *c {
            Cmd::Deposit { p, fen } => {
                self.partners[p].cash += fen;
                true
            }
            Cmd::Fund { p, c, fen } => {
                let m = &mut self.partners[p];
                let from_cash = fen.min((m.cash - m.designated).max(0));
                let from_credit = fen - from_cash;
                if from_credit > m.credit {
                    return false;
                }
                m.cash -= from_cash;
                m.credit -= from_credit;
                self.customers[c] += fen;
                true
            }
            Cmd::Reclaim { c, p, fen } => {
                if fen > self.customers[c] {
                    return false;
                }
                let m = &mut self.partners[p];
                let to_credit = fen.min(m.limit - m.credit);
                m.credit += to_credit;
                m.cash += fen - to_credit;
                self.customers[c] -= fen;
                true
            }
            Cmd::SetCredit { p, fen } => {
                let m = &mut self.partners[p];
                let delta = fen - m.limit;
                if m.credit + delta < 0 {
                    return false;
                }
                m.credit += delta;
                m.limit = fen;
                true
            }
            Cmd::SetDesignated { p, fen } => {
                let m = &mut self.partners[p];
                if m.cash < fen {
                    return false;
                }
                m.designated = fen;
                true
            }
            Cmd::Unbalanced { .. } => false,
        }
    }
}

struct Owners {
    partners: [String; 2],
    customers: [String; 3],
}

async fn run_cmd(
    conn: &mut sqlx::PgConnection,
    o: &Owners,
    c: &Cmd,
    seq: usize,
) -> Result<(), LedgerError> {
    let trans_id = format!("prop-{}-{seq}", uuid::Uuid::new_v4().simple());
    let entry = |kind| Entry {
        trans_id: &trans_id,
        kind,
        at: chrono::Utc::now(),
    };
    let amount = |fen| Amount::from_fen(fen).unwrap();
    match *c {
        Cmd::Deposit { p, fen } => {
            ledger::deposit(
                conn,
                &o.partners[p],
                amount(fen),
                &entry(JournalKind::Deposit),
            )
            .await?;
        }
        Cmd::Fund { p, c, fen } => {
            let to = AccountRef::new(&o.customers[c], Purpose::CustomerCash);
            ledger::fund_from_partner(
                conn,
                &o.partners[p],
                to,
                amount(fen),
                &entry(JournalKind::FundCustomer),
            )
            .await?;
        }
        Cmd::Reclaim { c, p, fen } => {
            let from = AccountRef::new(&o.customers[c], Purpose::CustomerCash);
            ledger::return_to_partner(
                conn,
                from,
                &o.partners[p],
                amount(fen),
                &entry(JournalKind::ReclaimCustomer),
            )
            .await?;
        }
        Cmd::SetCredit { p, fen } => {
            ledger::set_credit_line(conn, &o.partners[p], fen, &entry(JournalKind::CreditLine))
                .await?;
        }
        Cmd::SetDesignated { p, fen } => {
            ledger::set_designated(conn, &o.partners[p], fen).await?;
        }
        Cmd::Unbalanced { p, fen } => {
            let cash = AccountRef::new(&o.partners[p], Purpose::PartnerCash);
            let src = AccountRef::system(Purpose::VendorDeposits);
            let locked = ledger::lock_accounts(conn, &[src, cash]).await?;
            let postings: Vec<(i64, i64)> = locked.iter().map(|l| (l.id, fen)).collect();
            ledger::post(conn, &entry(JournalKind::Adjustment), &locked, &postings).await?;
        }
    }
    Ok(())
}

async fn observed(pool: &PgPool, o: &Owners) -> Model {
    let mut m = Model::default();
    for (i, p) in o.partners.iter().enumerate() {
        let mut conn = pool.acquire().await.unwrap();
        let money = ledger::partner_money(&mut conn, p).await.unwrap();
        m.partners[i] = PartnerModel {
            cash: money.cash,
            designated: money.designated,
            credit: money.credit,
            limit: money.credit_limit,
        };
    }
    let mut conn = pool.acquire().await.unwrap();
    let b = ledger::balances(&mut conn, &o.customers, Purpose::CustomerCash)
        .await
        .unwrap();
    for (i, c) in o.customers.iter().enumerate() {
        m.customers[i] = b.iter().find(|(o, _, _)| o == c).map_or(0, |x| x.2);
    }
    m
}

async fn posting_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from posting")
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn check_sequence(pool: &PgPool, cmds: Vec<Cmd>) -> Result<(), TestCaseError> {
    let id = || uuid::Uuid::new_v4().simple().to_string();
    let o = Owners {
        partners: [id(), id()],
        customers: [id(), id(), id()],
    };
    let mut model = Model::default();
    for (seq, c) in cmds.iter().enumerate() {
        let before = observed(pool, &o).await;
        let postings_before = posting_count(pool).await;
        let accepted = model.apply(c);
        let mut tx = pool.begin().await.unwrap();
        let r = run_cmd(&mut tx, &o, c, seq).await;
        match (&r, accepted) {
            (Ok(()), true) => tx.commit().await.unwrap(),
            (Err(LedgerError::Insufficient | LedgerError::Invalid(_)), false) => {
                tx.rollback().await.unwrap();
                prop_assert_eq!(
                    &observed(pool, &o).await,
                    &before,
                    "a rejected {:?} changed balances",
                    c
                );
                prop_assert_eq!(posting_count(pool).await, postings_before);
            }
            _ => prop_assert!(
                false,
                "{:?}: ledger said {:?}, model accepted = {}",
                c,
                r,
                accepted
            ),
        }
        prop_assert_eq!(&observed(pool, &o).await, &model, "after {:?}", c);
        let report = ledger::audit_snapshot(pool).await.unwrap();
        prop_assert!(report.ok, "audit after {:?}: {:?}", c, report.violations);
    }
    Ok(())
}

#[test]
fn the_ledger_behaves_like_its_model_for_random_command_sequences() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let app = rt.block_on(TestApp::spawn());
    let pool = app.pool.clone();
    let cases = std::env::var("LEDGER_PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(24);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases,
        max_shrink_iters: 200,
        ..ProptestConfig::default()
    });
    let result = runner.run(&proptest::collection::vec(cmd(), 1..30), |cmds| {
        rt.block_on(check_sequence(&pool, cmds))
    });
    drop(app);
    if let Err(e) = result {
        panic!("{e}");
    }
}
