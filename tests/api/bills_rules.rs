//! The parameter rules of the bill operations (40-bills.md): every filter of
//! `list_sub_customer_bill_detail` (absent / empty / `""` / `null` / invalid), and every
//! documented error code of the bill operations.

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, TimeZone, Utc};
use serde_json::json;

use crate::{
    consumption::{
        charge, cycle, ecs_product, fund, obs_product, record, ts, CONSUMERS, DETAIL, ECS, GB_HOUR,
        HOUR, OWN_FEES, OWN_SUM, PARTNER_SUM,
    },
    helpers::{Creds, TestApp, ADMIN_TOKEN},
    organisation::{assign, operator, operator_id, role},
};

const EXPORT: &str = "/v2/bills/subcustomer-bills/res-fee-records/export";

/// The ids `who` gets for the detail query `q` (the cycle and customer are prepended).
async fn ids(app: &TestApp, who: &Creds, base: &str, q: &str) -> BTreeSet<String> {
    let r = app.signed(who).get(DETAIL, &format!("{base}{q}")).await;
    let recs = r.ok()["fee_records"].as_array().unwrap().clone();
    assert_eq!(
        r.body["total_count"].as_u64().unwrap() as usize,
        recs.len(),
        "{q}"
    );
    recs.iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

fn of(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn every_filter_of_the_sub_customer_detail_follows_its_absent_empty_and_null_rules() {
    let app = TestApp::spawn().await;
    let real = app.now();
    app.clock.set(
        Utc.with_ymd_and_hms(real.year(), real.month(), 20, 4, 0, 0)
            .unwrap(),
    );
    let p = app.create_partner("solution_provider", None).await;
    app.deposit(&p, "1000.00").await;
    let sales = role(
        &app,
        &p,
        "sales",
        &["customer:read", "customer:manage", "billing:read"],
    )
    .await;
    let m = operator(&app, &p, json!({"role_id": sales, "scope": "manager"})).await;
    let m_id = operator_id(&app, &p, &m).await;
    let c = app.create_customer(&p, json!({})).await;
    fund(&app, &p, &c.id, "100.00").await.ok();
    let ecs = ecs_product(&app, "1.00").await;
    let obs = obs_product(&app, "1.00").await;

    // r2: OBS in cn-south-1 on the 5th, no resource name, no manager.
    let mut rec2 = record(&app, "f2", &c.id, &obs, "obs_storage", "3", GB_HOUR);
    let day5 = Utc
        .with_ymd_and_hms(real.year(), real.month(), 5, 2, 0, 0)
        .unwrap();
    rec2["begin_time"] = json!(ts(day5));
    rec2["end_time"] = json!(ts(day5 + Duration::hours(1)));
    rec2["region_code"] = json!("cn-south-1");
    rec2["resource_id"] = json!("res-2");
    rec2.as_object_mut().unwrap().remove("resource_name");
    let r2 = charge(&app, rec2).await;
    // r1: ECS today, named "vm one", charged while assigned to the manager; r3 refunds part of it.
    assign(&app, &p, &c, Some(&m_id)).await.ok();
    let mut rec1 = record(&app, "f1", &c.id, &ecs, "duration", "2", HOUR);
    rec1["resource_id"] = json!("res-1");
    rec1["resource_name"] = json!("vm one");
    let r1 = charge(&app, rec1).await;
    let a = app
        .send(
            app.http
                .post(format!(
                    "{}/admin/v1/fee-records/{}/adjust",
                    app.base,
                    r1["fee_record_id"].as_str().unwrap()
                ))
                .bearer_auth(ADMIN_TOKEN)
                .json(&json!({"amount": 0.5, "reason": "SLA"})),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text);
    let (r1, r2, r3) = (
        r1["fee_record_id"].as_str().unwrap().to_string(),
        r2["fee_record_id"].as_str().unwrap().to_string(),
        a.body["fee_record_id"].as_str().unwrap().to_string(),
    );
    let all = of(&[&r1, &r2, &r3]);
    let none = BTreeSet::new();
    let base = format!(
        "bill_cycle={}&customer_id={}&limit=100",
        cycle(app.now()),
        c.id
    );
    let trade_id = {
        let r = app.signed(&p).get(DETAIL, &base).await;
        r.ok()["fee_records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == r1.as_str())
            .unwrap()["trade_id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let get = |q: String| {
        let (app, p, base) = (&app, &p, base.clone());
        async move { ids(app, p, &base, &q).await }
    };
    let bad = |q: &'static str, field: &'static str| {
        let (app, p, base) = (&app, &p, base.clone());
        async move {
            let r = app.signed(p).get(DETAIL, &format!("{base}{q}")).await;
            r.err(400, "CBC.0100");
            assert!(r.msg().contains(field), "{q}: {}", r.text);
        }
    };

    assert_eq!(get(String::new()).await, all);
    // Text filters where "" and null are filters.
    assert_eq!(
        get(format!("&service_type_code={ECS}")).await,
        of(&[&r1, &r3])
    );
    assert_eq!(get("&service_type_code=".into()).await, all);
    assert_eq!(get("&service_type_code=%22%22".into()).await, none);
    assert_eq!(get("&service_type_code=null".into()).await, none);
    assert_eq!(get("&region_code=cn-south-1".into()).await, of(&[&r2]));
    assert_eq!(get("&region_code=".into()).await, all);
    assert_eq!(get("&region_code=%22%22".into()).await, none);
    assert_eq!(get("&region_code=null".into()).await, none);
    // Integer enums: absent, empty and null are "all"; "" and values outside the enum invalid.
    assert_eq!(get("&charging_mode=3".into()).await, all);
    assert_eq!(get("&charging_mode=1".into()).await, none);
    assert_eq!(get("&charging_mode=".into()).await, all);
    assert_eq!(get("&charging_mode=null".into()).await, all);
    bad("&charging_mode=%22%22", "charging_mode").await;
    bad("&charging_mode=2", "charging_mode").await;
    bad("&charging_mode=x", "charging_mode").await;
    assert_eq!(get("&bill_detail_type=5".into()).await, of(&[&r1, &r2]));
    assert_eq!(get("&bill_detail_type=4".into()).await, of(&[&r3]));
    assert_eq!(get("&bill_detail_type=".into()).await, all);
    bad("&bill_detail_type=%22%22", "bill_detail_type").await;
    bad("&bill_detail_type=6", "bill_detail_type").await;
    // Text filters where null is a filter and "" is invalid.
    assert_eq!(get("&resource_id=res-2".into()).await, of(&[&r2]));
    assert_eq!(get("&resource_id=".into()).await, all);
    assert_eq!(get("&resource_id=null".into()).await, none);
    bad("&resource_id=%22%22", "resource_id").await;
    assert_eq!(get("&resource_name=vm%20one".into()).await, of(&[&r1, &r3]));
    assert_eq!(get("&resource_name=null".into()).await, of(&[&r2]));
    assert_eq!(get("&resource_name=".into()).await, all);
    bad("&resource_name=%22%22", "resource_name").await;
    assert_eq!(get(format!("&trade_id={trade_id}")).await, of(&[&r1, &r3]));
    assert_eq!(get("&trade_id=null".into()).await, none);
    assert_eq!(get("&trade_id=".into()).await, all);
    bad("&trade_id=%22%22", "trade_id").await;
    assert_eq!(
        get(format!("&account_manager_id={m_id}")).await,
        of(&[&r1, &r3])
    );
    assert_eq!(get("&account_manager_id=null".into()).await, of(&[&r2]));
    assert_eq!(get("&account_manager_id=".into()).await, all);
    bad("&account_manager_id=%22%22", "account_manager_id").await;
    // association_type: 1 or 2; "" and null invalid.
    assert_eq!(get("&association_type=2".into()).await, all);
    assert_eq!(get("&association_type=1".into()).await, none);
    assert_eq!(get("&association_type=".into()).await, all);
    bad("&association_type=%22%22", "association_type").await;
    bad("&association_type=null", "association_type").await;
    bad("&association_type=3", "association_type").await;
    // The date window: both or neither, inside the cycle, begin ≤ end.
    let d = |day: u32| format!("{}-{:02}", cycle(app.now()), day);
    assert_eq!(
        get(format!("&bill_date_begin={}&bill_date_end={}", d(5), d(5))).await,
        of(&[&r2])
    );
    assert_eq!(
        get(format!("&bill_date_begin={}&bill_date_end={}", d(6), d(28))).await,
        of(&[&r1, &r3])
    );
    assert_eq!(get(format!("&bill_date_begin={}", d(6))).await, all);
    let r = app
        .signed(&p)
        .get(
            DETAIL,
            &format!("{base}&bill_date_begin={}&bill_date_end={}", d(9), d(8)),
        )
        .await;
    r.err(400, "CBC.0100");
    assert!(r.msg().contains("bill_date_begin"), "{}", r.text);
    bad(
        "&bill_date_begin=2020-01-01&bill_date_end=2020-01-02",
        "bill_date_begin",
    )
    .await;
    bad("&bill_date_begin=5th&bill_date_end=6th", "bill_date_begin").await;
    // Paging.
    let base = format!("bill_cycle={}&customer_id={}", cycle(app.now()), c.id);
    let r = app
        .signed(&p)
        .get(DETAIL, &format!("{base}&limit=1&offset=1"))
        .await;
    assert_eq!(r.ok()["total_count"], 3);
    assert_eq!(r.body["fee_records"].as_array().unwrap().len(), 1);
    let r = app
        .signed(&p)
        .get(DETAIL, &format!("{base}&limit=1000"))
        .await;
    assert_eq!(r.ok()["fee_records"].as_array().unwrap().len(), 3);
    for q in ["&limit=0", "&limit=1001", "&offset=-1", "&offset=x"] {
        let r = app.signed(&p).get(DETAIL, &format!("{base}{q}")).await;
        r.err(400, "CBC.0100");
        assert!(
            r.msg().contains(&q[1..q.find('=').unwrap()]),
            "{q}: {}",
            r.text
        );
    }
    // Required parameters.
    let q = format!("customer_id={}", c.id);
    let r = app.signed(&p).get(DETAIL, &q).await;
    r.err(400, "CBC.0100");
    assert!(r.msg().contains("bill_cycle"), "{}", r.text);
    let r = app
        .signed(&p)
        .get(DETAIL, &format!("bill_cycle={}", cycle(app.now())))
        .await;
    r.err(400, "CBC.0100");
    assert!(r.msg().contains("customer_id"), "{}", r.text);
    let r = app
        .signed(&p)
        .get(DETAIL, &format!("bill_cycle=2026-13&customer_id={}", c.id))
        .await;
    r.err(400, "CBC.0100");
    let long = "x".repeat(65);
    let r = app
        .signed(&p)
        .get(DETAIL, &format!("{base}&service_type_code={long}"))
        .await;
    r.err(400, "CBC.0100");
    assert!(r.msg().contains("service_type_code"), "{}", r.text);
}

fn msg_names(r: &crate::helpers::Resp, field: &str) {
    r.err(400, "CBC.0100");
    assert!(r.msg().contains(field), "{field}: {}", r.text);
}

#[tokio::test]
async fn every_documented_error_code_of_the_bill_operations() {
    let app = TestApp::spawn().await;
    let d = app.create_partner("distributor", None).await;
    let mine = app.create_partner("reseller", Some(&d.id)).await;
    let d2 = app.create_partner("distributor", None).await;
    let theirs = app.create_partner("reseller", Some(&d2.id)).await;
    // Distributors do not associate customers themselves: the customer is a solution provider's.
    let sp = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&sp, json!({})).await;
    let cy = cycle(app.now());

    // 400 CBC.0100 naming the field, per operation.
    let s = app.signed(&d);
    msg_names(&s.get(PARTNER_SUM, "charge_mode=3").await, "cycle");
    msg_names(
        &s.get(PARTNER_SUM, &format!("cycle={cy}")).await,
        "charge_mode",
    );
    msg_names(
        &s.get(PARTNER_SUM, &format!("cycle={cy}&charge_mode=2"))
            .await,
        "charge_mode",
    );
    msg_names(
        &s.get(
            PARTNER_SUM,
            &format!("cycle={cy}&charge_mode=3&bill_type=3"),
        )
        .await,
        "bill_type",
    );
    msg_names(
        &s.get(PARTNER_SUM, &format!("cycle={cy}&charge_mode=3&limit=101"))
            .await,
        "limit",
    );
    msg_names(
        &s.get(PARTNER_SUM, "cycle=2026/01&charge_mode=3").await,
        "cycle",
    );
    msg_names(&s.post(CONSUMERS, &json!({})).await, "bill_cycle");
    msg_names(
        &s.post(CONSUMERS, &json!({"bill_cycle": cy, "limit": 101}))
            .await,
        "limit",
    );
    msg_names(
        &s.post(CONSUMERS, &json!({"bill_cycle": cy, "offset": -1}))
            .await,
        "offset",
    );
    msg_names(&s.get(EXPORT, "").await, "bill_cycle");
    let own = app.signed(&c);
    msg_names(&own.get(OWN_SUM, "").await, "bill_cycle");
    msg_names(
        &own.get(
            OWN_SUM,
            &format!("bill_cycle={cy}&enterprise_project_id=%22%22"),
        )
        .await,
        "enterprise_project_id",
    );
    msg_names(
        &own.get(OWN_SUM, &format!("bill_cycle={cy}&method=x")).await,
        "method",
    );
    msg_names(
        &own.get(OWN_SUM, &format!("bill_cycle={cy}&method=sub_customer"))
            .await,
        "sub_customer_id",
    );
    msg_names(&own.get(OWN_FEES, "").await, "bill_cycle");
    msg_names(
        &own.get(
            OWN_FEES,
            &format!("bill_cycle={cy}&include_zero_record=maybe"),
        )
        .await,
        "include_zero_record",
    );
    msg_names(
        &own.get(OWN_FEES, &format!("bill_cycle={cy}&status=4"))
            .await,
        "status",
    );
    msg_names(
        &own.get(OWN_FEES, &format!("bill_cycle={cy}&charging_mode=2"))
            .await,
        "charging_mode",
    );
    msg_names(
        &own.get(
            OWN_FEES,
            &format!("bill_cycle={cy}&bill_date_begin={cy}-01&bill_date_end=2020-01-01"),
        )
        .await,
        "bill_date_end",
    );

    // 400 CBC.99000037: an indirect partner that is not the caller's reseller.
    let detail = format!("bill_cycle={cy}&customer_id={}", c.id);
    for (path, q) in [
        (
            DETAIL,
            format!("{detail}&indirect_partner_id={}", theirs.id),
        ),
        (
            PARTNER_SUM,
            format!("cycle={cy}&charge_mode=3&indirect_partner_id={}", theirs.id),
        ),
        (
            EXPORT,
            format!("bill_cycle={cy}&indirect_partner_id={}", theirs.id),
        ),
        (
            DETAIL,
            format!("{detail}&indirect_partner_id=0123456789abcdef0123456789abcdef"),
        ),
    ] {
        s.get(path, &q).await.err(400, "CBC.99000037");
    }
    // Its own reseller is accepted.
    s.get(DETAIL, &format!("{detail}&indirect_partner_id={}", mine.id))
        .await
        .ok();

    // 403 CBC.0151: customer credentials on partner routes, partner credentials on customer
    // routes.
    own.get(DETAIL, &detail).await.err(403, "CBC.0151");
    own.get(PARTNER_SUM, &format!("cycle={cy}&charge_mode=3"))
        .await
        .err(403, "CBC.0151");
    own.post(CONSUMERS, &json!({"bill_cycle": cy}))
        .await
        .err(403, "CBC.0151");
    own.get(EXPORT, &format!("bill_cycle={cy}"))
        .await
        .err(403, "CBC.0151");
    s.get(OWN_SUM, &format!("bill_cycle={cy}"))
        .await
        .err(403, "CBC.0151");
    s.get(OWN_FEES, &format!("bill_cycle={cy}"))
        .await
        .err(403, "CBC.0151");
}
