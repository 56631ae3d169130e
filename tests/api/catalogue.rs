//! The catalogue and prices (issue 8 scope 1; 50-other.md §D): the vendor's catalogue edits and
//! products with prices, the SDK reads (paging, `X-Language`, filters) and both price inquiries
//! with every documented error code.

use std::str::FromStr;

use partner_center::domain::rating;
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::helpers::{Creds, Resp, Tamper, TestApp};

const SERVICE_TYPES: &str = "/v2/products/service-types";
const RESOURCE_TYPES: &str = "/v2/products/resource-types";
const SERVICE_RESOURCES: &str = "/v2/products/service-resources";
const USAGE_TYPES: &str = "/v2/products/usage-types";
const MEASUREMENTS: &str = "/v2/bases/measurements";
const CONVERSIONS: &str = "/v2/bases/conversions";
const ON_DEMAND: &str = "/v2/bills/ratings/on-demand-resources";
const PERIOD: &str = "/v2/bills/ratings/period-resources/subscribe-rate";

async fn get_lang(app: &TestApp, who: &Creds, path: &str, query: &str, lang: Option<&str>) -> Resp {
    let t = Tamper {
        headers: lang
            .map(|l| vec![("X-Language", l.to_string())])
            .unwrap_or_default(),
        ..Default::default()
    };
    app.signed(who)
        .request(Method::GET, path, query, None, t)
        .await
}

async fn post(app: &TestApp, who: &Creds, path: &str, body: Value) -> Resp {
    app.signed(who).post(path, &body).await
}

fn d(v: &Value) -> Decimal {
    Decimal::from_str(&v.to_string()).unwrap_or_else(|_| panic!("not a decimal: {v}"))
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn codes(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v[key].as_str().unwrap().to_string())
        .collect()
}

async fn admin_ok(app: &TestApp, method: Method, path: &str, body: Value, status: u16) -> Value {
    let r = app.admin(method, path, Some(body)).await;
    assert_eq!(r.status, status, "{}", r.text);
    r.body
}

/// An ECS flavour, an EVS disk and OBS storage/requests, priced.
async fn seed_products(app: &TestApp) {
    admin_ok(
        app,
        Method::POST,
        "/admin/v1/products",
        json!({
            "product_id": "ecs-s6-small",
            "cloud_service_type": "hws.service.type.ec2",
            "name": "s6.small.1 Linux",
            "resource_type_code": "hws.resource.type.vm",
            "resource_spec": "s6.small.1.linux",
            "on_demand_prices": [{"usage_type": "duration", "usage_measure_id": 4, "unit_price": "0.33335"}],
            "period_prices": [{"period_type": 2, "price": "12.34"}, {"period_type": 3, "price": "120.00"}]
        }),
        201,
    )
    .await;
    // The same flavour priced differently in one region.
    admin_ok(
        app,
        Method::POST,
        "/admin/v1/products",
        json!({
            "product_id": "ecs-s6-small-sh",
            "cloud_service_type": "hws.service.type.ec2",
            "name": "s6.small.1 Linux (Shanghai)",
            "resource_type_code": "hws.resource.type.vm",
            "resource_spec": "s6.small.1.linux",
            "region_code": "cn-east-3",
            "on_demand_prices": [{"usage_type": "duration", "usage_measure_id": 4, "unit_price": "0.5"}],
        }),
        201,
    )
    .await;
    admin_ok(
        app,
        Method::POST,
        "/admin/v1/products",
        json!({
            "product_id": "evs-ssd",
            "cloud_service_type": "hws.service.type.ebs",
            "name": "SSD disk",
            "resource_type_code": "hws.resource.type.volume",
            "resource_spec": "SSD",
            "on_demand_prices": [{"usage_type": "capacity", "usage_measure_id": 17, "unit_price": "0.001"}],
        }),
        201,
    )
    .await;
    admin_ok(
        app,
        Method::POST,
        "/admin/v1/products",
        json!({
            "product_id": "obs-requests",
            "cloud_service_type": "hws.service.type.obs",
            "name": "OBS requests",
            "resource_type_code": "hws.resource.type.obs.request",
            "resource_spec": "standard",
            "on_demand_prices": [{"usage_type": "obs_requests", "usage_measure_id": 16, "unit_price": "0.01"}],
        }),
        201,
    )
    .await;
}

