//! A customer's resource consumption records (40-bills.md §6 `list_customerself_resource_records`,
//! §7 `list_customerself_resource_record_details`): details, per-day and per-cycle sums with exact
//! values, every filter rule, paging, names by `X-Language`, and the errors.

use std::{collections::BTreeMap, str::FromStr};

use chrono::{DateTime, TimeZone, Utc};
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::{
    consumption::{
        coupon, ecs_product, fund, ingest, obs_product, record, ECS, GB_HOUR, HOUR, OBS,
    },
    helpers::{sdk_json, Creds, Resp, Tamper, TestApp},
};

const RES: &str = "/v2/bills/customer-bills/res-fee-records";
const QUERY: &str = "/v2/bills/customer-bills/res-records/query";
const CYCLE: &str = "2026-11";

struct Scene {
    app: TestApp,
    partner: Creds,
    customer: Creds,
    ecs: String,
    obs: String,
    /// Fee record id by event id.
    fees: BTreeMap<String, String>,
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Six usage records of 2026-11 over two UTC+8 days (the 18th and the 19th) and two resources:
///
/// | event | resource | UTC+8 day | usage            | amount | paid                |
/// |-------|----------|-----------|------------------|--------|---------------------|
/// | e1    | vm-a     | 18th      | 2 hours at 1.00  | 2.00   | voucher 1.00, cash 1.00 |
/// | e2    | vm-a     | 18th      | 30 minutes       | 0.50   | cash                |
/// | e3    | vm-a     | 19th (01:00 UTC+8 = 17:00 UTC on the 18th) | 1 hour | 1.00 | cash |
/// | e4    | bucket-b | 18th, project 0 | 4 GB·h at 0.50 | 2.00 | cash           |
/// | e5    | bucket-b | 19th, project 0 | 2 GB·h         | 1.00 | cash           |
/// | e6    | vm-a     | 19th      | 0 hours          | 0.00   | —                   |
async fn scene() -> Scene {
    let app = TestApp::spawn().await;
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 20, 4, 0, 0).unwrap());
    let partner = app.create_partner("solution_provider", None).await;
    app.deposit(&partner, "1000.00").await;
    let customer = app.create_customer(&partner, json!({})).await;
    let ecs = ecs_product(&app, "1.00").await;
    let obs = obs_product(&app, "0.50").await;
    coupon(&app, &partner, &customer.id, 0, "1.00", &[ECS], 30).await;
    fund(&app, &partner, &customer.id, "100.00").await.ok();
    let c = &customer.id;
    let rec = |event: &str,
               product: &str,
               usage_type: &str,
               usage: &str,
               measure: i64,
               resource: &str,
               begin: &str,
               ep: Option<&str>| {
        let mut r = record(&app, event, c, product, usage_type, usage, measure);
        let b = at(begin);
        r["resource_id"] = json!(resource);
        r["resource_name"] = json!(format!("name of {resource}"));
        r["begin_time"] = json!(crate::consumption::ts(b));
        r["end_time"] = json!(crate::consumption::ts(b + chrono::Duration::hours(1)));
        if let Some(ep) = ep {
            r["enterprise_project_id"] = json!(ep);
        }
        r
    };
    let records = vec![
        rec(
            "e1",
            &ecs,
            "duration",
            "2",
            HOUR,
            "vm-a",
            "2026-11-18T01:00:00Z",
            None,
        ),
        rec(
            "e2",
            &ecs,
            "duration",
            "30",
            6,
            "vm-a",
            "2026-11-18T05:00:00Z",
            None,
        ),
        rec(
            "e3",
            &ecs,
            "duration",
            "1",
            HOUR,
            "vm-a",
            "2026-11-18T17:00:00Z",
            None,
        ),
        rec(
            "e4",
            &obs,
            "obs_storage",
            "4",
            GB_HOUR,
            "bucket-b",
            "2026-11-18T03:00:00Z",
            Some("0"),
        ),
        rec(
            "e5",
            &obs,
            "obs_storage",
            "2",
            GB_HOUR,
            "bucket-b",
            "2026-11-19T03:00:00Z",
            Some("0"),
        ),
        rec(
            "e6",
            &ecs,
            "duration",
            "0",
            HOUR,
            "vm-a",
            "2026-11-19T02:00:00Z",
            None,
        ),
    ];
    let r = ingest(&app, records).await;
    let mut fees = BTreeMap::new();
    for res in r.ok()["results"].as_array().unwrap() {
        assert_eq!(res["status"], "charged", "{}", r.text);
        fees.insert(
            res["event_id"].as_str().unwrap().to_string(),
            res["fee_record_id"].as_str().unwrap().to_string(),
        );
    }
    app.assert_audit_ok().await;
    Scene {
        app,
        partner,
        customer,
        ecs,
        obs,
        fees,
    }
}

