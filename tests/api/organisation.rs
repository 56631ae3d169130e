//! A partner's organisation: operators with roles of permission items, customer managers and
//! supervisors.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{Creds, TestApp};

const LIST: &str = "/v2/partners/sub-customers/query";

pub(crate) async fn role(app: &TestApp, partner: &Creds, name: &str, items: &[&str]) -> i64 {
    let r = app
        .signed(partner)
        .post(
            "/v2/partners/roles",
            &json!({"name": name, "permissions": items}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["role_id"].as_i64().unwrap()
}

pub(crate) async fn operator(app: &TestApp, partner: &Creds, body: Value) -> Creds {
    let login = format!("op{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let mut b = json!({"login_name": login, "password": "Operat0r!pw"});
    for (k, v) in body.as_object().unwrap() {
        b[k] = v.clone();
    }
    let r = app.signed(partner).post("/v2/partners/operators", &b).await;
    assert_eq!(r.status, 201, "{}", r.text);
    Creds {
        // Operators sign with their own keys and act in their partner's domain.
        id: partner.id.clone(),
        ak: r.body["access_key"].as_str().unwrap().into(),
        sk: r.body["secret_key"].as_str().unwrap().into(),
        login,
        password: "Operat0r!pw".into(),
        xaccount_type: partner.xaccount_type.clone(),
    }
}

pub(crate) async fn operator_id(app: &TestApp, partner: &Creds, op: &Creds) -> String {
    let r = app.signed(partner).get("/v2/partners/operators", "").await;
    r.ok()["operators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["login_name"] == op.login.as_str())
        .unwrap()["operator_id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn visible(app: &TestApp, who: &Creds) -> Vec<String> {
    let r = app.signed(who).post(LIST, &json!({"limit": 100})).await;
    let mut ids: Vec<String> = r.ok()["customer_infos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["customer_id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    assert_eq!(r.body["count"], ids.len());
    ids
}

fn sorted(mut v: Vec<&str>) -> Vec<String> {
    v.sort();
    v.into_iter().map(String::from).collect()
}

pub(crate) async fn assign(
    app: &TestApp,
    who: &Creds,
    customer: &Creds,
    manager: Option<&str>,
) -> crate::helpers::Resp {
    app.signed(who)
        .post(
            "/v2/partners/sub-customers/assignments",
            &json!({"customer_id": customer.id, "manager_id": manager}),
        )
        .await
}

#[tokio::test]
async fn an_operator_may_only_call_what_its_role_allows() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    let viewer = role(&app, &p, "viewer", &["customer:read"]).await;
    let op = operator(&app, &p, json!({"role_id": viewer})).await;
    assert_eq!(visible(&app, &op).await, vec![c.id.clone()]);
    let create = json!({"xaccount_id": "x1", "xaccount_type": p.xaccount_type});
    app.signed(&op)
        .post("/v2/partners/sub-customers", &create)
        .await
        .err(403, "CBC.0151");
    app.signed(&op)
        .get("/v2/partners/roles", "")
        .await
        .err(403, "CBC.0151");
    app.signed(&op)
        .post(
            "/v2/partners/operators",
            &json!({"login_name": "sneaky1", "password": "Passw0rd!"}),
        )
        .await
        .err(403, "CBC.0151");
    // Granting the item opens the route.
    let r = app
        .signed(&p)
        .request(
            Method::PUT,
            &format!("/v2/partners/roles/{viewer}"),
            "",
            Some(json!({"permissions": ["customer:read", "customer:create"]}).to_string()),
            Default::default(),
        )
        .await;
    r.ok();
    app.signed(&op)
        .post("/v2/partners/sub-customers", &create)
        .await
        .ok();
    // An operator without a role can do nothing but discover its domain.
    let bare = operator(&app, &p, json!({})).await;
    app.signed(&bare)
        .post(LIST, &json!({}))
        .await
        .err(403, "CBC.0151");
    let d = app.signed(&bare).get("/v3/auth/domains", "").await;
    assert_eq!(d.ok()["domains"][0]["id"], p.id.as_str());
    // Unknown permission items and foreign roles are refused.
    app.signed(&p)
        .post(
            "/v2/partners/roles",
            &json!({"name": "bad", "permissions": ["root"]}),
        )
        .await
        .err(400, "CBC.0100");
    let other = app.create_partner("solution_provider", None).await;
    let theirs = role(&app, &other, "viewer", &["customer:read"]).await;
    app.signed(&p)
        .post(
            "/v2/partners/operators",
            &json!({"login_name": "opx12345", "password": "Passw0rd!", "role_id": theirs}),
        )
        .await
        .err(400, "CBC.0100");
}

#[tokio::test]
async fn an_operator_gets_a_token_in_its_partners_domain() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let viewer = role(&app, &p, "viewer", &["customer:read"]).await;
    let op = operator(&app, &p, json!({"role_id": viewer})).await;
    let r = app
        .send(
            app.http
                .post(format!("{}/v3/auth/tokens", app.base))
                .json(&json!({
                    "auth": {"identity": {"methods": ["password"], "password": {"user": {
                        "name": op.login, "password": op.password, "domain": {"name": p.login}}}}}
                })),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["token"]["domain"]["id"], p.id.as_str());
    assert_eq!(r.body["token"]["user"]["name"], op.login.as_str());
    let token = r.headers["x-subject-token"].to_str().unwrap().to_string();
    app.with_token(&token, Method::POST, LIST, Some(&json!({})))
        .await
        .ok();
    app.with_token(&token, Method::GET, "/v2/partners/roles", None)
        .await
        .err(403, "CBC.0151");
}

#[tokio::test]
async fn managers_see_only_their_customers_and_supervisors_see_their_managers() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let items = [
        "customer:read",
        "customer:manage",
        "funding:read",
        "funding:write",
    ];
    let r = role(&app, &p, "sales", &items).await;
    let sup = operator(&app, &p, json!({"role_id": r, "scope": "supervisor"})).await;
    let sup_id = operator_id(&app, &p, &sup).await;
    let m1 = operator(
        &app,
        &p,
        json!({"role_id": r, "scope": "manager", "supervisor_id": sup_id}),
    )
    .await;
    let m2 = operator(&app, &p, json!({"role_id": r, "scope": "manager"})).await;
    let staff = operator(&app, &p, json!({"role_id": r})).await;
    let (m1_id, m2_id) = (
        operator_id(&app, &p, &m1).await,
        operator_id(&app, &p, &m2).await,
    );
    let c1 = app.create_customer(&p, json!({})).await;
    let c2 = app.create_customer(&p, json!({})).await;
    let c3 = app.create_customer(&p, json!({})).await;
    assign(&app, &p, &c1, Some(&m1_id)).await.ok();
    assign(&app, &p, &c2, Some(&m2_id)).await.ok();

    assert_eq!(visible(&app, &m1).await, vec![c1.id.clone()]);
    assert_eq!(visible(&app, &m2).await, vec![c2.id.clone()]);
    assert_eq!(visible(&app, &sup).await, vec![c1.id.clone()]);
    assert_eq!(
        visible(&app, &staff).await,
        sorted(vec![&c1.id, &c2.id, &c3.id])
    );
    assert_eq!(
        visible(&app, &p).await,
        sorted(vec![&c1.id, &c2.id, &c3.id])
    );
    // The list names the manager.
    let r = app
        .signed(&p)
        .post(LIST, &json!({"customer_id": c1.id}))
        .await;
    assert_eq!(
        r.ok()["customer_infos"][0]["account_managers"][0]["account_name"],
        m1.login.as_str()
    );

    // A manager cannot act on an unassigned customer.
    let f = app
        .signed(&m1)
        .post(
            "/v2/partners/sub-customers/freeze",
            &json!({"customer_ids": [c2.id, c1.id], "reason": "x"}),
        )
        .await;
    let details = f.ok()["error_details"].as_array().unwrap().clone();
    assert_eq!(details.len(), 1, "{details:?}");
    assert_eq!(details[0]["customer_id"], c2.id.as_str());
    assert_eq!(details[0]["error_code"], "CBC.99000035");
    app.signed(&m1)
        .get(
            "/v2/customers/realname-auths/result",
            &format!("customer_id={}", c2.id),
        )
        .await
        .err(400, "CBC.5002");
    assign(&app, &m1, &c2, Some(&m1_id))
        .await
        .err(400, "CBC.99000035");

    // Reassignment moves the customer and keeps the history.
    assign(&app, &p, &c1, Some(&m2_id)).await.ok();
    assert_eq!(visible(&app, &m1).await, Vec::<String>::new());
    assert_eq!(visible(&app, &m2).await, sorted(vec![&c1.id, &c2.id]));
    let h = app
        .signed(&p)
        .get(
            "/v2/partners/sub-customers/assignments",
            &format!("customer_id={}", c1.id),
        )
        .await;
    let hist = h.ok()["assignments"].as_array().unwrap().clone();
    assert_eq!(hist.len(), 2);
    assert_eq!(hist[0]["manager_id"], m2_id.as_str());
    assert!(hist[0].get("ended_at").is_none());
    assert_eq!(hist[1]["manager_id"], m1_id.as_str());
    assert!(hist[1]["ended_at"].is_string());
    // Assigning to a non-manager is refused.
    let staff_id = operator_id(&app, &p, &staff).await;
    assign(&app, &p, &c3, Some(&staff_id))
        .await
        .err(400, "CBC.0100");
}

#[tokio::test]
async fn a_partner_disables_an_operator_and_resets_its_password() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let viewer = role(&app, &p, "viewer", &["customer:read"]).await;
    let op = operator(&app, &p, json!({"role_id": viewer})).await;
    let id = operator_id(&app, &p, &op).await;
    let put = |body: Value| {
        let (app, p, id) = (&app, &p, id.clone());
        async move {
            app.signed(p)
                .request(
                    Method::PUT,
                    &format!("/v2/partners/operators/{id}"),
                    "",
                    Some(body.to_string()),
                    Default::default(),
                )
                .await
        }
    };
    app.signed(&op).post(LIST, &json!({})).await.ok();
    assert_eq!(
        put(json!({"status": "disabled"})).await.ok()["status"],
        "disabled"
    );
    app.signed(&op)
        .post(LIST, &json!({}))
        .await
        .err(401, "APIG.0301");
    put(json!({"status": "active"})).await.ok();
    app.signed(&op).post(LIST, &json!({})).await.ok();

    put(json!({"password": "short"}))
        .await
        .err(400, "CBC.99000036");
    put(json!({"password": "N3w-operator-pw"})).await.ok();
    let login = |pw: &str| {
        let body = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": op.login, "password": pw, "domain": {"name": p.login}}}}}});
        app.send(
            app.http
                .post(format!("{}/v3/auth/tokens", app.base))
                .json(&body),
        )
    };
    login("Operat0r!pw").await.err(401, "CBC.0154");
    assert_eq!(login("N3w-operator-pw").await.status, 201);
    put(json!({"status": "sleeping"}))
        .await
        .err(400, "CBC.0100");
    // Another partner cannot touch this operator.
    let q = app.create_partner("solution_provider", None).await;
    let r = app
        .signed(&q)
        .request(
            Method::PUT,
            &format!("/v2/partners/operators/{id}"),
            "",
            Some(json!({"status": "disabled"}).to_string()),
            Default::default(),
        )
        .await;
    r.err(400, "CBC.99000047");
}