#[tokio::test]
async fn service_types_page_filter_and_speak_both_languages() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;

    let r = get_lang(&app, &p, SERVICE_TYPES, "", None).await;
    let b = r.ok();
    assert_eq!(b["total_count"], 5);
    assert_eq!(
        codes(&b["service_types"], "service_type_code"),
        [
            "hws.service.type.ebs",
            "hws.service.type.ec2",
            "hws.service.type.obs",
            "hws.service.type.rds",
            "hws.service.type.vpc"
        ]
    );
    // Chinese by default.
    assert_eq!(b["service_types"][1]["service_type_name"], "弹性云服务器");
    assert_eq!(b["service_types"][1]["abbreviation"], "ECS");
    for lang in ["en_us", "en_US", "EN_US", "en-us"] {
        let r = get_lang(&app, &p, SERVICE_TYPES, "", Some(lang)).await;
        assert_eq!(
            r.ok()["service_types"][1]["service_type_name"],
            "Elastic Cloud Server",
            "{lang}"
        );
    }
    for lang in ["zh_cn", "zh_CN", "ZH-CN"] {
        let r = get_lang(&app, &p, SERVICE_TYPES, "", Some(lang)).await;
        assert_eq!(
            r.ok()["service_types"][1]["service_type_name"],
            "弹性云服务器"
        );
    }
    let r = get_lang(&app, &p, SERVICE_TYPES, "", Some("fr_fr")).await;
    r.err(400, "CBC.0100");
    assert!(r.msg().contains("X-Language"), "{}", r.text);

    // Paging: offset/limit, beyond the end, bad values.
    let r = get_lang(&app, &p, SERVICE_TYPES, "limit=2&offset=1", None).await;
    let b = r.ok();
    assert_eq!(b["total_count"], 5);
    assert_eq!(
        codes(&b["service_types"], "service_type_code"),
        ["hws.service.type.ec2", "hws.service.type.obs"]
    );
    let r = get_lang(&app, &p, SERVICE_TYPES, "offset=9", None).await;
    assert_eq!(r.ok()["total_count"], 5);
    assert_eq!(r.ok()["service_types"].as_array().unwrap().len(), 0);
    for q in ["limit=0", "limit=101", "limit=", "offset=-1", "offset=x"] {
        let r = get_lang(&app, &p, SERVICE_TYPES, q, None).await;
        r.err(400, "CBC.0100");
        assert!(
            r.msg().contains(q.split('=').next().unwrap()),
            "{q}: {}",
            r.text
        );
    }

    // A substring of the name in the request's language, case-insensitive.
    let r = get_lang(&app, &p, SERVICE_TYPES, "service_type_name=%E4%BA%91", None).await;
    // 云 is in 云硬盘, 弹性云服务器, 云数据库 and 虚拟私有云, not in 对象存储服务.
    let b = r.ok();
    assert_eq!(
        codes(&b["service_types"], "service_type_code"),
        [
            "hws.service.type.ebs",
            "hws.service.type.ec2",
            "hws.service.type.rds",
            "hws.service.type.vpc"
        ]
    );
    assert_eq!(b["total_count"], 4);
    let r = get_lang(
        &app,
        &p,
        SERVICE_TYPES,
        "service_type_name=STORAGE",
        Some("en_us"),
    )
    .await;
    assert_eq!(
        codes(&r.ok()["service_types"], "service_type_code"),
        ["hws.service.type.obs"]
    );
    // A LIKE wildcard is taken literally.
    let r = get_lang(&app, &p, SERVICE_TYPES, "service_type_name=%25", None).await;
    assert_eq!(r.ok()["total_count"], 0);
    // Empty ⇒ no filter; too long ⇒ CBC.0100.
    let r = get_lang(&app, &p, SERVICE_TYPES, "service_type_name=", None).await;
    assert_eq!(r.ok()["total_count"], 5);
    let long = "a".repeat(129);
    get_lang(
        &app,
        &p,
        SERVICE_TYPES,
        &format!("service_type_name={long}"),
        None,
    )
    .await
    .err(400, "CBC.0100");

    // Customers may read the catalogue too.
    let r = get_lang(&app, &c, SERVICE_TYPES, "limit=1", Some("en_US")).await;
    assert_eq!(
        r.ok()["service_types"][0]["service_type_name"],
        "Elastic Volume Service"
    );
}

#[tokio::test]
async fn resource_types_and_service_resources() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;

    let r = get_lang(&app, &p, RESOURCE_TYPES, "limit=100", None).await;
    let b = r.ok();
    assert_eq!(b["total_count"], 9);
    let vm = b["resource_types"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["resource_type_code"] == "hws.resource.type.vm")
        .unwrap();
    assert_eq!(vm["resource_type_name"], "云主机");
    assert_eq!(vm["service_type_code"], "hws.service.type.ec2");
    assert_eq!(vm["resource_type_desc"], "ECS instance");
    let r = get_lang(&app, &p, RESOURCE_TYPES, "limit=3&offset=3", Some("en_us")).await;
    let b = r.ok();
    assert_eq!(b["total_count"], 9);
    assert_eq!(b["resource_types"].as_array().unwrap().len(), 3);
    // Ordered by code, so pages do not overlap.
    let all = codes(
        &get_lang(&app, &p, RESOURCE_TYPES, "limit=100", None)
            .await
            .ok()["resource_types"],
        "resource_type_code",
    );
    assert_eq!(codes(&b["resource_types"], "resource_type_code"), all[3..6]);
    get_lang(&app, &p, RESOURCE_TYPES, "limit=abc", None)
        .await
        .err(400, "CBC.0100");

    // Service resources: the resource types of one service.
    let r = get_lang(
        &app,
        &p,
        SERVICE_RESOURCES,
        "service_type_code=hws.service.type.obs",
        Some("en_us"),
    )
    .await;
    let b = r.ok();
    assert_eq!(b["total_count"], 3);
    let infos = b["infos"].as_array().unwrap();
    assert_eq!(
        infos[0]["basic_info"]["resource_type_code"],
        "hws.resource.type.obs"
    );
    assert_eq!(
        infos[0]["basic_info"]["product_owner_service"],
        "hws.service.type.obs"
    );
    assert_eq!(infos[0]["basic_info"]["name"], "Object storage");
    assert_eq!(infos[0]["basic_info"]["description"], "OBS bucket storage");
    let r = get_lang(
        &app,
        &p,
        SERVICE_RESOURCES,
        "service_type_code=hws.service.type.obs&limit=1&offset=2",
        None,
    )
    .await;
    let b = r.ok();
    assert_eq!(b["total_count"], 3);
    assert_eq!(
        b["infos"][0]["basic_info"]["resource_type_code"],
        "hws.resource.type.obs.traffic"
    );
    assert_eq!(b["infos"][0]["basic_info"]["name"], "对象存储流量");
    let r = get_lang(
        &app,
        &p,
        SERVICE_RESOURCES,
        "service_type_code=hws.service.type.nope",
        None,
    )
    .await;
    assert_eq!(r.ok()["total_count"], 0);
    for q in [
        "",
        "service_type_code=",
        "service_type_code=hws.service.type.obs&limit=",
    ] {
        let r = get_lang(&app, &p, SERVICE_RESOURCES, q, None).await;
        r.err(400, "CBC.0100");
    }
    let r = get_lang(&app, &p, SERVICE_RESOURCES, "", None).await;
    assert!(r.msg().contains("service_type_code"), "{}", r.text);
}