impl Scene {
    async fn res(&self, query: &str) -> Resp {
        self.app.signed(&self.customer).get(RES, query).await
    }

    /// `list_customerself_resource_records` of the cycle with `extra` query parameters.
    async fn list(&self, extra: &str) -> Value {
        let r = self.res(&format!("cycle={CYCLE}&limit=100{extra}")).await;
        r.ok().clone()
    }

    async fn count(&self, extra: &str) -> i64 {
        let v = self.list(extra).await;
        assert_eq!(
            v["fee_records"].as_array().unwrap().len() as i64,
            v["total_count"].as_i64().unwrap(),
            "{v}"
        );
        v["total_count"].as_i64().unwrap()
    }

    async fn query(&self, body: Value) -> Resp {
        self.app.signed(&self.customer).post(QUERY, &body).await
    }

    async fn total(&self, body: Value) -> i64 {
        self.details(body).await["total_count"].as_i64().unwrap()
    }

    async fn details(&self, mut body: Value) -> Value {
        body["cycle"] = json!(CYCLE);
        body["limit"] = json!(1000);
        self.query(body).await.ok().clone()
    }
}

fn dec(v: &Value) -> Decimal {
    Decimal::from_str(&v.to_string()).unwrap_or_else(|_| panic!("not a number: {v}"))
}

fn rows(v: &Value, key: &str) -> Vec<Value> {
    v[key].as_array().unwrap().clone()
}

/// Σ of a money field over rows, grouped by a key built from each row.
fn sums(rows: &[Value], key: impl Fn(&Value) -> String, field: &str) -> BTreeMap<String, Decimal> {
    let mut m = BTreeMap::new();
    for r in rows {
        *m.entry(key(r)).or_insert(Decimal::ZERO) += dec(&r[field]);
    }
    m
}

const MONEY: &[&str] = &[
    "amount",
    "official_amount",
    "discount_amount",
    "cash_amount",
    "credit_amount",
    "coupon_amount",
    "flexipurchase_coupon_amount",
    "stored_card_amount",
    "bonus_amount",
    "debt_amount",
    "adjustment_amount",
    "usage",
];

fn line(r: &Value) -> String {
    format!(
        "{}|{}|{}|{}",
        r["resource_id"], r["product_id"], r["usage_type"], r["usage_measure_id"]
    )
}

