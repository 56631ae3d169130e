"""Smoke test: the official Huawei Cloud Python SDK (huaweicloudsdkbss 3.1.219) against partner-center.

Run by scripts/sdk-smoke, which starts a server on a fresh database and sets:
  BSS_ENDPOINT  e.g. http://127.0.0.1:18080
  ADMIN_TOKEN   the server's admin.token

Uses only the SDK and the standard library (urllib for the vendor admin API). Every check is counted;
the last line is "<n> passed, <m> failed" and the exit status is non-zero when anything failed.
"""

import json
import os
import random
import re
import subprocess
import sys
import traceback
import urllib.error
import urllib.request

from huaweicloudsdkcore.auth.credentials import GlobalCredentials
from huaweicloudsdkcore.exceptions import exceptions
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkcore.region.region import Region
import decimal

from huaweicloudsdkbss.v2 import (
    AdjustAccountReq,
    BssClient,
    CreatePartnerCouponsReq,
    CreatePartnerCouponsRequest,
    CustomerInfoV2,
    ListIssuedPartnerCouponsRequest,
    ListPartnerCouponsRecordRequest,
    ListQuotaCouponsRequest,
    QueryCouponQuotasReqExt,
    ReclaimPartnerCouponsReq,
    ReclaimPartnerCouponsRequest,
    ListCustomersBalancesDetailRequest,
    ListCustomerselfResourceRecordDetailsRequest,
    ListCustomerselfResourceRecordsRequest,
    QueryResRecordsDetailReq,
    ListPartnerAccountChangeRecordsRequest,
    ListPartnerAdjustRecordsRequest,
    ListPartnerBalancesRequest,
    QueryCustomersBalancesReq,
    ReclaimToPartnerAccountBalancesReq,
    ReclaimToPartnerAccountRequest,
    UpdateCustomerAccountAmountRequest,
    CheckSubcustomerUserReq,
    DemandProductInfo,
    ListConversionsRequest,
    ListMeasureUnitsRequest,
    ListOnDemandResourceRatingsRequest,
    ListRateOnPeriodDetailRequest,
    ListResourceTypesRequest,
    ListServiceResourcesRequest,
    ListServiceTypesRequest,
    ListUsageTypesRequest,
    PeriodProductInfo,
    RateOnDemandReq,
    RateOnPeriodReq,
    CheckUserIdentityRequest,
    CreateCustomerV2Req,
    CreateSubCustomerRequest,
    ListIndirectPartnersRequest,
    ListSubCustomersRequest,
    QueryIndirectPartnersReq,
    QuerySubCustomerListReq,
    SendVerificationCodeV2Req,
    SendVerificationMessageCodeRequest,
)

ENDPOINT = os.environ.get("BSS_ENDPOINT", "http://127.0.0.1:8080").rstrip("/")
ADMIN_TOKEN = os.environ.get("ADMIN_TOKEN", "dev-admin-token-change-me")
# The server's own database (scripts/sdk-smoke sets it): used only to give a product its price
# until the catalogue admin API takes prices.
SMOKE_DATABASE_URL = os.environ.get("SMOKE_DATABASE_URL")
SUFFIX = "%06x" % random.randrange(16**6)
UTC_TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")

passed = 0
failed = 0


def check(name, cond, detail=""):
    """Records one check; a failure is reported but does not stop the run."""
    global passed, failed
    if cond:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name}" + (f": {detail}" if detail else ""))
    return cond


def finish():
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


# --- vendor admin API (plain urllib) -------------------------------------------------------------