#[tokio::test]
async fn usage_types_measure_units_and_conversions() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;

    let r = get_lang(&app, &p, USAGE_TYPES, "limit=100", None).await;
    let b = r.ok();
    assert_eq!(b["total_count"], 9);
    let r = get_lang(
        &app,
        &p,
        USAGE_TYPES,
        "resource_type_code=hws.resource.type.vm",
        Some("en_us"),
    )
    .await;
    let b = r.ok();
    assert_eq!(b["total_count"], 1);
    let u = &b["usage_types"][0];
    assert_eq!(u["code"], "duration");
    assert_eq!(u["name"], "Duration");
    assert_eq!(u["resource_type_code"], "hws.resource.type.vm");
    assert_eq!(u["service_type_code"], "hws.service.type.ec2");
    assert_eq!(u["resource_type_name"], "Cloud server");
    assert_eq!(u["service_type_name"], "Elastic Cloud Server");
    let r = get_lang(
        &app,
        &p,
        USAGE_TYPES,
        "resource_type_code=hws.resource.type.vm",
        None,
    )
    .await;
    let u = &r.ok()["usage_types"][0];
    assert_eq!(u["name"], "时长");
    assert_eq!(u["resource_type_name"], "云主机");
    assert_eq!(u["service_type_name"], "弹性云服务器");
    // An empty value is a filter (matches nothing); absent is none.
    let r = get_lang(&app, &p, USAGE_TYPES, "resource_type_code=", None).await;
    assert_eq!(r.ok()["total_count"], 0);
    let r = get_lang(&app, &p, USAGE_TYPES, "limit=2&offset=8", None).await;
    assert_eq!(r.ok()["total_count"], 9);
    assert_eq!(r.ok()["usage_types"].as_array().unwrap().len(), 1);
    get_lang(&app, &p, USAGE_TYPES, "offset=", None)
        .await
        .err(400, "CBC.0100");

    // Measure units: every unit, names by language.
    let r = get_lang(&app, &p, MEASUREMENTS, "", None).await;
    let units = r.ok()["measure_units"].as_array().unwrap().clone();
    assert_eq!(units.len(), 16);
    assert_eq!(
        units[0],
        json!({"measure_id": 1, "measure_name": "元", "abbreviation": "CNY", "measure_type": 1})
    );
    let hour = units.iter().find(|u| u["measure_id"] == 4).unwrap();
    assert_eq!(hour["measure_name"], "小时");
    assert_eq!(hour["measure_type"], 2);
    let r = get_lang(&app, &p, MEASUREMENTS, "", Some("en_us")).await;
    let hour = r.ok()["measure_units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["measure_id"] == 4)
        .unwrap()
        .clone();
    assert_eq!(hour["measure_name"], "hour");
    get_lang(&app, &p, MEASUREMENTS, "", Some("xx"))
        .await
        .err(400, "CBC.0100");

    // Conversions: all, or of one measure type.
    let r = get_lang(&app, &p, CONVERSIONS, "", None).await;
    assert_eq!(r.ok()["conversions"].as_array().unwrap().len(), 11);
    let r = get_lang(&app, &p, CONVERSIONS, "measure_type=2", None).await;
    let conv = r.ok()["conversions"].as_array().unwrap().clone();
    assert_eq!(conv.len(), 3);
    assert!(conv.contains(
        &json!({"measure_id": 4, "ref_measure_id": 6, "conversion_ratio": 60, "measure_type": 2})
    ));
    assert!(conv.iter().all(|c| c["measure_type"] == 2));
    let r = get_lang(&app, &p, CONVERSIONS, "measure_type=99", None).await;
    assert_eq!(r.ok()["conversions"].as_array().unwrap().len(), 0);
    for q in ["measure_type=", "measure_type=abc"] {
        let r = get_lang(&app, &p, CONVERSIONS, q, None).await;
        r.err(400, "CBC.0100");
        assert!(r.msg().contains("measure_type"), "{}", r.text);
    }
}