#[tokio::test]
async fn details_per_day_and_per_cycle_sums_agree_to_the_fen() {
    let s = scene().await;
    let c = &s.customer.id;

    // 3 (default): every fee record.
    let d = s.list("").await;
    assert_eq!(d["total_count"], 6, "{d}");
    assert_eq!(d["currency"], "CNY");
    let details = rows(&d, "fee_records");
    let by_id = |id: &str| details.iter().find(|r| r["id"] == id).unwrap().clone();
    let e1 = by_id(&s.fees["e1"]);
    assert_eq!(e1["bill_date"], "2026-11-18");
    assert_eq!(e1["bill_type"], 5);
    assert_eq!(e1["customer_id"], c.as_str());
    assert_eq!(e1["region"], "cn-north-1");
    assert_eq!(e1["cloud_service_type"], ECS);
    assert_eq!(e1["resource_type"], "hws.resource.type.vm");
    assert_eq!(e1["cloud_service_type_name"], "弹性云服务器");
    assert_eq!(e1["resource_type_name"], "云主机");
    assert_eq!(e1["resource_id"], "vm-a");
    assert_eq!(e1["resource_name"], "name of vm-a");
    assert_eq!(e1["product_id"], s.ecs.as_str());
    assert_eq!(e1["trade_id"], s.fees["e1"].as_str());
    assert_eq!(e1["charge_mode"], "3", "a string");
    assert_eq!(e1["usage_type"], "duration");
    assert_eq!(e1["usage"].to_string(), "2");
    assert_eq!(e1["usage_measure_id"], HOUR);
    assert_eq!(e1["unit_price"].to_string(), "1");
    assert_eq!(e1["unit"], "元/小时");
    assert_eq!(e1["official_amount"].to_string(), "2");
    assert_eq!(e1["discount_amount"].to_string(), "0");
    assert_eq!(e1["amount"].to_string(), "2.00");
    assert_eq!(e1["coupon_amount"].to_string(), "1.00");
    assert_eq!(e1["cash_amount"].to_string(), "1.00");
    assert_eq!(e1["stored_card_amount"].to_string(), "0.00");
    assert_eq!(e1["adjustment_amount"].to_string(), "0.00");
    assert_eq!(e1["measure_id"], 1);
    assert_eq!(e1["effective_time"], "2026-11-18T01:00:00Z");
    assert_eq!(e1["expire_time"], "2026-11-18T02:00:00Z");
    assert_eq!(e1["consume_time"], "2026-11-18T01:00:00Z");
    assert_eq!(e1["trade_time"], "2026-11-20T04:00:00Z");
    assert!(e1.get("enterprise_project_id").is_none());
    // amount − coupon_amount = 2 / 1 × 1 − 0 − 0 − 1.00 = 1.00.
    assert_eq!(
        e1["formula"],
        "2【使用量】/1【单位转换】*1【单价】-0【优惠金额】-0【抹零金额】-1.00【代金券抵扣】"
    );
    let e2 = by_id(&s.fees["e2"]);
    assert_eq!(e2["usage"].to_string(), "30");
    assert_eq!(e2["usage_measure_id"], 6);
    assert_eq!(e2["amount"].to_string(), "0.50");
    assert_eq!(
        e2["formula"],
        "30【使用量】/60【单位转换】*1【单价】-0【优惠金额】-0【抹零金额】-0.00【代金券抵扣】"
    );
    // 17:00 UTC on the 18th is the 19th in UTC+8.
    assert_eq!(by_id(&s.fees["e3"])["bill_date"], "2026-11-19");
    let e4 = by_id(&s.fees["e4"]);
    assert_eq!(e4["enterprise_project_id"], "0");
    assert_eq!(e4["amount"].to_string(), "2.00");
    assert_eq!(e4["unit"], "元/GB·小时");
    assert_eq!(by_id(&s.fees["e6"])["amount"].to_string(), "0.00");
    for r in &details {
        let parts: Decimal = [
            "cash_amount",
            "credit_amount",
            "coupon_amount",
            "flexipurchase_coupon_amount",
            "stored_card_amount",
            "bonus_amount",
            "debt_amount",
            "adjustment_amount",
        ]
        .iter()
        .map(|k| dec(&r[*k]))
        .sum();
        assert_eq!(parts, dec(&r["amount"]), "{r}");
    }

    // 2: per resource line per UTC+8 day.
    let day = s.list("&statistic_type=2").await;
    let per_day = rows(&day, "fee_records");
    assert_eq!(day["total_count"], 5, "{day}");
    let keyed = |r: &Value| format!("{}|{}", r["bill_date"], line(r));
    let expect_day: Vec<(&str, &str, &str, &str)> = vec![
        // (day, resource, amount, usage) in the documented order: by day, then service type.
        ("2026-11-18", "vm-a", "2.00", "2"),
        ("2026-11-18", "vm-a", "0.50", "30"),
        ("2026-11-18", "bucket-b", "2.00", "4"),
        ("2026-11-19", "vm-a", "1.00", "1"),
        ("2026-11-19", "bucket-b", "1.00", "2"),
    ];
    let got: Vec<(String, String, String, String)> = per_day
        .iter()
        .map(|r| {
            (
                r["bill_date"].as_str().unwrap().to_string(),
                r["resource_id"].as_str().unwrap().to_string(),
                r["amount"].to_string(),
                r["usage"].to_string(),
            )
        })
        .collect();
    let want: Vec<(String, String, String, String)> = expect_day
        .iter()
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
        .collect();
    assert_eq!(got, want, "{day}");
    let vm19 = &per_day[3];
    assert!(
        vm19["id"].is_string(),
        "per day rows carry the day's first record id"
    );
    assert!(vm19.get("consume_time").is_none());
    assert_eq!(vm19["effective_time"], "2026-11-18T17:00:00Z");
    assert_eq!(vm19["expire_time"], "2026-11-19T03:00:00Z");
    assert_eq!(
        vm19["formula"],
        "1【使用量】/1【单位转换】*1【单价】-0【优惠金额】-0【抹零金额】-0.00【代金券抵扣】"
    );
    for f in MONEY {
        let want = sums(&details, keyed, f);
        assert_eq!(sums(&per_day, keyed, f), want, "{f}: per day = Σ details");
    }

    // 1: per usage line for the whole cycle; no id, no day, no formula.
    let cyc = s.list("&statistic_type=1").await;
    let per_cycle = rows(&cyc, "fee_records");
    assert_eq!(cyc["total_count"], 3, "{cyc}");
    for r in &per_cycle {
        for absent in ["id", "bill_date", "formula", "consume_time"] {
            assert!(r.get(absent).is_none(), "{absent}: {r}");
        }
    }
    for f in MONEY {
        assert_eq!(
            sums(&per_cycle, line, f),
            sums(&details, line, f),
            "{f}: per cycle = Σ details"
        );
        assert_eq!(sums(&per_cycle, line, f), sums(&per_day, line, f), "{f}");
    }
    let vm = per_cycle
        .iter()
        .find(|r| r["resource_id"] == "vm-a" && r["usage_measure_id"] == HOUR)
        .unwrap();
    assert_eq!(vm["usage"].to_string(), "3");
    assert_eq!(vm["amount"].to_string(), "3.00");
    assert_eq!(vm["coupon_amount"].to_string(), "1.00");
    assert_eq!(vm["cash_amount"].to_string(), "2.00");
    assert_eq!(vm["unit_price"].to_string(), "1");
    assert_eq!(vm["effective_time"], "2026-11-18T01:00:00Z");
    let bucket = per_cycle
        .iter()
        .find(|r| r["resource_id"] == "bucket-b")
        .unwrap();
    assert_eq!(bucket["usage"].to_string(), "6");
    assert_eq!(bucket["amount"].to_string(), "3.00");
    assert_eq!(bucket["product_id"], s.obs.as_str());
    assert_eq!(bucket["cloud_service_type"], OBS);
    let total: Decimal = per_cycle.iter().map(|r| dec(&r["amount"])).sum();
    assert_eq!(total, Decimal::from_str("6.50").unwrap());
    // bill_date bounds do not apply per cycle (even malformed ones).
    assert_eq!(
        s.count("&statistic_type=1&bill_date_begin=2026-11-19")
            .await,
        3
    );
    assert_eq!(s.count("&statistic_type=1&bill_date_begin=junk").await, 3);
}