def admin(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(ENDPOINT + path, data=data, method=method)
    req.add_header("Authorization", f"Bearer {ADMIN_TOKEN}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as e:
        raise RuntimeError(f"admin {method} {path} -> {e.code}: {e.read().decode(errors='replace')}")


def create_partner(name, partner_type, distributor_id=None):
    body = {
        "name": name,
        "partner_type": partner_type,
        "login_name": f"{partner_type[:4]}-{SUFFIX}-{random.randrange(10**6)}",
        "password": "Secr3t-Passw0rd!",
    }
    if distributor_id:
        body["distributor_id"] = distributor_id
    status, p = admin("POST", "/admin/v1/partners", body)
    check(f"admin: create {partner_type} -> 201 with AK/SK", status == 201
          and all(p.get(k) for k in ("partner_id", "domain_id", "xaccount_type", "access_key", "secret_key")),
          f"{status} {p}")
    return p


# --- SDK clients -----------------------------------------------------------------------------------

def http_config():
    config = HttpConfig.get_default_config()
    config.timeout = (5, 30)
    config.retry_times = 0
    return config


def client_for(ak, sk, domain_id):
    """Explicit endpoint and domain id: no IAM round trip."""
    return (BssClient.new_builder()
            .with_http_config(http_config())
            .with_credentials(GlobalCredentials(ak, sk, domain_id))
            .with_endpoints([ENDPOINT])
            .build())


def expect_error(name, call, status, code):
    """Calls `call` and checks it raises ClientRequestException(status, code) with a request id."""
    try:
        r = call()
    except exceptions.ClientRequestException as e:
        check(f"{name}: HTTP {status} {code}",
              e.status_code == status and e.error_code == code,
              f"got {e.status_code} {e.error_code} {e.error_msg}")
        check(f"{name}: error_msg and request_id present",
              bool(e.error_msg) and bool(e.request_id),
              f"error_msg={e.error_msg!r} request_id={e.request_id!r}")
        return e
    check(f"{name}: HTTP {status} {code}", False, f"no exception; response {r}")
    return None


def raw_json(resp):
    return json.loads(resp.raw_content)


def find_customer(resp, customer_id):
    return next((c for c in (resp.customer_infos or []) if c.customer_id == customer_id), None)


def list_customers(client, **kw):
    kw.setdefault("limit", 100)
    return client.list_sub_customers(ListSubCustomersRequest(body=QuerySubCustomerListReq(**kw)))


def check_identity(client, search_type, value):
    return client.check_user_identity(CheckUserIdentityRequest(
        body=CheckSubcustomerUserReq(search_type=search_type, search_value=value)))


# --- the scenario ----------------------------------------------------------------------------------

def main():
    print(f"sdk-smoke against {ENDPOINT}")

    # Partners made through the vendor's admin API.
    sp = create_partner(f"Solution Provider {SUFFIX}", "solution_provider")
    dist = create_partner(f"Distributor {SUFFIX}", "distributor")
    resl = create_partner(f"Reseller {SUFFIX}", "reseller", distributor_id=dist["partner_id"])
    check("admin: reseller points at its distributor", resl.get("distributor_id") == dist["partner_id"],
          str(resl))

    client = client_for(sp["access_key"], sp["secret_key"], sp["domain_id"])

    # 1. Empty list for a new partner.
    r = list_customers(client)
    check("list_sub_customers: new partner has no customers",
          r.status_code == 200 and r.count == 0 and not r.customer_infos, str(r))

    # 2. check_user_identity for a free login name, a free mobile number, a bad type.
    login = f"cust{SUFFIX}a"
    r = check_identity(client, "name", login)
    check("check_user_identity(name): available", r.check_result == "available", str(r))
    mobile = "139%08d" % random.randrange(10**8)
    r = check_identity(client, "mobile", f"0086-{mobile}")
    check("check_user_identity(mobile): available with a remaining count",
          r.check_result == "available" and isinstance(r.mobile_remain_available_num, int)
          and r.mobile_remain_available_num >= 1, str(r))
    remaining_before = r.mobile_remain_available_num

    # 3. Create a customer without a mobile number.
    xaccount_id = f"platform-user-{SUFFIX}-1"
    r = client.create_sub_customer(CreateSubCustomerRequest(body=CreateCustomerV2Req(
        domain_name=login, xaccount_id=xaccount_id, xaccount_type=sp["xaccount_type"],
        password="Cust0mer-Pass!")))
    check("create_sub_customer: 200 with domain_id and the requested name",
          r.status_code == 200 and bool(r.domain_id) and r.domain_name == login, str(r))
    customer_id = r.domain_id

    r = check_identity(client, "name", login)
    check("check_user_identity(name): used_by_user after creation", r.check_result == "used_by_user", str(r))

    # 4. The list shows it, with the documented fields and JSON types.
    r = list_customers(client)
    c = find_customer(r, customer_id)
    check("list_sub_customers: the new customer is listed", r.count == 1 and c is not None, str(r))
    if c is not None:
        check("customer fields: account_name, xaccount_id, xaccount_type",
              c.account_name == login and c.xaccount_id == xaccount_id
              and c.xaccount_type == sp["xaccount_type"], str(c))
        check("customer fields: resale association, not verified, no type, not frozen",
              c.association_type == "2" and c.verified_status == "-1" and c.customer_type == -1
              and c.is_frozen == 0, str(c))
        check("customer fields: associated_on is UTC yyyy-MM-ddTHH:mm:ssZ",
              isinstance(c.associated_on, str) and bool(UTC_TS.match(c.associated_on)), str(c.associated_on))
    raw = raw_json(r)
    info = next((x for x in raw.get("customer_infos", []) if x.get("customer_id") == customer_id), {})
    check("wire types: count is a JSON number", isinstance(raw.get("count"), int), str(raw.get("count")))
    str_fields = ("account_name", "customer_id", "associated_on", "association_type", "verified_status",
                  "xaccount_id", "xaccount_type")
    int_fields = ("customer_type", "is_frozen")
    check("wire types: string fields are JSON strings",
          all(isinstance(info.get(k), str) for k in str_fields), str(info))
    check("wire types: customer_type and is_frozen are JSON integers",
          all(isinstance(info.get(k), int) and not isinstance(info.get(k), bool) for k in int_fields),
          str(info))
    check("wire types: account_managers is a list", isinstance(info.get("account_managers"), list), str(info))

    # Filters.
    r = list_customers(client, account_name=login[2:-1])
    check("list_sub_customers(account_name substring) finds it", find_customer(r, customer_id) is not None, str(r))
    r = list_customers(client, customer_id="0" * 32)
    check("list_sub_customers(unknown customer_id) is empty", r.count == 0, str(r))

    # 5. Verification code, then a customer with a mobile number.
    r = client.send_verification_message_code(SendVerificationMessageCodeRequest(
        body=SendVerificationCodeV2Req(receiver_type=1, mobile_phone=mobile, scene=29, timeout=10)))
    check("send_verification_message_code: 200", r.status_code == 200, str(r))
    _, codes = admin("GET", f"/admin/v1/verification-codes?mobile_phone={mobile}")
    code = (codes.get("codes") or [{}])[0].get("code")
    check("admin: the sent code is readable", bool(code), str(codes))

    xaccount_id2 = f"platform-user-{SUFFIX}-2"
    expect_error("create_sub_customer with a wrong verification code",
                 lambda: client.create_sub_customer(CreateSubCustomerRequest(body=CreateCustomerV2Req(
                     mobile_phone=mobile, verification_code="000000" if code != "000000" else "111111",
                     xaccount_id=xaccount_id2, xaccount_type=sp["xaccount_type"]))),
                 400, "CBC.99004010")
    r = client.create_sub_customer(CreateSubCustomerRequest(body=CreateCustomerV2Req(
        mobile_phone=mobile, verification_code=code, xaccount_id=xaccount_id2,
        xaccount_type=sp["xaccount_type"])))
    check("create_sub_customer(mobile + code): 200 with a generated 32-char name",
          bool(r.domain_id) and isinstance(r.domain_name, str) and len(r.domain_name) == 32, str(r))
    customer2_id = r.domain_id
    r = list_customers(client)
    c2 = find_customer(r, customer2_id)
    check("list_sub_customers: both customers listed", r.count == 2 and c2 is not None, str(r))
    check("customer with mobile: telephone and xaccount_id",
          c2 is not None and c2.telephone == mobile and c2.xaccount_id == xaccount_id2, str(c2))
    r = check_identity(client, "mobile", f"0086-{mobile}")
    check("check_user_identity(mobile): one registration fewer remaining",
          r.mobile_remain_available_num == remaining_before - 1, str(r))

    # 6. Errors: bad input, duplicate xaccount_id, wrong SK, customer credentials.
    expect_error("list_sub_customers(limit=1000)",
                 lambda: list_customers(client, limit=1000), 400, "CBC.0100")
    expect_error("check_user_identity(search_type=phone)",
                 lambda: check_identity(client, "phone", "x"), 400, "CBC.0100")
    expect_error("create_sub_customer with a duplicate xaccount_id",
                 lambda: client.create_sub_customer(CreateSubCustomerRequest(body=CreateCustomerV2Req(
                     xaccount_id=xaccount_id, xaccount_type=sp["xaccount_type"]))),
                 400, "CBC.99000039")
    bad = client_for(sp["access_key"], sp["secret_key"] + "x", sp["domain_id"])
    expect_error("wrong secret key", lambda: list_customers(bad), 401, "APIG.0301")

    status, keys = admin("POST", f"/admin/v1/accounts/{customer_id}/access-keys")
    check("admin: AK/SK for the customer -> 201", status == 201 and bool(keys.get("access_key")), str(keys))
    as_customer = client_for(keys["access_key"], keys["secret_key"], customer_id)
    expect_error("customer credentials on a partner API", lambda: list_customers(as_customer), 403, "CBC.0151")

    # 7. Distributor: its resellers, and a customer created for a reseller.
    dclient = client_for(dist["access_key"], dist["secret_key"], dist["domain_id"])
    r = dclient.list_indirect_partners(ListIndirectPartnersRequest(body=QueryIndirectPartnersReq(limit=100)))
    ids = [p.indirect_partner_id for p in (r.indirect_partners or [])]
    check("list_indirect_partners: the reseller is listed", r.count == 1 and ids == [resl["partner_id"]],
          str(r))
    rp = (r.indirect_partners or [None])[0]
    check("indirect partner fields: account_name, name, associated_on",
          rp is not None and rp.account_name == resl["login_name"] and rp.name == resl["name"]
          and bool(UTC_TS.match(rp.associated_on or "")), str(rp))

    expect_error("distributor creating a customer for itself",
                 lambda: dclient.create_sub_customer(CreateSubCustomerRequest(body=CreateCustomerV2Req(
                     xaccount_id=f"dist-user-{SUFFIX}", xaccount_type=dist["xaccount_type"]))),
                 400, "CBC.50010059")
    r = dclient.create_sub_customer(CreateSubCustomerRequest(body=CreateCustomerV2Req(
        xaccount_id=f"resl-user-{SUFFIX}", xaccount_type=dist["xaccount_type"],
        indirect_partner_id=resl["partner_id"])))
    resl_customer = r.domain_id
    check("create_sub_customer for a reseller: 200", bool(resl_customer), str(r))
    r = list_customers(dclient, indirect_partner_id=resl["partner_id"])
    check("list_sub_customers(indirect_partner_id): the reseller's customer",
          r.count == 1 and find_customer(r, resl_customer) is not None, str(r))
    r = list_customers(dclient)
    check("list_sub_customers: the distributor's own list does not show it",
          find_customer(r, resl_customer) is None, str(r))
    expect_error("list_sub_customers with an indirect_partner_id that is not a reseller of the caller",
                 lambda: list_customers(dclient, indirect_partner_id=sp["partner_id"]),
                 400, "CBC.99000037")

    # 8. Funding through the SDK: deposit (admin), fund, reclaim, balances, records.
    admin("POST", f"/admin/v1/partners/{sp['partner_id']}/deposits", {"amount": 1000.00})
    r = client.update_customer_account_amount(UpdateCustomerAccountAmountRequest(
        body=AdjustAccountReq(customer_id=customer_id, amount=decimal.Decimal("100.00"))))
    check("update_customer_account_amount: transfer_id", bool(r.transfer_id), str(r))
    transfer_id = r.transfer_id
    r = client.reclaim_to_partner_account(ReclaimToPartnerAccountRequest(
        body=ReclaimToPartnerAccountBalancesReq(customer_id=customer_id, amount=decimal.Decimal("30.00"))))
    check("reclaim_to_partner_account: trans_id", bool(r.trans_id), str(r))
    r = client.list_partner_balances(ListPartnerBalancesRequest())
    by_type = {b.account_type: b for b in (r.account_balances or [])}
    check("list_partner_balances: cash 930.00 and fundable 930.00",
          by_type.get(1) is not None and decimal.Decimal(str(by_type[1].amount)) == decimal.Decimal("930")
          and by_type.get(8) is not None and decimal.Decimal(str(by_type[8].amount)) == decimal.Decimal("930"),
          str(r))
    raw = raw_json(r)
    check("list_partner_balances: amounts are JSON numbers, account_type integers",
          all(isinstance(b["amount"], (int, float)) and isinstance(b["account_type"], int)
              for b in raw["account_balances"]), str(raw))
    r = client.list_customers_balances_detail(ListCustomersBalancesDetailRequest(
        body=QueryCustomersBalancesReq(customer_infos=[CustomerInfoV2(customer_id=customer_id)])))
    bal = (r.customer_balances or [None])[0]
    check("list_customers_balances_detail: 70.00",
          bal is not None and decimal.Decimal(str(bal.amount)) == decimal.Decimal("70"), str(r))
    r = client.list_partner_adjust_records(ListPartnerAdjustRecordsRequest(customer_id=customer_id, limit=10))
    ops = sorted((x.operation_type, x.amount) for x in (r.records or []))
    check("list_partner_adjust_records: fund and reclaim with string amounts",
          r.total_count == 2 and ops == [("SOURCE_OPERATION_BEADJUST", "100.00"),
                                         ("SOURCE_OPERATION_BERETRIEVE", "30.00")], str(r))
    check("list_partner_adjust_records: the transfer id is listed",
          any(x.trans_id == transfer_id for x in (r.records or [])), str(r))
    r = client.list_partner_account_change_records(ListPartnerAccountChangeRecordsRequest(
        balance_type="BALANCE_TYPE_DEBIT", limit=10))
    check("list_partner_account_change_records: deposit, fund and reclaim",
          r.total_count == 3, str(r))
    expect_error("update_customer_account_amount beyond the fundable balance",
                 lambda: client.update_customer_account_amount(UpdateCustomerAccountAmountRequest(
                     body=AdjustAccountReq(customer_id=customer_id, amount=decimal.Decimal("5000.00")))),
                 400, "CBC.99005003")
    expect_error("update_customer_account_amount with three decimals",
                 lambda: client.update_customer_account_amount(UpdateCustomerAccountAmountRequest(
                     body=AdjustAccountReq(customer_id=customer_id, amount=decimal.Decimal("1.005")))),
                 400, "CBC.0100")
    _, audit = admin("GET", "/admin/v1/ledger/audit")
    check("ledger audit is clean after the SDK calls", audit.get("ok") is True, str(audit))

    # 9. Coupons through the SDK: the vendor grants a quota, the partner issues, lists, reclaims.
    import datetime
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    fmt = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")
    _, q = admin("POST", f"/admin/v1/partners/{sp['partner_id']}/coupon-quotas",
                 {"quota_type": 0, "quota_value": 250.00,
                  "effective_time": fmt(now - datetime.timedelta(hours=1)),
                  "expire_time": fmt(now + datetime.timedelta(days=30))})
    quota_id = q["quota_id"]
    r = client.list_quota_coupons(ListQuotaCouponsRequest(body=QueryCouponQuotasReqExt(quota_ids=[quota_id])))
    check("list_quota_coupons: the granted quota", r.total_count == 1 and len(r.quotas or []) == 1, str(r))
    r = client.create_partner_coupons(CreatePartnerCouponsRequest(body=CreatePartnerCouponsReq(
        quota_id=quota_id, customer_ids=[customer_id, "f" * 32], face_value=decimal.Decimal("100.00"),
        valid_time=fmt(now), expire_time=fmt(now + datetime.timedelta(days=7)), memo="sdk smoke")))
    infos = r.coupon_infos or []
    errs = r.error_details or []
    check("create_partner_coupons: one coupon issued, the unknown customer in error_details",
          len(infos) == 1 and len(errs) == 1, str(r))
    coupon_id = infos[0].coupon_id if infos else None
    r = client.list_issued_partner_coupons(ListIssuedPartnerCouponsRequest(customer_id=customer_id, limit=10))
    check("list_issued_partner_coupons: the coupon is usable (status 2)",
          r.total_count == 1 and (r.user_coupons or [None])[0] is not None
          and r.user_coupons[0].coupon_id == coupon_id and r.user_coupons[0].status == 2, str(r))
    r = client.reclaim_partner_coupons(ReclaimPartnerCouponsRequest(body=ReclaimPartnerCouponsReq(coupon_id=coupon_id)))
    check("reclaim_partner_coupons: 200", r.status_code == 200, str(r))
    r = client.list_issued_partner_coupons(ListIssuedPartnerCouponsRequest(coupon_id=coupon_id))
    check("list_issued_partner_coupons: reclaimed coupon has status 5",
          r.total_count == 1 and r.user_coupons[0].status == 5, str(r))
    expect_error("reclaim_partner_coupons twice",
                 lambda: client.reclaim_partner_coupons(ReclaimPartnerCouponsRequest(
                     body=ReclaimPartnerCouponsReq(coupon_id=coupon_id))),
                 400, "CBC.99000048")
    r = client.list_partner_coupons_record(ListPartnerCouponsRecordRequest(
        operation_types=["1", "2"], coupon_ids=[coupon_id], limit=10))
    check("list_partner_coupons_record: issue and reclaim records (repeated query keys)",
          r.total_count is not None and r.total_count >= 2, str(r))
    _, audit = admin("GET", "/admin/v1/ledger/audit")
    check("ledger audit is clean after the coupon calls", audit.get("ok") is True, str(audit))

    # 11. Consumption read by the customer itself through the SDK: list_customerself_resource_records
    #     (per detail and per cycle) and list_customerself_resource_record_details.
    product_id = f"smoke-vm-{SUFFIX}"
    admin("POST", "/admin/v1/products", {
        "product_id": product_id, "cloud_service_type": "hws.service.type.ec2",
        "name": f"Smoke VM {SUFFIX}", "resource_type_code": "hws.resource.type.vm",
        "on_demand_prices": [{"usage_type": "duration", "usage_measure_id": 4, "unit_price": "1.00"}]})
    # --- TEMPORARY (until the catalogue branch lands): the price rows written with psql, exactly as
    # --- tests/api/consumption.rs priced_product does.
    if SMOKE_DATABASE_URL:
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", SMOKE_DATABASE_URL, "-c",
                        f"update product set resource_type_code = 'hws.resource.type.vm' where id = '{product_id}';"
                        f"insert into on_demand_price (product_id, usage_type, usage_measure_id, unit_price)"
                        f" values ('{product_id}', 'duration', 4, 1.00) on conflict do nothing;"],
                       check=True)
    # --- end TEMPORARY
    begin = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(minutes=1)
    cycle = (begin + datetime.timedelta(hours=8)).strftime("%Y-%m")
    usage = [{"event_id": f"smoke-{SUFFIX}-{i}", "customer_id": customer_id, "product_id": product_id,
              "usage_type": "duration", "usage": u, "usage_measure_id": 4, "resource_id": f"vm-{SUFFIX}",
              "resource_name": "smoke vm", "region_code": "cn-north-1",
              "begin_time": fmt(begin), "end_time": fmt(begin + datetime.timedelta(minutes=1))}
             for i, u in enumerate(["2", "0.5"])]
    _, ing = admin("POST", "/admin/v1/usage-records", {"records": usage})
    results = ing.get("results") or []
    check("admin: two usage records charged", [x.get("status") for x in results] == ["charged", "charged"],
          str(ing))
    fee_ids = sorted(x.get("fee_record_id") or "" for x in results)
    D = lambda v: decimal.Decimal(str(v))
    r = as_customer.list_customerself_resource_records(ListCustomerselfResourceRecordsRequest(
        cycle=cycle, statistic_type=3, limit=10))
    recs = r.fee_records or []
    check("list_customerself_resource_records(3): both records with their ids",
          r.total_count == 2 and sorted(x.id for x in recs) == fee_ids, str(r))
    check("list_customerself_resource_records(3): amounts 2.00 and 0.50 paid in cash, charge_mode '3'",
          sorted(D(x.amount) for x in recs) == [D("0.5"), D("2")]
          and all(D(x.cash_amount) == D(x.amount) and x.charge_mode == "3" and x.measure_id == 1
                  and x.usage_type == "duration" and D(x.unit_price) == 1 and x.resource_id == f"vm-{SUFFIX}"
                  and x.bill_date == (begin + datetime.timedelta(hours=8)).strftime("%Y-%m-%d")
                  for x in recs), str(r))
    r = as_customer.list_customerself_resource_records(ListCustomerselfResourceRecordsRequest(
        x_language="en_us", cycle=cycle, statistic_type=1))
    line = (r.fee_records or [None])[0]
    check("list_customerself_resource_records(1): one line for the cycle, usage 2.5, amount 2.50, no id",
          r.total_count == 1 and line is not None and D(line.usage) == D("2.5") and D(line.amount) == D("2.5")
          and line.id is None and line.cloud_service_type_name == "Elastic Cloud Server", str(r))
    r = as_customer.list_customerself_resource_record_details(ListCustomerselfResourceRecordDetailsRequest(
        body=QueryResRecordsDetailReq(cycle=cycle)))
    m = (r.monthly_records or [None])[0]
    check("list_customerself_resource_record_details: per cycle by default, consume_amount 2.50",
          r.total_count == 1 and m is not None and D(m.consume_amount) == D("2.5")
          and D(m.cash_amount) == D("2.5") and m.resource_type_code == "hws.resource.type.vm"
          and m.res_instance_id == f"vm-{SUFFIX}" and m.charge_mode == 3 and m.cycle == cycle, str(r))
    r = as_customer.list_customerself_resource_record_details(ListCustomerselfResourceRecordDetailsRequest(
        body=QueryResRecordsDetailReq(cycle=cycle, statistic_type=3, include_zero_record=False)))
    check("list_customerself_resource_record_details(3): the two records",
          r.total_count == 2 and sorted(x.id for x in (r.monthly_records or [])) == fee_ids, str(r))
    expect_error("list_customerself_resource_records without a cycle",
                 lambda: as_customer.list_customerself_resource_records(
                     ListCustomerselfResourceRecordsRequest(statistic_type=1)), 400, "CBC.0100")
    expect_error("list_customerself_resource_records with a partner's credentials",
                 lambda: client.list_customerself_resource_records(
                     ListCustomerselfResourceRecordsRequest(cycle=cycle)), 403, "CBC.0151")
    expect_error("list_customerself_resource_record_details with a partner's credentials",
                 lambda: client.list_customerself_resource_record_details(
                     ListCustomerselfResourceRecordDetailsRequest(body=QueryResRecordsDetailReq(cycle=cycle))),
                 403, "CBC.0151")
    _, audit = admin("GET", "/admin/v1/ledger/audit")
    check("ledger audit is clean after the consumption", audit.get("ok") is True, str(audit))

    # 10. Region + IAM domain discovery (GET /v3/auth/domains) instead of an explicit domain id.
    creds = GlobalCredentials(sp["access_key"], sp["secret_key"]).with_iam_endpoint(ENDPOINT)
    rclient = (BssClient.new_builder()
               .with_http_config(http_config())
               .with_credentials(creds)
               .with_region(Region("cn-north-1", ENDPOINT))
               .build())
    check("region client: domain id discovered through IAM", creds.domain_id == sp["domain_id"],
          f"{creds.domain_id} != {sp['domain_id']}")
    r = list_customers(rclient)
    check("region client: list_sub_customers works", r.count == 2 and find_customer(r, customer_id) is not None,
          str(r))

    catalogue_checks(client, as_customer, sp, customer_id)

    # 11. Consumption and bills (scripts/sdk_smoke_consumption.py).
    import sdk_smoke_consumption
    sdk_smoke_consumption.run(check, admin, expect_error, client, as_customer, customer_id)

    # 12. Orders and resources (scripts/sdk_smoke_orders.py).
    import sdk_smoke_orders
    sdk_smoke_orders.run(check, admin, expect_error, client, as_customer, customer_id, sp["partner_id"])