#[tokio::test]
async fn the_vendor_edits_the_catalogue_and_the_sdk_reads_see_it() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;

    // Service type.
    let st = json!({"service_type_code": "hws.service.type.dcs", "name_zh": "分布式缓存服务",
                    "name_en": "Distributed Cache Service", "abbreviation": "DCS"});
    let b = admin_ok(
        &app,
        Method::POST,
        "/admin/v1/service-types",
        st.clone(),
        201,
    )
    .await;
    assert_eq!(b, st);
    app.admin(Method::POST, "/admin/v1/service-types", Some(st.clone()))
        .await
        .err(400, "CBC.0101");
    let r = app
        .admin(Method::POST, "/admin/v1/service-types", Some(json!({"service_type_code": "x y", "name_zh": "a", "name_en": "b", "abbreviation": "c"})))
        .await;
    r.err(400, "CBC.0100");
    assert!(r.msg().contains("service_type_code"), "{}", r.text);
    let r = app
        .admin(
            Method::POST,
            "/admin/v1/service-types",
            Some(json!({"service_type_code": "x", "name_zh": "a", "name_en": "b"})),
        )
        .await;
    r.err(400, "CBC.0100");
    assert!(r.msg().contains("abbreviation"), "{}", r.text);
    admin_ok(
        &app,
        Method::PUT,
        "/admin/v1/service-types/hws.service.type.dcs",
        json!({"name_zh": "分布式缓存", "name_en": "Distributed Cache", "abbreviation": "DCS"}),
        200,
    )
    .await;
    let r = app
        .admin(
            Method::PUT,
            "/admin/v1/service-types/hws.service.type.none",
            Some(json!({"name_zh": "a", "name_en": "b", "abbreviation": "c"})),
        )
        .await;
    r.err(400, "CBC.0100");
    assert!(r.msg().contains("service_type_code"), "{}", r.text);
    let r = get_lang(
        &app,
        &p,
        SERVICE_TYPES,
        "service_type_name=cache",
        Some("en_us"),
    )
    .await;
    assert_eq!(
        r.ok()["service_types"],
        json!([{"service_type_name": "Distributed Cache", "service_type_code": "hws.service.type.dcs", "abbreviation": "DCS"}])
    );
    let list = app
        .admin(Method::GET, "/admin/v1/service-types?limit=100", None)
        .await;
    assert_eq!(list.ok()["total_count"], 6);

    // Resource type (of a known service type, which it keeps).
    let rt = json!({"resource_type_code": "hws.resource.type.dcs", "service_type_code": "hws.service.type.dcs",
                    "name_zh": "缓存实例", "name_en": "Cache instance", "description": "DCS instance"});
    admin_ok(
        &app,
        Method::POST,
        "/admin/v1/resource-types",
        rt.clone(),
        201,
    )
    .await;
    app.admin(Method::POST, "/admin/v1/resource-types", Some(rt))
        .await
        .err(400, "CBC.0101");
    let r = app
        .admin(Method::POST, "/admin/v1/resource-types", Some(json!({"resource_type_code": "hws.resource.type.x", "service_type_code": "hws.service.type.none", "name_zh": "a", "name_en": "b"})))
        .await;
    r.err(400, "CBC.0100");
    assert!(r.msg().contains("service_type_code"), "{}", r.text);
    let r = app
        .admin(Method::PUT, "/admin/v1/resource-types/hws.resource.type.dcs", Some(json!({"service_type_code": "hws.service.type.ec2", "name_zh": "a", "name_en": "b"})))
        .await;
    r.err(400, "CBC.0100");
    admin_ok(
        &app,
        Method::PUT,
        "/admin/v1/resource-types/hws.resource.type.dcs",
        json!({"service_type_code": "hws.service.type.dcs", "name_zh": "缓存", "name_en": "Cache", "description": "Redis"}),
        200,
    )
    .await;
    let r = get_lang(
        &app,
        &p,
        SERVICE_RESOURCES,
        "service_type_code=hws.service.type.dcs",
        Some("en_us"),
    )
    .await;
    assert_eq!(
        r.ok()["infos"],
        json!([{"basic_info": {"resource_type_code": "hws.resource.type.dcs", "product_owner_service": "hws.service.type.dcs", "name": "Cache", "description": "Redis"}}])
    );
    assert_eq!(
        app.admin(Method::GET, "/admin/v1/resource-types?limit=100", None)
            .await
            .ok()["total_count"],
        10
    );

    // Measure unit and conversion.
    let mu = json!({"measure_id": 30, "name_zh": "GB·天", "name_en": "GB-day", "abbreviation": "GB*d", "measure_type": 5});
    admin_ok(
        &app,
        Method::POST,
        "/admin/v1/measure-units",
        mu.clone(),
        201,
    )
    .await;
    app.admin(Method::POST, "/admin/v1/measure-units", Some(mu))
        .await
        .err(400, "CBC.0101");
    let b = admin_ok(
        &app,
        Method::PUT,
        "/admin/v1/measure-units/30",
        json!({"name_zh": "GB·日", "name_en": "GB-day", "abbreviation": "GB*d"}),
        200,
    )
    .await;
    assert_eq!(b["measure_type"], 5, "the type is kept");
    app.admin(
        Method::PUT,
        "/admin/v1/measure-units/999",
        Some(json!({"name_zh": "a", "name_en": "b", "abbreviation": "c"})),
    )
    .await
    .err(400, "CBC.0100");
    let b = admin_ok(
        &app,
        Method::POST,
        "/admin/v1/conversions",
        json!({"measure_id": 30, "ref_measure_id": 17, "conversion_ratio": 24}),
        201,
    )
    .await;
    assert_eq!(b["measure_type"], 5);
    // Bad conversions: across types, to itself, zero ratio, unknown unit, a second path.
    for (body, field) in [
        (
            json!({"measure_id": 30, "ref_measure_id": 4, "conversion_ratio": 2}),
            "ref_measure_id",
        ),
        (
            json!({"measure_id": 30, "ref_measure_id": 30, "conversion_ratio": 2}),
            "ref_measure_id",
        ),
        (
            json!({"measure_id": 30, "ref_measure_id": 18, "conversion_ratio": 0}),
            "conversion_ratio",
        ),
        (
            json!({"measure_id": 77, "ref_measure_id": 18, "conversion_ratio": 2}),
            "measure_id",
        ),
        (
            json!({"measure_id": 30, "ref_measure_id": 18, "conversion_ratio": 24576}),
            "ref_measure_id",
        ),
    ] {
        let r = app
            .admin(Method::POST, "/admin/v1/conversions", Some(body.clone()))
            .await;
        r.err(400, "CBC.0100");
        assert!(r.msg().contains(field), "{body}: {}", r.text);
    }
    app.admin(
        Method::POST,
        "/admin/v1/conversions",
        Some(json!({"measure_id": 30, "ref_measure_id": 17, "conversion_ratio": 24})),
    )
    .await
    .err(400, "CBC.0101");
    admin_ok(
        &app,
        Method::PUT,
        "/admin/v1/conversions/30/17",
        json!({"conversion_ratio": 24}),
        200,
    )
    .await;
    app.admin(
        Method::PUT,
        "/admin/v1/conversions/17/30",
        Some(json!({"conversion_ratio": 24})),
    )
    .await
    .err(400, "CBC.0100");
    let r = get_lang(&app, &p, CONVERSIONS, "measure_type=5", None).await;
    assert_eq!(r.ok()["conversions"].as_array().unwrap().len(), 2);
    let r = get_lang(&app, &p, MEASUREMENTS, "", None).await;
    assert!(r.ok()["measure_units"].as_array().unwrap().contains(
        &json!({"measure_id": 30, "measure_name": "GB·日", "abbreviation": "GB*d", "measure_type": 5})
    ));
    assert_eq!(
        app.admin(Method::GET, "/admin/v1/conversions", None)
            .await
            .ok()["conversions"]
            .as_array()
            .unwrap()
            .len(),
        12
    );
    assert_eq!(
        app.admin(Method::GET, "/admin/v1/measure-units", None)
            .await
            .ok()["measure_units"]
            .as_array()
            .unwrap()
            .len(),
        17
    );

    // Usage type.
    let ut = json!({"usage_type_code": "dcs_duration", "resource_type_code": "hws.resource.type.dcs",
                    "name_zh": "时长", "name_en": "Duration", "measure_id": 4});
    let b = admin_ok(&app, Method::POST, "/admin/v1/usage-types", ut.clone(), 201).await;
    assert_eq!(b["service_type_code"], "hws.service.type.dcs");
    assert_eq!(b["measure_type"], 2);
    app.admin(Method::POST, "/admin/v1/usage-types", Some(ut))
        .await
        .err(400, "CBC.0101");
    for (body, field) in [
        (
            json!({"usage_type_code": "u2", "resource_type_code": "hws.resource.type.none", "name_zh": "a", "name_en": "b", "measure_id": 4}),
            "resource_type_code",
        ),
        (
            json!({"usage_type_code": "u2", "resource_type_code": "hws.resource.type.dcs", "name_zh": "a", "name_en": "b", "measure_id": 999}),
            "measure_id",
        ),
        (
            json!({"usage_type_code": "", "resource_type_code": "hws.resource.type.dcs", "name_zh": "a", "name_en": "b", "measure_id": 4}),
            "usage_type_code",
        ),
        (
            json!({"usage_type_code": "u2", "resource_type_code": "hws.resource.type.dcs", "name_zh": "a", "name_en": "b", "measure_id": "4"}),
            "measure_id",
        ),
    ] {
        let r = app
            .admin(Method::POST, "/admin/v1/usage-types", Some(body.clone()))
            .await;
        r.err(400, "CBC.0100");
        assert!(r.msg().contains(field), "{body}: {}", r.text);
    }
    let r = get_lang(
        &app,
        &p,
        USAGE_TYPES,
        "resource_type_code=hws.resource.type.dcs",
        Some("en_us"),
    )
    .await;
    assert_eq!(
        r.ok()["usage_types"],
        json!([{"code": "dcs_duration", "name": "Duration", "resource_type_code": "hws.resource.type.dcs",
                "service_type_code": "hws.service.type.dcs", "resource_type_name": "Cache",
                "service_type_name": "Distributed Cache"}])
    );
    // A priced usage type keeps a unit its prices convert to.
    admin_ok(
        &app,
        Method::POST,
        "/admin/v1/products",
        json!({"product_id": "dcs-1", "cloud_service_type": "hws.service.type.dcs", "name": "DCS 1G",
               "resource_type_code": "hws.resource.type.dcs", "resource_spec": "redis.1g",
               "on_demand_prices": [{"usage_type": "dcs_duration", "usage_measure_id": 6, "unit_price": "0.001"}]}),
        201,
    )
    .await;
    let r = app
        .admin(Method::PUT, "/admin/v1/usage-types/dcs_duration", Some(json!({"resource_type_code": "hws.resource.type.dcs", "name_zh": "时长", "name_en": "Duration", "measure_id": 10})))
        .await;
    r.err(400, "CBC.0100");
    assert!(r.msg().contains("measure_id"), "{}", r.text);
    let b = admin_ok(
        &app,
        Method::PUT,
        "/admin/v1/usage-types/dcs_duration",
        json!({"resource_type_code": "hws.resource.type.dcs", "name_zh": "使用时长", "name_en": "Usage duration", "measure_id": 7}),
        200,
    )
    .await;
    assert_eq!(b["measure_id"], 7);
    app.admin(Method::PUT, "/admin/v1/usage-types/none", Some(json!({"resource_type_code": "hws.resource.type.dcs", "name_zh": "a", "name_en": "b", "measure_id": 4})))
        .await
        .err(400, "CBC.0100");
    let list = app
        .admin(Method::GET, "/admin/v1/usage-types?limit=100", None)
        .await;
    assert_eq!(list.ok()["total_count"], 10);

    // The admin API needs the admin token.
    let r = app
        .send(app.http.get(format!("{}/admin/v1/service-types", app.base)))
        .await;
    assert_eq!(r.status, 401, "{}", r.text);
}