#[tokio::test]
async fn every_filter_of_list_customerself_resource_records() {
    let s = scene().await;
    assert_eq!(s.count("").await, 6);
    // Text filters: absent ⇒ none; present ⇒ a filter, also when empty.
    assert_eq!(s.count(&format!("&cloud_service_type={ECS}")).await, 4);
    assert_eq!(
        s.count(&format!("&cloud_service_type={OBS}&statistic_type=2"))
            .await,
        2
    );
    assert_eq!(s.count("&cloud_service_type=").await, 0);
    assert_eq!(s.count("&region=cn-north-1").await, 6);
    assert_eq!(s.count("&region=cn-south-1").await, 0);
    assert_eq!(s.count("&region=").await, 0);
    assert_eq!(s.count("&resource_id=bucket-b").await, 2);
    assert_eq!(s.count("&resource_id=bucket-b&statistic_type=1").await, 1);
    assert_eq!(s.count("&resource_id=").await, 0);
    assert_eq!(s.count(&format!("&trade_id={}", s.fees["e3"])).await, 1);
    assert_eq!(s.count("&trade_id=").await, 0);
    assert_eq!(s.count("&enterprise_project_id=0").await, 2);
    assert_eq!(
        s.count("&enterprise_project_id=null").await,
        4,
        "null: not grouped"
    );
    assert_eq!(s.count("&enterprise_project_id=").await, 0);
    // charge_mode: a string enum; empty and null are invalid.
    assert_eq!(s.count("&charge_mode=3").await, 6);
    assert_eq!(s.count("&charge_mode=1").await, 0);
    for bad in ["", "null", "2", "x"] {
        let r = s.res(&format!("cycle={CYCLE}&charge_mode={bad}")).await;
        r.err(400, "CBC.0100");
        assert!(r.text.contains("charge_mode"), "{}", r.text);
    }
    // bill_type.
    assert_eq!(s.count("&bill_type=5").await, 6);
    assert_eq!(s.count("&bill_type=4").await, 0);
    for bad in ["7", "x", "null"] {
        let r = s.res(&format!("cycle={CYCLE}&bill_type={bad}")).await;
        r.err(400, "CBC.0100");
        assert!(r.text.contains("bill_type"), "{}", r.text);
    }
    // include_zero_record: absent/true include the 0.00 record, false leaves it out.
    assert_eq!(s.count("&include_zero_record=true").await, 6);
    assert_eq!(s.count("&include_zero_record=false").await, 5);
    let no_zero = s.list("&include_zero_record=false").await;
    assert!(rows(&no_zero, "fee_records")
        .iter()
        .all(|r| r["id"] != s.fees["e6"].as_str()));
    let r = s
        .res(&format!("cycle={CYCLE}&include_zero_record=maybe"))
        .await;
    r.err(400, "CBC.0100");
    assert!(r.text.contains("include_zero_record"));
    // method / sub_customer_id: no enterprise sub-accounts exist.
    assert_eq!(s.count("&method=oneself").await, 6);
    assert_eq!(s.count("&method=all").await, 6);
    assert_eq!(s.count("&method=").await, 6);
    assert_eq!(s.count("&method=sub_customer&sub_customer_id=x").await, 0);
    assert_eq!(s.count("&method=sub_customer&sub_customer_id=").await, 0);
    assert_eq!(
        s.count("&method=oneself&sub_customer_id=x").await,
        6,
        "ignored"
    );
    let r = s.res(&format!("cycle={CYCLE}&method=sub_customer")).await;
    r.err(400, "CBC.0100");
    assert!(r.text.contains("sub_customer_id"));
    s.res(&format!("cycle={CYCLE}&method=everyone"))
        .await
        .err(400, "CBC.0100");
    // bill_date_begin / bill_date_end (UTC+8 days; each defaults to the cycle's edge).
    assert_eq!(s.count("&bill_date_begin=2026-11-19").await, 3);
    assert_eq!(s.count("&bill_date_end=2026-11-18").await, 3);
    assert_eq!(
        s.count("&bill_date_begin=2026-11-18&bill_date_end=2026-11-18")
            .await,
        3
    );
    assert_eq!(
        s.count("&bill_date_begin=2026-11-19&bill_date_end=2026-11-19&statistic_type=2")
            .await,
        2
    );
    assert_eq!(
        s.count("&bill_date_begin=2026-11-01&bill_date_end=2026-11-17")
            .await,
        0
    );
    for (q, field) in [
        (
            "bill_date_begin=2026-11-19&bill_date_end=2026-11-18",
            "bill_date_begin",
        ),
        ("bill_date_begin=2026-10-31", "bill_date_begin"),
        ("bill_date_end=2026-12-01", "bill_date_end"),
        ("bill_date_begin=2026-11-1", "bill_date_begin"),
        ("bill_date_end=20261130", "bill_date_end"),
    ] {
        let r = s.res(&format!("cycle={CYCLE}&{q}")).await;
        r.err(400, "CBC.0100");
        assert!(r.text.contains(field), "{q}: {}", r.text);
    }
    // statistic_type.
    assert_eq!(s.count("&statistic_type=").await, 6, "empty: the default 3");
    for bad in ["0", "4", "x"] {
        let r = s.res(&format!("cycle={CYCLE}&statistic_type={bad}")).await;
        r.err(400, "CBC.0100");
        assert!(r.text.contains("statistic_type"));
    }
    // cycle.
    for q in [
        "",
        "cycle=",
        "cycle=2026-13",
        "cycle=2026-1",
        "cycle=202611",
    ] {
        let r = s.res(q).await;
        r.err(400, "CBC.0100");
        assert!(r.text.contains("cycle"), "{q}: {}", r.text);
    }
    assert_eq!(
        s.app
            .signed(&s.customer)
            .get(RES, "cycle=2026-10")
            .await
            .ok()["total_count"],
        0
    );
}