def catalogue_checks(client, as_customer, sp, customer_id):
    """11. Catalogue reads and price inquiries (issue 8), as a partner and as a customer."""
    d = decimal.Decimal
    r = client.list_service_types(ListServiceTypesRequest())
    codes = [t.service_type_code for t in (r.service_types or [])]
    ecs = next((t for t in (r.service_types or []) if t.service_type_code == "hws.service.type.ec2"), None)
    check("list_service_types: the seeded types, Chinese names by default",
          r.total_count == 5 and codes == sorted(codes) and ecs is not None
          and ecs.service_type_name == "弹性云服务器" and ecs.abbreviation == "ECS", str(r))
    r = client.list_service_types(ListServiceTypesRequest(x_language="en_US", service_type_name="storage",
                                                          limit=10, offset=0))
    check("list_service_types(en_US, service_type_name=storage): OBS in English",
          r.total_count == 1 and r.service_types[0].service_type_code == "hws.service.type.obs"
          and r.service_types[0].service_type_name == "Object Storage Service", str(r))
    r = client.list_service_types(ListServiceTypesRequest(limit=2, offset=4))
    check("list_service_types(limit=2, offset=4): the last page", r.total_count == 5
          and [t.service_type_code for t in r.service_types] == ["hws.service.type.vpc"], str(r))
    expect_error("list_service_types(limit=0)",
                 lambda: client.list_service_types(ListServiceTypesRequest(limit=0)), 400, "CBC.0100")

    r = as_customer.list_resource_types(ListResourceTypesRequest(x_language="en_US", limit=100))
    vm = next((t for t in (r.resource_types or []) if t.resource_type_code == "hws.resource.type.vm"), None)
    check("list_resource_types (customer credentials): 9 types, the VM in English",
          r.total_count == 9 and vm is not None and vm.resource_type_name == "Cloud server"
          and vm.service_type_code == "hws.service.type.ec2" and vm.resource_type_desc == "ECS instance", str(r))

    r = client.list_service_resources(ListServiceResourcesRequest(service_type_code="hws.service.type.obs"))
    infos = [(i.basic_info.resource_type_code, i.basic_info.product_owner_service, i.basic_info.name)
             for i in (r.infos or [])]
    check("list_service_resources(OBS): its three resource types",
          r.total_count == 3 and infos[0] == ("hws.resource.type.obs", "hws.service.type.obs", "对象存储"), str(r))
    expect_error("list_service_resources without service_type_code",
                 lambda: client.list_service_resources(ListServiceResourcesRequest()), 400, "CBC.0100")

    r = client.list_usage_types(ListUsageTypesRequest(x_language="en_US", resource_type_code="hws.resource.type.vm"))
    u = (r.usage_types or [None])[0]
    check("list_usage_types(VM): duration with its resource and service names",
          r.total_count == 1 and u is not None and u.code == "duration" and u.name == "Duration"
          and u.service_type_code == "hws.service.type.ec2" and u.resource_type_name == "Cloud server"
          and u.service_type_name == "Elastic Cloud Server", str(r))

    r = client.list_measure_units(ListMeasureUnitsRequest(x_language="en_US"))
    units = {m.measure_id: m for m in (r.measure_units or [])}
    check("list_measure_units: yuan, hour and GB-hour with their types",
          units.get(1) is not None and units[1].abbreviation == "CNY" and units[1].measure_type == 1
          and units.get(4) is not None and units[4].measure_name == "hour" and units[4].measure_type == 2
          and units.get(17) is not None and units[17].measure_type == 5, str(r))

    r = client.list_conversions(ListConversionsRequest(measure_type=2))
    conv = sorted((c.measure_id, c.ref_measure_id, c.conversion_ratio) for c in (r.conversions or []))
    check("list_conversions(measure_type=2): day/hour/minute/second",
          conv == [(4, 6, 60), (5, 4, 24), (6, 7, 60)]
          and all(c.measure_type == 2 for c in r.conversions), str(r))

    # A priced product (vendor admin), then both inquiries through the SDK.
    spec = f"s6.small.{SUFFIX}.linux"
    status, prod = admin("POST", "/admin/v1/products", {
        "product_id": f"ecs-{SUFFIX}", "cloud_service_type": "hws.service.type.ec2", "name": "ECS s6.small",
        "resource_type_code": "hws.resource.type.vm", "resource_spec": spec,
        "on_demand_prices": [{"usage_type": "duration", "usage_measure_id": 4, "unit_price": "0.33335"}],
        "period_prices": [{"period_type": 2, "price": "12.34"}, {"period_type": 3, "price": "120.00"}]})
    check("admin: product with prices -> 201", status == 201 and len(prod.get("on_demand_prices", [])) == 1,
          str(prod))

    def demand(id_, value, measure, num=1):
        return DemandProductInfo(id=id_, cloud_service_type="hws.service.type.ec2",
                                 resource_type="hws.resource.type.vm", resource_spec=spec, region="cn-north-4",
                                 usage_factor="Duration", usage_value=value, usage_measure_id=measure,
                                 subscription_num=num)

    r = client.list_on_demand_resource_ratings(ListOnDemandResourceRatingsRequest(body=RateOnDemandReq(
        project_id=sp["domain_id"], product_infos=[demand("a", d("0.1"), 4), demand("b", 90, 6, 2)])))
    res = {x.id: x for x in (r.product_rating_results or [])}
    check("list_on_demand_resource_ratings: 0.1 h at 0.33335 = 0.033335 exactly",
          "a" in res and d(str(res["a"].official_website_amount)) == d("0.033335")
          and d(str(res["a"].amount)) == d("0.033335") and res["a"].product_id == f"ecs-{SUFFIX}", str(r))
    check("list_on_demand_resource_ratings: 2 x 90 minutes at the hourly price = 1.00005",
          "b" in res and d(str(res["b"].amount)) == d("1.00005"), str(r))
    check("list_on_demand_resource_ratings: totals, yuan, CNY",
          d(str(r.amount)) == d("1.033385") and d(str(r.official_website_amount)) == d("1.033385")
          and d(str(r.discount_amount)) == 0 and r.measure_id == 1 and r.currency == "CNY", str(r))
    r = as_customer.list_on_demand_resource_ratings(ListOnDemandResourceRatingsRequest(body=RateOnDemandReq(
        project_id=customer_id, inquiry_precision=1, product_infos=[demand("m", 1, 6)])))
    check("list_on_demand_resource_ratings (customer, inquiry_precision=1): 10 decimals",
          d(str(r.amount)) == d("0.0055558333"), str(r))
    expect_error("list_on_demand_resource_ratings: unknown spec",
                 lambda: client.list_on_demand_resource_ratings(ListOnDemandResourceRatingsRequest(
                     body=RateOnDemandReq(project_id=sp["domain_id"], product_infos=[
                         DemandProductInfo(id="x", cloud_service_type="hws.service.type.ec2",
                                           resource_type="hws.resource.type.vm", resource_spec="nope",
                                           region="cn-north-4", usage_factor="Duration", usage_value=1,
                                           usage_measure_id=4, subscription_num=1)]))),
                 400, "CBC.99006006")
    expect_error("list_on_demand_resource_ratings: usage in GB for an hourly price",
                 lambda: client.list_on_demand_resource_ratings(ListOnDemandResourceRatingsRequest(
                     body=RateOnDemandReq(project_id=sp["domain_id"], product_infos=[demand("a", 1, 10)]))),
                 400, "CBC.99006050")
    expect_error("list_on_demand_resource_ratings: duplicate ids",
                 lambda: client.list_on_demand_resource_ratings(ListOnDemandResourceRatingsRequest(
                     body=RateOnDemandReq(project_id=sp["domain_id"],
                                          product_infos=[demand("a", 1, 4), demand("a", 2, 4)]))),
                 400, "CBC.30050012")
    expect_error("list_on_demand_resource_ratings: another project",
                 lambda: client.list_on_demand_resource_ratings(ListOnDemandResourceRatingsRequest(
                     body=RateOnDemandReq(project_id="no-such-project", product_infos=[demand("a", 1, 4)]))),
                 400, "CBC.99006073")

    def period(id_, period_type, num, subs=1):
        return PeriodProductInfo(id=id_, cloud_service_type="hws.service.type.ec2",
                                 resource_type="hws.resource.type.vm", resource_spec=spec, region="cn-north-4",
                                 period_type=period_type, period_num=num, subscription_num=subs)

    r = client.list_rate_on_period_detail(ListRateOnPeriodDetailRequest(body=RateOnPeriodReq(
        project_id=sp["domain_id"], product_infos=[period("m", 2, 3, 2), period("y", 3, 1)])))
    o = r.official_website_rating_result
    by_id = {x.id: x for x in (o.product_rating_results or [])} if o else {}
    check("list_rate_on_period_detail: 3 months x 2 at 12.34 + 1 year at 120.00 = 194.04",
          o is not None and d(str(o.official_website_amount)) == d("194.04") and o.measure_id == 1
          and d(str(by_id["m"].official_website_amount)) == d("74.04")
          and d(str(by_id["y"].official_website_amount)) == d("120.00")
          and by_id["y"].product_id == f"ecs-{SUFFIX}" and r.currency == "CNY"
          and r.optional_discount_rating_results == [], str(r))
    expect_error("list_rate_on_period_detail: no daily price",
                 lambda: client.list_rate_on_period_detail(ListRateOnPeriodDetailRequest(body=RateOnPeriodReq(
                     project_id=sp["domain_id"], product_infos=[period("d", 0, 1)]))),
                 400, "CBC.99006006")


if __name__ == "__main__":
    try:
        main()
    except Exception:  # an unexpected error ends the run as one more failure
        traceback.print_exc()
        failed += 1
    finish()