#[tokio::test]
async fn products_carry_prices_and_old_callers_still_work() {
    let app = TestApp::spawn().await;
    // The old three-field call.
    let b = admin_ok(
        &app,
        Method::POST,
        "/admin/v1/products",
        json!({"product_id": "plain", "cloud_service_type": "hws.service.type.ec2", "name": "Plain"}),
        201,
    )
    .await;
    assert_eq!(b["product_id"], "plain");
    assert_eq!(b["cloud_service_type"], "hws.service.type.ec2");
    assert_eq!(b["on_demand_prices"], json!([]));
    assert!(b["created_at"].as_str().unwrap().ends_with('Z'));
    seed_products(&app).await;

    let r = app
        .admin(Method::GET, "/admin/v1/products/ecs-s6-small", None)
        .await;
    let b = r.ok();
    assert_eq!(b["resource_type_code"], "hws.resource.type.vm");
    assert_eq!(b["resource_spec"], "s6.small.1.linux");
    assert_eq!(b["region_code"], Value::Null);
    assert_eq!(
        b["on_demand_prices"],
        json!([{"usage_type": "duration", "usage_measure_id": 4, "unit_price": "0.33335"}])
    );
    assert_eq!(
        b["period_prices"],
        json!([{"period_type": 2, "price": "12.34"}, {"period_type": 3, "price": "120.00"}])
    );
    let r = app
        .admin(Method::GET, "/admin/v1/products/none", None)
        .await;
    r.err(400, "CBC.0100");
    assert!(r.msg().contains("product_id"), "{}", r.text);
    let list = app
        .admin(Method::GET, "/admin/v1/products?limit=2", None)
        .await;
    assert_eq!(list.ok()["total_count"], 5);
    assert_eq!(
        codes(&list.ok()["products"], "product_id"),
        ["ecs-s6-small", "ecs-s6-small-sh"]
    );

    // Every validation error names its field.
    let base = json!({"product_id": "bad", "cloud_service_type": "hws.service.type.ec2", "name": "Bad",
                      "resource_type_code": "hws.resource.type.vm", "resource_spec": "bad.spec"});
    let with = |extra: Value| {
        let mut b = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let price = |u: &str, m: i64, p: Value| json!({"on_demand_prices": [{"usage_type": u, "usage_measure_id": m, "unit_price": p}]});
    for (body, field) in [
        (
            price("duration", 4, json!(0.5)),
            "on_demand_prices[0].unit_price",
        ),
        (
            price("duration", 4, json!("0.123456789")),
            "on_demand_prices[0].unit_price",
        ),
        (
            price("duration", 4, json!("-1")),
            "on_demand_prices[0].unit_price",
        ),
        (
            price("duration", 4, json!("1e3")),
            "on_demand_prices[0].unit_price",
        ),
        (
            price("duration", 4, json!("")),
            "on_demand_prices[0].unit_price",
        ),
        (
            price("duration", 4, json!("1000000000000")),
            "on_demand_prices[0].unit_price",
        ),
        (
            price("capacity", 17, json!("1")),
            "on_demand_prices[0].usage_type",
        ),
        (
            price("nope", 4, json!("1")),
            "on_demand_prices[0].usage_type",
        ),
        (
            price("duration", 10, json!("1")),
            "on_demand_prices[0].usage_measure_id",
        ),
        (
            price("duration", 999, json!("1")),
            "on_demand_prices[0].usage_measure_id",
        ),
        (
            json!({"on_demand_prices": [
                {"usage_type": "duration", "usage_measure_id": 4, "unit_price": "1"},
                {"usage_type": "duration", "usage_measure_id": 6, "unit_price": "1"}]}),
            "on_demand_prices[1].usage_type",
        ),
        (
            json!({"period_prices": [{"period_type": 4, "price": "1"}]}),
            "period_prices[0].period_type",
        ),
        (
            json!({"period_prices": [{"period_type": 2, "price": "1.234"}]}),
            "period_prices[0].price",
        ),
        (
            json!({"period_prices": [{"period_type": 2, "price": 1}]}),
            "period_prices[0].price",
        ),
        (
            json!({"period_prices": [{"period_type": 2, "price": "1"}, {"period_type": 2, "price": "2"}]}),
            "period_prices[1].period_type",
        ),
        (
            json!({"resource_type_code": "hws.resource.type.volume"}),
            "resource_type_code",
        ),
        (
            json!({"resource_type_code": "hws.resource.type.none"}),
            "resource_type_code",
        ),
        (json!({"resource_spec": ""}), "resource_spec"),
        (json!({"region_code": "a b"}), "region_code"),
        (json!({"name": " "}), "name"),
        // Same service type, resource type, spec and region as ecs-s6-small.
        (
            json!({"resource_spec": "s6.small.1.linux"}),
            "resource_spec",
        ),
    ] {
        let r = app
            .admin(Method::POST, "/admin/v1/products", Some(with(body.clone())))
            .await;
        r.err(400, "CBC.0100");
        assert!(r.msg().contains(field), "{body}: {}", r.text);
    }
    // Prices need a resource type.
    let r = app
        .admin(
            Method::POST,
            "/admin/v1/products",
            Some(json!({"product_id": "x", "cloud_service_type": "hws.service.type.ec2", "name": "X",
                        "on_demand_prices": [{"usage_type": "duration", "usage_measure_id": 4, "unit_price": "1"}]})),
        )
        .await;
    r.err(400, "CBC.0100");
    assert!(r.msg().contains("on_demand_prices"), "{}", r.text);
    // Nothing of the refused calls was stored.
    assert_eq!(
        app.admin(Method::GET, "/admin/v1/products", None)
            .await
            .ok()["total_count"],
        5
    );

    // PUT replaces the given price lists and keeps the others.
    let b = admin_ok(
        &app,
        Method::PUT,
        "/admin/v1/products/ecs-s6-small",
        json!({"cloud_service_type": "hws.service.type.ec2", "name": "s6.small.1 Linux v2",
               "resource_type_code": "hws.resource.type.vm", "resource_spec": "s6.small.1.linux",
               "on_demand_prices": [{"usage_type": "duration", "usage_measure_id": 6, "unit_price": "0.00600000"}]}),
        200,
    )
    .await;
    assert_eq!(b["name"], "s6.small.1 Linux v2");
    assert_eq!(
        b["on_demand_prices"],
        json!([{"usage_type": "duration", "usage_measure_id": 6, "unit_price": "0.006"}])
    );
    assert_eq!(b["period_prices"].as_array().unwrap().len(), 2);
    // Moving to a resource type its kept prices do not belong to is refused.
    let r = app
        .admin(
            Method::PUT,
            "/admin/v1/products/ecs-s6-small",
            Some(
                json!({"cloud_service_type": "hws.service.type.ebs", "name": "x",
                        "resource_type_code": "hws.resource.type.volume", "resource_spec": "x"}),
            ),
        )
        .await;
    r.err(400, "CBC.0100");
    app.admin(
        Method::PUT,
        "/admin/v1/products/none",
        Some(json!({"cloud_service_type": "hws.service.type.ec2", "name": "x"})),
    )
    .await
    .err(400, "CBC.0100");
}

fn demand(
    id: &str,
    rtype: &str,
    spec: &str,
    region: &str,
    factor: &str,
    value: Value,
    measure: i64,
) -> Value {
    let service = match rtype {
        "hws.resource.type.vm" => "hws.service.type.ec2",
        "hws.resource.type.volume" => "hws.service.type.ebs",
        _ => "hws.service.type.obs",
    };
    json!({"id": id, "cloud_service_type": service, "resource_type": rtype, "resource_spec": spec,
           "region": region, "usage_factor": factor, "usage_value": value,
           "usage_measure_id": measure, "subscription_num": 1})
}

fn vm(id: &str, value: Value, measure: i64) -> Value {
    demand(
        id,
        "hws.resource.type.vm",
        "s6.small.1.linux",
        "cn-north-4",
        "Duration",
        value,
        measure,
    )
}

#[tokio::test]
async fn on_demand_inquiries_rate_like_usage_is_charged() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    seed_products(&app).await;

    // 0.1 hour at 0.33335: official 0.033335 exactly (a charge pays 0.03 and erases 0.003335).
    let r = post(
        &app,
        &p,
        ON_DEMAND,
        json!({"project_id": p.id, "product_infos": [vm("a", json!(0.1), 4)]}),
    )
    .await;
    let b = r.ok().clone();
    let res = &b["product_rating_results"][0];
    assert_eq!(res["id"], "a");
    assert_eq!(res["product_id"], "ecs-s6-small");
    assert_eq!(d(&res["official_website_amount"]), dec("0.033335"));
    assert_eq!(d(&res["amount"]), dec("0.033335"));
    assert_eq!(d(&res["discount_amount"]), Decimal::ZERO);
    assert_eq!(res["measure_id"], 1);
    assert_eq!(res["discount_rating_results"], json!([]));
    assert_eq!(b["currency"], "CNY");
    assert_eq!(b["measure_id"], 1);
    assert_eq!(d(&b["amount"]), dec("0.033335"));
    let rated = rating::rate(dec("0.1"), 4, 4, dec("0.33335"), &[], None).unwrap();
    assert_eq!(d(&res["official_website_amount"]), rated.official_amount);
    assert_eq!(
        (rated.payable_fen, rated.erase_amount),
        (3, dec("0.003335"))
    );

    // Several products, unit conversions, subscription_num, the regional price, totals.
    let mut minutes = vm("minutes", json!(90), 6);
    minutes["subscription_num"] = json!(2);
    let mut sh = vm("sh", json!(2), 4);
    sh["region"] = json!("cn-east-3");
    let r = post(&app, &c, ON_DEMAND,
        json!({"project_id": c.id, "product_infos": [
            minutes,
            sh,
            demand("disk", "hws.resource.type.volume", "SSD", "cn-north-4", "capacity", json!(2048), 18),
            demand("req", "hws.resource.type.obs.request", "standard", "cn-north-4", "OBS_REQUESTS", json!(25000), 15),
        ]}),
    )
    .await;
    let b = r.ok();
    let results = b["product_rating_results"].as_array().unwrap();
    let amounts: Vec<(String, String, Decimal)> = results
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r["product_id"].as_str().unwrap().to_string(),
                d(&r["amount"]),
            )
        })
        .collect();
    assert_eq!(
        amounts,
        [
            // 2 × 90 minutes = 3 hours × 0.33335
            ("minutes".into(), "ecs-s6-small".into(), dec("1.00005")),
            // the cn-east-3 product: 2 hours × 0.5
            ("sh".into(), "ecs-s6-small-sh".into(), dec("1")),
            // 2048 MB·h = 2 GB·h × 0.001
            ("disk".into(), "evs-ssd".into(), dec("0.002")),
            // 25,000 requests = 2.5 × 10k × 0.01
            ("req".into(), "obs-requests".into(), dec("0.025")),
        ]
    );
    assert_eq!(d(&b["official_website_amount"]), dec("2.027050"));
    assert_eq!(d(&b["amount"]), dec("2.02705"));

    // Precision: 6 decimals by default, 10 with inquiry_precision 1 (truncated).
    let r = post(
        &app,
        &p,
        ON_DEMAND,
        json!({"project_id": p.id, "product_infos": [vm("m", json!(1), 6)]}),
    )
    .await;
    assert_eq!(d(&r.ok()["amount"]), dec("0.005555"));
    let r = post(&app, &p, ON_DEMAND, json!({"project_id": p.id, "inquiry_precision": 0, "product_infos": [vm("m", json!(1), 6)]})).await;
    assert_eq!(d(&r.ok()["amount"]), dec("0.005555"));
    let r = post(&app, &p, ON_DEMAND, json!({"project_id": p.id, "inquiry_precision": 1, "product_infos": [vm("m", json!(1), 6)]})).await;
    assert_eq!(d(&r.ok()["amount"]), dec("0.0055558333"));
    let r = post(&app, &p, ON_DEMAND, json!({"project_id": p.id, "inquiry_precision": 2, "product_infos": [vm("m", json!(1), 6)]})).await;
    r.err(400, "CBC.0100");
    assert!(r.msg().contains("inquiry_precision"), "{}", r.text);
}