#[tokio::test]
async fn paging_names_and_who_may_call() {
    let s = scene().await;
    // Pages of 4 cover every record exactly once, with the exact total on each.
    let mut seen = Vec::new();
    for offset in [0, 4, 8] {
        let p = s
            .res(&format!("cycle={CYCLE}&offset={offset}&limit=4"))
            .await;
        let p = p.ok();
        assert_eq!(p["total_count"], 6);
        seen.extend(
            rows(p, "fee_records")
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_string()),
        );
    }
    seen.sort();
    let mut all: Vec<String> = s.fees.values().cloned().collect();
    all.sort();
    assert_eq!(seen, all);
    // Default limit 10, per-day paging.
    let d = s
        .res(&format!("cycle={CYCLE}&statistic_type=2&offset=3&limit=10"))
        .await;
    assert_eq!(d.ok()["total_count"], 5);
    assert_eq!(rows(&d.body, "fee_records").len(), 2);
    assert_eq!(d.body["fee_records"][0]["bill_date"], "2026-11-19");
    let d = s
        .res(&format!("cycle={CYCLE}&statistic_type=1&offset=2&limit=1"))
        .await;
    assert_eq!(d.ok()["total_count"], 3);
    assert_eq!(rows(&d.body, "fee_records").len(), 1);
    for (q, field) in [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("offset=-1", "offset"),
        ("limit=x", "limit"),
    ] {
        let r = s.res(&format!("cycle={CYCLE}&{q}")).await;
        r.err(400, "CBC.0100");
        assert!(r.text.contains(field), "{q}: {}", r.text);
    }

    // X-Language: en_us names in English, anything else in Chinese.
    let lang = |l: &'static str| Tamper {
        headers: vec![("X-Language", l.to_string())],
        ..Default::default()
    };
    let q = format!("cycle={CYCLE}&resource_id=vm-a&statistic_type=1&limit=1");
    let en = s
        .app
        .signed(&s.customer)
        .request(Method::GET, RES, &q, None, lang("en_us"))
        .await;
    let r = &en.ok()["fee_records"][0];
    assert_eq!(r["cloud_service_type_name"], "Elastic Cloud Server");
    assert_eq!(r["resource_type_name"], "Cloud server");
    assert_eq!(r["unit"], "CNY/hour");
    let zh = s
        .app
        .signed(&s.customer)
        .request(Method::GET, RES, &q, None, lang("zh_cn"))
        .await;
    assert_eq!(
        zh.ok()["fee_records"][0]["cloud_service_type_name"],
        "弹性云服务器"
    );
    let body = json!({"cycle": CYCLE, "statistic_type": 3, "res_instance_id": "vm-a", "limit": 1});
    let en = s
        .app
        .signed(&s.customer)
        .request(
            Method::POST,
            QUERY,
            "",
            Some(sdk_json(&body)),
            lang("en_US"),
        )
        .await;
    assert_eq!(
        en.ok()["monthly_records"][0]["resource_type_name"],
        "Cloud server"
    );

    // Customer routes: a partner's credentials are refused, and a customer sees only its own.
    let r = s
        .app
        .signed(&s.partner)
        .get(RES, &format!("cycle={CYCLE}"))
        .await;
    r.err(403, "CBC.0151");
    let r = s
        .app
        .signed(&s.partner)
        .post(QUERY, &json!({"cycle": CYCLE}))
        .await;
    r.err(403, "CBC.0151");
    let other = s.app.create_customer(&s.partner, json!({})).await;
    let r = s
        .app
        .signed(&other)
        .get(RES, &format!("cycle={CYCLE}"))
        .await;
    assert_eq!(r.ok()["total_count"], 0);
    let r = s
        .app
        .signed(&other)
        .post(QUERY, &json!({"cycle": CYCLE}))
        .await;
    assert_eq!(r.ok()["total_count"], 0);
    let r = s
        .app
        .send(s.app.http.get(format!("{}{RES}?cycle={CYCLE}", s.app.base)))
        .await;
    r.err(401, "APIG.0301");
}

