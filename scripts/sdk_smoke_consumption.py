"""Consumption and bill checks of the SDK smoke test (issue 8), called from sdk_smoke.py's main().

The vendor (admin API) registers a priced product, sells the customer a stored-value card and
ingests usage; the partner and the customer then read it back through the official SDK, and the
values — not only the status — are checked.
"""

import datetime
import decimal
import random

from huaweicloudsdkbss.v2 import (
    ListConsumeSubCustomersReq,
    ListConsumeSubCustomersRequest,
    ListCustomerBillsFeeRecordsRequest,
    ListCustomersBalancesDetailRequest,
    ListStoredValueCardsRequest,
    ListSubCustomerBillDetailRequest,
    ListSubcustomerMonthlyBillsRequest,
    QueryCustomersBalancesReq,
    ShowCustomerMonthlySumRequest,
    CustomerInfoV2,
)

D = decimal.Decimal


def run(check, admin, expect_error, client, as_customer, customer_id):
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    ts = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")
    cycle = (now + datetime.timedelta(hours=8)).strftime("%Y-%m")
    product = "smoke-ecs-%06x" % random.randrange(16**6)
    status, _ = admin("POST", "/admin/v1/products", {
        "product_id": product, "cloud_service_type": "hws.service.type.ec2", "name": "Smoke ECS",
        "resource_type_code": "hws.resource.type.vm",
        "on_demand_prices": [{"usage_type": "duration", "usage_measure_id": 4, "unit_price": "1.00"}],
    })
    check("admin: priced product registered", status in (200, 201), str(status))
    status, card = admin("POST", f"/admin/v1/customers/{customer_id}/stored-value-cards", {
        "card_name": "Smoke card", "face_value": 5.00,
        "expire_time": ts(now + datetime.timedelta(days=30))})
    check("admin: stored-value card sold", status == 201 and bool(card.get("card_id")), str(card))
    # What earlier sections already charged this customer (the checks below are deltas).
    def monthly_amount():
        r = client.list_subcustomer_monthly_bills(ListSubcustomerMonthlyBillsRequest(cycle=cycle, charge_mode="3"))
        s0 = (r.bill_sums or [None])[0]
        if s0 is None:
            return D("0"), {}
        return D(str(s0.amount)), {d.balance_type: D(str(d.amount)) for d in (s0.account_details or [])}
    amount0, details0 = monthly_amount()
    own0 = as_customer.show_customer_monthly_sum(ShowCustomerMonthlySumRequest(bill_cycle=cycle))
    bal0 = client.list_customers_balances_detail(ListCustomersBalancesDetailRequest(
        body=QueryCustomersBalancesReq(customer_infos=[CustomerInfoV2(customer_id=customer_id)])))
    cash0 = D(str(bal0.customer_balances[0].amount))
    # 10 hours at 1.00/h = 10.00: 5.00 from the card, then 5.00 of the customer's cash.
    rec = {"event_id": f"smoke-{product}", "customer_id": customer_id, "product_id": product,
           "usage_type": "duration", "usage": 10, "usage_measure_id": 4,
           "resource_id": "i-smoke", "resource_name": "smoke vm", "region_code": "cn-north-1",
           "begin_time": ts(now - datetime.timedelta(hours=1)), "end_time": ts(now)}
    _, out = admin("POST", "/admin/v1/usage-records", {"records": [rec, rec]})
    res = out.get("results", [])
    check("admin: usage charged once, the repeat is a duplicate",
          [r.get("status") for r in res] == ["charged", "duplicate"]
          and res[0].get("fee_record_id") == res[1].get("fee_record_id"), str(out))
    fee_id = res[0].get("fee_record_id") if res else None

    r = client.list_sub_customer_bill_detail(ListSubCustomerBillDetailRequest(
        bill_cycle=cycle, customer_id=customer_id, resource_id="i-smoke"))
    f = (r.fee_records or [None])[0]
    check("list_sub_customer_bill_detail: the record with its payment split",
          r.total_count == 1 and f is not None and f.id == fee_id and f.bill_detail_type == 5
          and f.charging_mode == 3 and D(str(f.payment_amount)) == D("10")
          and D(str(f.stored_value_card_amount)) == D("5") and D(str(f.cash_amount)) == D("5")
          and D(str(f.official_amount)) == D("10") and f.service_type_code == "hws.service.type.ec2",
          str(r))
    r = client.list_sub_customer_bill_detail(ListSubCustomerBillDetailRequest(
        bill_cycle=cycle, customer_id=customer_id, service_type_code="hws.service.type.obs"))
    check("list_sub_customer_bill_detail(service_type_code filter): none", r.total_count == 0, str(r))
    expect_error("list_sub_customer_bill_detail without bill_cycle",
                 lambda: client.list_sub_customer_bill_detail(ListSubCustomerBillDetailRequest(
                     customer_id=customer_id)), 400, "CBC.0100")

    amount1, details1 = monthly_amount()
    delta = {k: details1.get(k, D("0")) - details0.get(k, D("0")) for k in set(details0) | set(details1)}
    delta = {k: v for k, v in delta.items() if v != 0}
    check("list_subcustomer_monthly_bills: 10.00 more, split card/cash",
          amount1 - amount0 == D("10")
          and delta == {"BALANCE_TYPE_STORED_VALUE_CARD": D("5"), "BALANCE_TYPE_DEBIT": D("5")},
          f"{amount0} -> {amount1}, {delta}")

    r = client.list_consume_sub_customers(ListConsumeSubCustomersRequest(
        body=ListConsumeSubCustomersReq(bill_cycle=cycle)))
    check("list_consume_sub_customers: the customer",
          r.total_count == 1 and [c.customer_id for c in r.sub_customers or []] == [customer_id], str(r))

    r = as_customer.show_customer_monthly_sum(ShowCustomerMonthlySumRequest(bill_cycle=cycle))
    check("show_customer_monthly_sum: consume 10.00 more = card 5.00 + cash 5.00",
          r.total_count >= 1 and D(str(r.consume_amount)) - D(str(own0.consume_amount)) == D("10")
          and D(str(r.stored_value_card_amount)) - D(str(own0.stored_value_card_amount)) == D("5")
          and D(str(r.cash_amount)) - D(str(own0.cash_amount)) == D("5")
          and D(str(r.debt_amount)) == D("0"), str(r))
    r = as_customer.list_customer_bills_fee_records(ListCustomerBillsFeeRecordsRequest(bill_cycle=cycle))
    rec = next((x for x in (r.records or []) if x.id == fee_id), None)
    check("list_customer_bills_fee_records: the record, paid (status 1)",
          r.total_count >= 1 and rec is not None and rec.id == fee_id and rec.status == 1
          and D(str(rec.consume_amount)) == D("10") and D(str(rec.erase_amount)) == D("0"), str(r))
    r = as_customer.list_stored_value_cards(ListStoredValueCardsRequest(status=2))
    card_view = (r.stored_value_cards or [None])[0]
    check("list_stored_value_cards(status=2): the used-up card",
          r.total_count == 1 and card_view is not None and card_view.card_id == card.get("card_id")
          and card_view.balance == "0.00" and card_view.face_value == "5.00", str(r))
    expect_error("show_customer_monthly_sum with partner credentials",
                 lambda: client.show_customer_monthly_sum(ShowCustomerMonthlySumRequest(bill_cycle=cycle)),
                 403, "CBC.0151")
    expect_error("list_sub_customer_bill_detail with customer credentials",
                 lambda: as_customer.list_sub_customer_bill_detail(ListSubCustomerBillDetailRequest(
                     bill_cycle=cycle, customer_id=customer_id)), 403, "CBC.0151")
    r = client.list_customers_balances_detail(ListCustomersBalancesDetailRequest(
        body=QueryCustomersBalancesReq(customer_infos=[CustomerInfoV2(customer_id=customer_id)])))
    b = (r.customer_balances or [None])[0]
    check("list_customers_balances_detail: 5.00 less cash, no arrears",
          b is not None and cash0 - D(str(b.amount)) == D("5") and D(str(b.debt_amount)) == D("0"), str(r))
    _, audit = admin("GET", "/admin/v1/ledger/audit")
    check("ledger audit is clean after consumption", audit.get("ok") is True, str(audit))