#[tokio::test]
async fn on_demand_inquiry_errors() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    seed_products(&app).await;
    let ask = |body: Value| {
        let s = app.signed(&p);
        async move { s.post(ON_DEMAND, &body).await }
    };
    let with = |info: Value| json!({"project_id": p.id, "product_infos": [info]});

    // CBC.99006006: no such product (spec, resource type, region-less fallback), no price for the
    // usage factor.
    for info in [
        vm("a", json!(1), 4)
            .as_object()
            .cloned()
            .map(|mut o| {
                o.insert("resource_spec".into(), json!("s6.huge.linux"));
                Value::Object(o)
            })
            .unwrap(),
        demand(
            "a",
            "hws.resource.type.volume",
            "s6.small.1.linux",
            "cn-north-4",
            "capacity",
            json!(1),
            17,
        ),
        demand(
            "a",
            "hws.resource.type.vm",
            "s6.small.1.linux",
            "cn-north-4",
            "capacity",
            json!(1),
            17,
        ),
        demand(
            "a",
            "hws.resource.type.vm",
            "s6.small.1.linux",
            "cn-north-4",
            "nope",
            json!(1),
            4,
        ),
    ] {
        let r = ask(with(info.clone())).await;
        r.err(400, "CBC.99006006");
    }
    // CBC.99006050: a unit that does not convert to the price's unit (or no unit at all).
    for m in [10, 17, 999] {
        ask(with(vm("a", json!(1), m)))
            .await
            .err(400, "CBC.99006050");
    }
    // CBC.30050012: duplicate ids.
    let r = ask(
        json!({"project_id": p.id, "product_infos": [vm("a", json!(1), 4), vm("a", json!(2), 4)]}),
    )
    .await;
    r.err(400, "CBC.30050012");
    // CBC.99006073: not the caller's project (another account's id is not it either).
    ask(json!({"project_id": "0123456789abcdef", "product_infos": [vm("a", json!(1), 4)]}))
        .await
        .err(400, "CBC.99006073");
    ask(json!({"project_id": c.id, "product_infos": [vm("a", json!(1), 4)]}))
        .await
        .err(400, "CBC.99006073");
    // CBC.99006055: above the maximum amount.
    let mut big = vm("a", json!(1000000000000u64), 4);
    big["subscription_num"] = json!(100);
    ask(with(big)).await.err(400, "CBC.99006055");
    // CBC.0100 naming the field.
    let mut fields: Vec<(Value, &str)> = Vec::new();
    for f in [
        "id",
        "cloud_service_type",
        "resource_type",
        "resource_spec",
        "region",
        "usage_factor",
        "usage_value",
        "usage_measure_id",
        "subscription_num",
    ] {
        let mut info = vm("a", json!(1), 4);
        info.as_object_mut().unwrap().remove(f);
        fields.push((with(info), f));
    }
    fields.push((with(vm("a", json!(-1), 4)), "usage_value"));
    let mut zero = vm("a", json!(1), 4);
    zero["subscription_num"] = json!(0);
    fields.push((with(zero), "subscription_num"));
    let mut empty_id = vm("a", json!(1), 4);
    empty_id["id"] = json!("");
    fields.push((with(empty_id), "product_infos[0].id"));
    fields.push((
        json!({"product_infos": [vm("a", json!(1), 4)]}),
        "project_id",
    ));
    fields.push((json!({"project_id": p.id}), "product_infos"));
    fields.push((
        json!({"project_id": p.id, "product_infos": []}),
        "product_infos",
    ));
    let many: Vec<Value> = (0..101)
        .map(|i| vm(&format!("i{i}"), json!(1), 4))
        .collect();
    fields.push((
        json!({"project_id": p.id, "product_infos": many}),
        "product_infos",
    ));
    for (body, field) in fields {
        let r = ask(body).await;
        r.err(400, "CBC.0100");
        assert!(r.msg().contains(field), "{field}: {}", r.text);
    }
}