#[tokio::test]
async fn list_customerself_resource_record_details_sums_filters_and_errors() {
    let s = scene().await;
    let c = &s.customer.id;
    // Default statistic_type 1: per usage line for the cycle.
    let d = s.details(json!({})).await;
    assert_eq!(d["total_count"], 3, "{d}");
    assert_eq!(d["currency"], "CNY");
    let per_cycle = rows(&d, "monthly_records");
    let vm = per_cycle
        .iter()
        .find(|r| {
            r["res_instance_id"] == "vm-a" && dec(&r["consume_amount"]) == Decimal::new(300, 2)
        })
        .unwrap_or_else(|| panic!("{d}"));
    assert_eq!(vm["cycle"], CYCLE);
    assert_eq!(vm["bill_type"], 5);
    assert_eq!(vm["customer_id"], c.as_str());
    assert_eq!(vm["payer_account_id"], c.as_str());
    assert_eq!(vm["region"], "cn-north-1");
    assert_eq!(vm["cloud_service_type"], ECS);
    assert_eq!(vm["resource_Type_code"], "hws.resource.type.vm");
    assert_eq!(vm["cloud_service_type_name"], "弹性云服务器");
    assert_eq!(vm["resource_name"], "name of vm-a");
    assert_eq!(vm["charge_mode"], 3, "an integer here");
    assert_eq!(vm["coupon_amount"].to_string(), "1.00");
    assert_eq!(vm["cash_amount"].to_string(), "2.00");
    assert_eq!(vm["official_amount"].to_string(), "3");
    assert_eq!(vm["discount_amount"].to_string(), "0");
    assert_eq!(vm["stored_card_amount"].to_string(), "0.00");
    assert_eq!(vm["adjustment_amount"].to_string(), "0.00");
    assert_eq!(vm["measure_id"], 1);
    for absent in [
        "id",
        "bill_date",
        "effective_time",
        "consume_time",
        "is_spot",
    ] {
        assert!(vm.get(absent).is_none(), "{absent}: {vm}");
    }
    // 2: per day, with the day.
    let day = s.details(json!({"statistic_type": 2})).await;
    assert_eq!(day["total_count"], 5);
    let per_day = rows(&day, "monthly_records");
    assert_eq!(per_day[0]["bill_date"], "2026-11-18");
    assert_eq!(per_day[4]["bill_date"], "2026-11-19");
    assert!(per_day[0].get("id").is_none());
    // 3: every record, with its id and times.
    let det = s.details(json!({"statistic_type": 3})).await;
    assert_eq!(det["total_count"], 6);
    let details = rows(&det, "monthly_records");
    let e5 = details
        .iter()
        .find(|r| r["id"] == s.fees["e5"].as_str())
        .unwrap();
    assert_eq!(e5["consume_amount"].to_string(), "1.00");
    assert_eq!(e5["enterprise_project_id"], "0");
    assert_eq!(e5["effective_time"], "2026-11-19T03:00:00Z");
    assert_eq!(e5["expire_time"], "2026-11-19T04:00:00Z");
    assert_eq!(e5["consume_time"], "2026-11-19T03:00:00Z");
    assert_eq!(e5["trade_id"], s.fees["e5"].as_str());
    assert_eq!(e5["is_spot"], "N");
    assert!(e5.get("bill_date").is_none(), "only per day");
    let res_line = |r: &Value| format!("{}|{}", r["res_instance_id"], r["cloud_service_type"]);
    for f in [
        "consume_amount",
        "cash_amount",
        "coupon_amount",
        "official_amount",
        "discount_amount",
        "debt_amount",
    ] {
        let want = sums(&details, res_line, f);
        assert_eq!(sums(&per_day, res_line, f), want, "{f}");
        assert_eq!(sums(&per_cycle, res_line, f), want, "{f}");
    }

    // Filters: absent, "" and null are no filter.
    let n = |v: &Value| v["total_count"].as_i64().unwrap();
    for empty in [json!(""), Value::Null] {
        for f in [
            "cloud_service_type",
            "resource_type",
            "region",
            "res_instance_id",
            "enterprise_project_id",
            "method",
            "query_type",
            "payer_account_id",
        ] {
            let mut b = json!({"statistic_type": 3});
            b[f] = empty.clone();
            assert_eq!(n(&s.details(b).await), 6, "{f} = {empty}");
        }
    }
    assert_eq!(
        s.total(json!({"statistic_type": 3, "cloud_service_type": OBS}))
            .await,
        2
    );
    assert_eq!(
        s.total(json!({"statistic_type": 3, "resource_type": "hws.resource.type.vm"}))
            .await,
        4
    );
    assert_eq!(
        s.total(json!({"statistic_type": 3, "region": "cn-south-1"}))
            .await,
        0
    );
    assert_eq!(
        s.total(json!({"statistic_type": 3, "res_instance_id": "vm-a"}))
            .await,
        4
    );
    assert_eq!(
        s.total(json!({"statistic_type": 1, "res_instance_id": "vm-a"}))
            .await,
        2
    );
    assert_eq!(
        s.total(json!({"statistic_type": 3, "enterprise_project_id": "0"}))
            .await,
        2
    );
    assert_eq!(
        s.total(json!({"statistic_type": 3, "charge_mode": 3}))
            .await,
        6
    );
    assert_eq!(
        s.total(json!({"statistic_type": 3, "charge_mode": 1}))
            .await,
        0
    );
    assert_eq!(
        s.total(json!({"statistic_type": 3, "charge_mode": null}))
            .await,
        6
    );
    assert_eq!(
        s.total(json!({"statistic_type": 3, "bill_type": 5})).await,
        6
    );
    assert_eq!(
        s.total(json!({"statistic_type": 3, "bill_type": 4})).await,
        0
    );
    assert_eq!(
        s.total(json!({"statistic_type": 3, "include_zero_record": false}))
            .await,
        5
    );
    assert_eq!(
        s.total(json!({"statistic_type": 3, "include_zero_record": true}))
            .await,
        6
    );
    assert_eq!(
        s.total(json!({"statistic_type": 3, "payer_account_id": c}))
            .await,
        6
    );
    assert_eq!(
        s.total(json!({"statistic_type": 3, "payer_account_id": "someone-else"}))
            .await,
        0
    );
    assert_eq!(
        s.total(json!({"statistic_type": 3, "method": "oneself"}))
            .await,
        6
    );
    assert_eq!(
        s.total(json!({"statistic_type": 3, "method": "sub_customer", "sub_customer_id": "x"}))
            .await,
        0
    );
    // DAILY: a window of UTC+8 days.
    let daily = json!({"statistic_type": 3, "query_type": "DAILY",
                       "bill_cycle_begin": "2026-11-19", "bill_cycle_end": "2026-11-19"});
    assert_eq!(s.total(daily).await, 3);
    let daily2 = json!({"statistic_type": 2, "query_type": "DAILY",
                        "bill_cycle_begin": "2026-11-18", "bill_cycle_end": "2026-11-18"});
    assert_eq!(s.total(daily2).await, 3);
    // Paging.
    let p = s
        .query(json!({"cycle": CYCLE, "statistic_type": 3, "offset": 5, "limit": 4}))
        .await;
    assert_eq!(p.ok()["total_count"], 6);
    assert_eq!(rows(&p.body, "monthly_records").len(), 1);
    let p = s.query(json!({"cycle": CYCLE, "statistic_type": 3})).await;
    assert_eq!(rows(p.ok(), "monthly_records").len(), 6, "default limit 10");

    // Errors name the field.
    for (b, field) in [
        (json!({}), "cycle"),
        (json!({"cycle": ""}), "cycle"),
        (json!({"cycle": "2026/11"}), "cycle"),
        (json!({"cycle": CYCLE, "charge_mode": 2}), "charge_mode"),
        (json!({"cycle": CYCLE, "charge_mode": "3"}), "charge_mode"),
        (json!({"cycle": CYCLE, "bill_type": 7}), "bill_type"),
        (
            json!({"cycle": CYCLE, "include_zero_record": "yes"}),
            "include_zero_record",
        ),
        (
            json!({"cycle": CYCLE, "statistic_type": 4}),
            "statistic_type",
        ),
        (
            json!({"cycle": CYCLE, "query_type": "HOURLY"}),
            "query_type",
        ),
        (
            json!({"cycle": CYCLE, "query_type": "DAILY", "bill_cycle_begin": "2026-11-18",
                "bill_cycle_end": "2026-11-19"}),
            "query_type",
        ),
        (
            json!({"cycle": CYCLE, "statistic_type": 3, "query_type": "DAILY",
                "bill_cycle_end": "2026-11-19"}),
            "bill_cycle_begin",
        ),
        (
            json!({"cycle": CYCLE, "statistic_type": 3, "query_type": "DAILY",
                "bill_cycle_begin": "2026-11-19"}),
            "bill_cycle_end",
        ),
        (
            json!({"cycle": CYCLE, "statistic_type": 3, "bill_cycle_begin": "2026-12-01"}),
            "bill_cycle_begin",
        ),
        (
            json!({"cycle": CYCLE, "statistic_type": 3, "bill_cycle_begin": "2026-11-20",
                "bill_cycle_end": "2026-11-19"}),
            "bill_cycle_begin",
        ),
        (
            json!({"cycle": CYCLE, "method": "sub_customer"}),
            "sub_customer_id",
        ),
        (
            json!({"cycle": CYCLE, "method": "sub_customer", "sub_customer_id": ""}),
            "sub_customer_id",
        ),
        (json!({"cycle": CYCLE, "method": "nobody"}), "method"),
        (json!({"cycle": CYCLE, "offset": -1}), "offset"),
        (json!({"cycle": CYCLE, "limit": 0}), "limit"),
        (json!({"cycle": CYCLE, "limit": 1001}), "limit"),
    ] {
        let r = s.query(b.clone()).await;
        r.err(400, "CBC.0100");
        assert!(r.text.contains(field), "{b}: {}", r.text);
    }
    let raw = s
        .app
        .signed(&s.customer)
        .request(
            Method::POST,
            QUERY,
            "",
            Some("[1]".into()),
            Tamper::default(),
        )
        .await;
    raw.err(400, "CBC.0100");
    // A cycle without consumption.
    let none = s.query(json!({"cycle": "2026-10"})).await;
    assert_eq!(none.ok()["total_count"], 0);
    assert_eq!(rows(&none.body, "monthly_records").len(), 0);
}
