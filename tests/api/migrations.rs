//! Migrations that build or drop an index on a large table do it `concurrently`, so a server
//! applying them at start does not stop the running replicas from writing.

use std::time::Duration;

use serde_json::json;
use sqlx::{Connection, PgConnection};

use crate::helpers::TestApp;

const LIST: &str = "/v2/partners/sub-customers/query";

/// Migration 0029 builds the login-name suffix index and 0030 drops the trigram index without
/// blocking writes to `account`: while the build waits for a transaction that is writing to
/// `account`, other customers are still created. A plain `create index` would queue its share
/// lock behind that transaction, and every later write to `account` behind the build. The
/// index is valid afterwards and serves the search; the trigram index is gone. A second replica
/// starting during the build waits for it and then has nothing to apply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_name_indexes_change_without_blocking_customer_writes() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let before = app.create_customer(&p, json!({})).await;
    // Back to the state before 0029 and 0030: the trigram index, no suffix index.
    for sql in [
        "update account set login_name = 'written-before-the-build' where kind = 'customer'",
        "drop index account_login_name_suffixes",
        "create index account_login_name_trgm on account using gin (login_name gin_trgm_ops)",
        "delete from _sqlx_migrations where version in (29, 30)",
    ] {
        sqlx::query(sql).execute(&app.pool).await.unwrap();
    }

    // A transaction writing to `account`, still open.
    let mut writer = PgConnection::connect(&app.db_url()).await.unwrap();
    let mut open = writer.begin().await.unwrap();
    sqlx::query("update account set login_name = login_name where id = $1")
        .bind(&before.id)
        .execute(&mut *open)
        .await
        .unwrap();

    // A replica starting: it applies 0029 and 0030, which wait for that transaction.
    let replica = || {
        let url = app.db_url();
        tokio::spawn(async move {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(&url)
                .await
                .unwrap();
            partner_center::startup::migrate(&pool).await
        })
    };
    let migrating = replica();
    let mut waiting = false;
    for _ in 0..200 {
        waiting = sqlx::query_scalar(
            "select exists (select from pg_stat_activity where datname = current_database()
                             and query like '%the index of login-name suffixes of migration 0027%'
                             and wait_event_type = 'Lock')",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap();
        if waiting {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if !waiting && migrating.is_finished() {
        panic!("migrations ended without waiting: {:?}", migrating.await);
    }
    assert!(
        waiting,
        "the index build never waited for the open transaction"
    );

    // A second replica starting meanwhile waits for the first one's migrations without holding a
    // snapshot the build would wait for (with a blocking advisory lock, PostgreSQL found a
    // deadlock and cancelled the build).
    let second = replica();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(!second.is_finished(), "the second replica did not wait");

    // Meanwhile customers are created and renamed (writes to `account`).
    let during = tokio::time::timeout(Duration::from_secs(10), async {
        let c = app.create_customer(&p, json!({})).await;
        sqlx::query("update account set login_name = 'renamed-during-the-build' where id = $1")
            .bind(&c.id)
            .execute(&app.pool)
            .await
            .unwrap();
        c
    })
    .await
    .expect("a write to `account` waited for the index build");
    assert!(!migrating.is_finished(), "the build did not wait");

    open.commit().await.unwrap();
    tokio::time::timeout(Duration::from_secs(60), migrating)
        .await
        .expect("migrations 0029 and 0030 finish once the transaction ends")
        .unwrap()
        .expect("migrations applied");
    tokio::time::timeout(Duration::from_secs(10), second)
        .await
        .expect("the second replica finds nothing left to apply")
        .unwrap()
        .expect("nothing left to apply");

    let valid: Option<bool> = sqlx::query_scalar(
        "select i.indisvalid from pg_index i join pg_class c on c.oid = i.indexrelid
          where c.relname = 'account_login_name_suffixes'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(valid, Some(true));
    let trigram: Option<String> =
        sqlx::query_scalar("select to_regclass('account_login_name_trgm')::text")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(trigram, None);
    // The search finds the customers written before and during the build.
    for (name, id) in [
        ("before-the", before.id.as_str()),
        ("during-the", during.id.as_str()),
    ] {
        let r = app
            .signed(&p)
            .post(LIST, &json!({ "account_name": name }))
            .await;
        let body = r.ok();
        assert_eq!(body["count"], 1, "{name}: {body}");
        assert_eq!(body["customer_infos"][0]["customer_id"], id);
    }
}