fn period(id: &str, period_type: i64, num: i64, subs: i64) -> Value {
    json!({"id": id, "cloud_service_type": "hws.service.type.ec2", "resource_type": "hws.resource.type.vm",
           "resource_spec": "s6.small.1.linux", "region": "cn-north-4", "period_type": period_type,
           "period_num": num, "subscription_num": subs})
}

#[tokio::test]
async fn period_inquiries_and_their_errors() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    seed_products(&app).await;

    // 3 months × 2 at 12.34, and 1 year at 120.00.
    let r = post(
        &app,
        &c,
        PERIOD,
        json!({"project_id": c.id, "product_infos": [period("m", 2, 3, 2), period("y", 3, 1, 1)]}),
    )
    .await;
    let b = r.ok();
    let o = &b["official_website_rating_result"];
    assert_eq!(d(&o["official_website_amount"]), dec("194.04"));
    assert_eq!(o["official_website_amount"].to_string(), "194.04");
    assert_eq!(o["measure_id"], 1);
    let results: Vec<(String, String, Decimal, i64)> = o["product_rating_results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().into(),
                r["product_id"].as_str().unwrap().into(),
                d(&r["official_website_amount"]),
                r["measure_id"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        results,
        [
            ("m".into(), "ecs-s6-small".into(), dec("74.04"), 1),
            ("y".into(), "ecs-s6-small".into(), dec("120"), 1)
        ]
    );
    assert_eq!(b["optional_discount_rating_results"], json!([]));
    assert_eq!(b["currency"], "CNY");
    let mut na = period("n", 2, 1, 1);
    na["fee_installment_mode"] = json!("NA");
    let r = post(
        &app,
        &p,
        PERIOD,
        json!({"project_id": p.id, "product_infos": [na]}),
    )
    .await;
    assert_eq!(
        d(&r.ok()["official_website_rating_result"]["official_website_amount"]),
        dec("12.34")
    );

    // Errors.
    let with = |info: Value| json!({"project_id": p.id, "product_infos": [info]});
    // No day/hour price; the Shanghai product has no period prices; no such spec.
    post(&app, &p, PERIOD, with(period("a", 0, 1, 1)))
        .await
        .err(400, "CBC.99006006");
    let mut sh = period("a", 2, 1, 1);
    sh["region"] = json!("cn-east-3");
    post(&app, &p, PERIOD, with(sh))
        .await
        .err(400, "CBC.99006006");
    let mut spec = period("a", 2, 1, 1);
    spec["resource_spec"] = json!("nope");
    post(&app, &p, PERIOD, with(spec))
        .await
        .err(400, "CBC.99006006");
    post(
        &app,
        &p,
        PERIOD,
        json!({"project_id": p.id, "product_infos": [period("a", 2, 1, 1), period("a", 3, 1, 1)]}),
    )
    .await
    .err(400, "CBC.30050012");
    post(
        &app,
        &p,
        PERIOD,
        json!({"project_id": "other", "product_infos": [period("a", 2, 1, 1)]}),
    )
    .await
    .err(400, "CBC.99006073");
    post(
        &app,
        &p,
        PERIOD,
        with(period("a", 3, 2147483647, 2147483647)),
    )
    .await
    .err(400, "CBC.99006055");
    let mut half = period("a", 2, 1, 1);
    half["fee_installment_mode"] = json!("HALF_PAY");
    let mut bad_mode = period("a", 2, 1, 1);
    bad_mode["fee_installment_mode"] = json!("SOMETIMES");
    let mut no_type = period("a", 2, 1, 1);
    no_type.as_object_mut().unwrap().remove("period_type");
    for (body, field) in [
        (with(period("a", 1, 1, 1)), "period_type"),
        (with(no_type), "period_type"),
        (with(period("a", 2, 0, 1)), "period_num"),
        (with(period("a", 2, 1, 0)), "subscription_num"),
        (with(half), "fee_installment_mode"),
        (with(bad_mode), "fee_installment_mode"),
        (
            json!({"project_id": p.id, "product_infos": []}),
            "product_infos",
        ),
        (
            json!({"product_infos": [period("a", 2, 1, 1)]}),
            "project_id",
        ),
    ] {
        let r = post(&app, &p, PERIOD, body).await;
        r.err(400, "CBC.0100");
        assert!(r.msg().contains(field), "{field}: {}", r.text);
    }
}
