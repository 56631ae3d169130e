"""Orders and resources checks of the SDK smoke test (issue 10), called from sdk_smoke.py's main().

The vendor (admin API) registers a yearly/monthly product and tops the customer up; the customer
orders it (the documented extension, signed like the SDK signs) and then pays, renews,
unsubscribes… through the official SDK; the partner reads the orders, resources and refunds. The
values — not only the status — are checked.
"""

import datetime
import decimal
import json
import random

from huaweicloudsdkbss.v2 import (
    AutoRenewalResourcesReq,
    AutoRenewalResourcesRequest,
    CancelAutoRenewalResourcesRequest,
    CancelCustomerOrderReq,
    CancelCustomerOrderRequest,
    CancelResourcesSubscriptionRequest,
    CouponSimpleInfoOrderPayV3,
    CreatePartnerCouponsReq,
    CreatePartnerCouponsRequest,
    ListCustomerOnDemandResourcesRequest,
    ListCustomerOrdersRequest,
    ListOrderCouponsByOrderIdRequest,
    ListOrderDiscountsRequest,
    ListPayPerUseCustomerResourcesRequest,
    ListRenewRateOnPeriodReq,
    ListRenewRateOnPeriodRequest,
    PayCustomerOrderV3Req,
    PayOrdersRequest,
    PeriodToOnDemandInstantlyReq,
    PeriodToOnDemandReq,
    QueryCustomerOnDemandResourcesReq,
    QueryResourcesReq,
    RenewalResourcesReq,
    RenewalResourcesRequest,
    RenewResourceConfigReq,
    SetResourcesRenewConfigRequest,
    ShowCustomerOrderDetailsRequest,
    ShowRefundOrderDetailsRequest,
    UnsubscribeResourcesReq,
    UpdatePeriodToOnDemandInstantlyRequest,
    UpdatePeriodToOnDemandRequest,
)

D = decimal.Decimal


def run(check, admin, expect_error, client, as_customer, customer_id, partner_id):
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    fmt = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")
    product = "smoke-period-%06x" % random.randrange(16**6)
    status, _ = admin("POST", "/admin/v1/products", {
        "product_id": product, "cloud_service_type": "hws.service.type.ec2", "name": "Smoke yearly ECS",
        "resource_type_code": "hws.resource.type.vm",
        "period_prices": [{"period_type": 2, "price": "100.00"}, {"period_type": 3, "price": "1000.00"}],
    })
    check("admin: yearly/monthly product registered", status in (200, 201), str(status))
    status, _ = admin("POST", f"/admin/v1/customers/{customer_id}/deposits", {"amount": 1000.00})
    check("admin: customer topped up", status in (200, 201), str(status))
    _, q = admin("POST", f"/admin/v1/partners/{partner_id}/coupon-quotas",
                 {"quota_type": 0, "quota_value": 50.00,
                  "effective_time": fmt(now - datetime.timedelta(hours=1)),
                  "expire_time": fmt(now + datetime.timedelta(days=30))})
    r = client.create_partner_coupons(CreatePartnerCouponsRequest(body=CreatePartnerCouponsReq(
        quota_id=q["quota_id"], customer_ids=[customer_id], face_value=D("10.00"),
        valid_time=fmt(now), expire_time=fmt(now + datetime.timedelta(days=7)), memo="orders smoke")))
    coupon_id = (r.coupon_infos or [None])[0].coupon_id

    def create_order(period_type=2, period_num=1):
        resp = as_customer.call_api(
            resource_path="/v2/orders/customer-orders", method="POST",
            header_params={"Content-Type": "application/json"},
            body={"product_id": product, "region_code": "cn-north-1", "period_type": period_type,
                  "period_num": period_num, "subscription_num": 1},
            response_type="PayOrdersResponse", response_headers=[], request_type="object")
        out = json.loads(resp.raw_content)
        check("extension create order: pending payment (status 6) at the catalogue price",
              out["order_info"]["status"] == 6 and D(str(out["order_info"]["official_amount"])) == (D("100") if period_type == 2 else D("1000")) * period_num,
              str(out))
        return out["order_id"]

    order_id = create_order()
    r = as_customer.list_order_coupons_by_order_id(ListOrderCouponsByOrderIdRequest(order_id=order_id))
    check("list_order_coupons_by_order_id: the coupon is offered",
          any(c.coupon_id == coupon_id and D(str(c.balance)) == D("10") for c in (r.user_coupons or []))
          and r.coupon_max_use_quantity[0].use_quantity_value == 3, str(r))
    r = as_customer.list_order_discounts(ListOrderDiscountsRequest(order_id=order_id))
    check("list_order_discounts: none without a partner discount", r.discounts == [], str(r))
    as_customer.pay_orders(PayOrdersRequest(body=PayCustomerOrderV3Req(
        order_id=order_id, use_coupon="YES", use_discount="NO",
        coupon_infos=[CouponSimpleInfoOrderPayV3(id=coupon_id, type=1)])))
    r = as_customer.show_customer_order_details(ShowCustomerOrderDetailsRequest(order_id=order_id))
    a = r.order_info.amount_info
    check("show_customer_order_details: paid with the coupon and cash",
          r.order_info.status == 5 and D(str(a.coupon_amount)) == D("10") and D(str(a.consumed_amount)) == D("90")
          and r.total_count == 1 and r.order_line_items[0].period_type == 2, str(r))
    resource_id = raw_line(r)["resource_id"]
    expect_error("pay_orders twice", lambda: as_customer.pay_orders(PayOrdersRequest(body=PayCustomerOrderV3Req(
        order_id=order_id, use_coupon="NO", use_discount="NO"))), 400, "CBC.99003106")
    expect_error("cancel_customer_order of a paid order", lambda: as_customer.cancel_customer_order(
        CancelCustomerOrderRequest(body=CancelCustomerOrderReq(order_id=order_id))), 400, "CBC.99005010")
    expect_error("pay_orders with a partner's credentials", lambda: client.pay_orders(PayOrdersRequest(
        body=PayCustomerOrderV3Req(order_id=order_id, use_coupon="NO", use_discount="NO"))), 403, "CBC.0151")
    r = client.list_customer_orders(ListCustomerOrdersRequest(customer_id=customer_id, status=5))
    check("list_customer_orders (partner): the paid order",
          r.total_count == 1 and r.order_infos[0].order_id == order_id, str(r))

    # Resources.
    r = as_customer.list_pay_per_use_customer_resources(ListPayPerUseCustomerResourcesRequest(
        body=QueryResourcesReq(resource_ids=[resource_id])))
    res = (r.data or [None])[0]
    check("list_pay_per_use_customer_resources: in use, main",
          r.total_count == 1 and res.status == 2 and res.is_main_resource == 1, str(r))
    r = client.list_pay_per_use_customer_resources(ListPayPerUseCustomerResourcesRequest(
        body=QueryResourcesReq(customer_id=customer_id, order_id=order_id)))
    check("list_pay_per_use_customer_resources (partner)", r.total_count == 1, str(r))
    r = as_customer.list_renew_rate_on_period(ListRenewRateOnPeriodRequest(body=ListRenewRateOnPeriodReq(
        resource_ids=[resource_id], period_type=2, period_num=2)))
    check("list_renew_rate_on_period: 2 months = 200.00",
          r.renew_inquiry_results[0].amount == "200.00", str(r))
    r = as_customer.renewal_resources(RenewalResourcesRequest(body=RenewalResourcesReq(
        resource_ids=[resource_id], period_type=2, period_num=1, is_auto_pay=1)))
    check("renewal_resources (auto-pay): one renewal order", len(r.order_ids or []) == 1
          and not r.fail_resource_infos, str(r))
    r = as_customer.list_customer_orders(ListCustomerOrdersRequest(order_type="2"))
    check("list_customer_orders(order_type=2): the renewal, paid", r.total_count == 1
          and r.order_infos[0].status == 5, str(r))
    as_customer.auto_renewal_resources(AutoRenewalResourcesRequest(
        resource_id=resource_id, body=AutoRenewalResourcesReq(auto_renew_times=0, period_type="MONTH")))
    r = as_customer.list_pay_per_use_customer_resources(ListPayPerUseCustomerResourcesRequest(
        body=QueryResourcesReq(resource_ids=[resource_id])))
    check("auto_renewal_resources: expire_policy 3", r.data[0].expire_policy == 3, str(r))
    as_customer.cancel_auto_renewal_resources(CancelAutoRenewalResourcesRequest(resource_id=resource_id))
    r = as_customer.list_pay_per_use_customer_resources(ListPayPerUseCustomerResourcesRequest(
        body=QueryResourcesReq(resource_ids=[resource_id])))
    check("cancel_auto_renewal_resources: expire_policy 0", r.data[0].expire_policy == 0, str(r))
    r = as_customer.set_resources_renew_config(SetResourcesRenewConfigRequest(body=RenewResourceConfigReq(
        config_name="DEDUCTION_DATE", config_value="3")))
    check("set_resources_renew_config: accepted", r.error_code is None, str(r))
    r = as_customer.set_resources_renew_config(SetResourcesRenewConfigRequest(body=RenewResourceConfigReq(
        config_name="EXPIRE_DATE", config_value="-1")))
    check("set_resources_renew_config EXPIRE_DATE -1 (month end): accepted", r.error_code is None, str(r))
    expect_error("set_resources_renew_config EXPIRE_DATE 29", lambda: as_customer.set_resources_renew_config(
        SetResourcesRenewConfigRequest(body=RenewResourceConfigReq(config_name="EXPIRE_DATE", config_value="29"))),
        400, "CBC.0100")
    for op in ("SET_UP", "CANCEL"):
        r = as_customer.update_period_to_on_demand(UpdatePeriodToOnDemandRequest(body=PeriodToOnDemandReq(
            operation=op, resource_ids=[resource_id, "no-such-resource"])))
        check(f"update_period_to_on_demand({op}): the unknown id in error_details",
              [e.id for e in (r.error_details or [])] == ["no-such-resource"]
              and r.error_details[0].error_code == "CBC.99003012", str(r))

    # Unsubscribe: everything not used comes back (a refund order explains it).
    r = as_customer.cancel_resources_subscription(CancelResourcesSubscriptionRequest(body=UnsubscribeResourcesReq(
        resource_ids=[resource_id], unsubscribe_type=1, unsubscribe_reason_type=1)))
    refund_order = (r.order_ids or [None])[0]
    check("cancel_resources_subscription: a refund order", refund_order is not None, str(r))
    r = client.show_refund_order_details(ShowRefundOrderDetailsRequest(order_id=refund_order, customer_id=customer_id))
    total = sum(D(str(i.amount)) for i in (r.refund_infos or []))
    check("show_refund_order_details: both periods refunded (negative), from their orders",
          r.total_count == 2 and D("-200") <= total < D("-190")
          and order_id in [i.base_order_id for i in r.refund_infos], str(r))
    expect_error("show_refund_order_details of a purchase order", lambda: as_customer.show_refund_order_details(
        ShowRefundOrderDetailsRequest(order_id=order_id)), 400, "CBC.99005026")

    # Cancel a pending order; switch a paid one to pay-per-use at once.
    pending = create_order()
    as_customer.cancel_customer_order(CancelCustomerOrderRequest(body=CancelCustomerOrderReq(order_id=pending)))
    r = as_customer.show_customer_order_details(ShowCustomerOrderDetailsRequest(order_id=pending))
    check("cancel_customer_order: status 4", r.order_info.status == 4, str(r))
    third = create_order(3, 1)
    as_customer.pay_orders(PayOrdersRequest(body=PayCustomerOrderV3Req(
        order_id=third, use_coupon="NO", use_discount="NO")))
    rid3 = raw_line(as_customer.show_customer_order_details(ShowCustomerOrderDetailsRequest(order_id=third)))["resource_id"]
    r = as_customer.update_period_to_on_demand_instantly(UpdatePeriodToOnDemandInstantlyRequest(
        body=PeriodToOnDemandInstantlyReq(resource_ids=[rid3])))
    res = (r.to_ondemand_service_results or [None])[0]
    check("update_period_to_on_demand_instantly: SUCCESS with its order",
          res is not None and res.result == "SUCCESS" and bool(res.order_id), str(r))

    # The partner's view of the customer's pay-per-use resources (usage of the consumption part).
    r = client.list_customer_on_demand_resources(ListCustomerOnDemandResourcesRequest(
        body=QueryCustomerOnDemandResourcesReq(customer_id=customer_id)))
    check("list_customer_on_demand_resources: the metered resource",
          any(x.resource_id == "i-smoke" and x.status == 1 for x in (r.resources or [])), str(r))
    expect_error("list_customer_on_demand_resources with a customer's credentials",
                 lambda: as_customer.list_customer_on_demand_resources(ListCustomerOnDemandResourcesRequest(
                     body=QueryCustomerOnDemandResourcesReq(customer_id=customer_id))), 403, "CBC.0151")

    # A combined transaction (extension body with items[]): the SDK lists the parent with its
    # sub-orders; a sub-order's id is refused on pay and cancel; the parent's id cancels all.
    resp = as_customer.call_api(
        resource_path="/v2/orders/customer-orders", method="POST",
        header_params={"Content-Type": "application/json"},
        body={"items": [{"product_id": product, "region_code": "cn-north-1", "period_type": 2,
                         "period_num": 1, "subscription_num": 1}] * 2},
        response_type="PayOrdersResponse", response_headers=[], request_type="object")
    parent = json.loads(resp.raw_content)["order_id"]
    r = as_customer.list_customer_orders(ListCustomerOrdersRequest(order_id=parent))
    o = (r.order_infos or [None])[0]
    subs = [x.order_id for x in ((o.sub_order_infos if o else None) or [])]
    check("list_customer_orders: a combined transaction with its two sub-orders",
          o is not None and o.order_id == parent and len(subs) == 2
          and D(str(o.official_amount)) == D("200"), str(r))
    expect_error("pay_orders with a sub-order's id", lambda: as_customer.pay_orders(PayOrdersRequest(
        body=PayCustomerOrderV3Req(order_id=subs[0], use_coupon="NO", use_discount="NO"))), 400, "CBC.99000089")
    expect_error("cancel_customer_order with a sub-order's id", lambda: as_customer.cancel_customer_order(
        CancelCustomerOrderRequest(body=CancelCustomerOrderReq(order_id=subs[1]))), 400, "CBC.99000089")
    as_customer.cancel_customer_order(CancelCustomerOrderRequest(body=CancelCustomerOrderReq(order_id=parent)))
    r = as_customer.show_customer_order_details(ShowCustomerOrderDetailsRequest(order_id=subs[0]))
    check("cancel_customer_order of the parent cancels its sub-orders", r.order_info.status == 4, str(r))

    # No capacity left in the region: CBC.99003141 through the SDK.
    status, _ = admin("PUT", f"/admin/v1/products/{product}/capacities/cn-north-1", {"capacity": 0})
    check("admin: capacity 0 in cn-north-1", status == 200, str(status))
    full = create_order()
    expect_error("pay_orders beyond the capacity", lambda: as_customer.pay_orders(PayOrdersRequest(
        body=PayCustomerOrderV3Req(order_id=full, use_coupon="NO", use_discount="NO"))), 400, "CBC.99003141")

    _, audit = admin("GET", "/admin/v1/ledger/audit")
    check("ledger audit is clean after the orders", audit.get("ok") is True, str(audit))


def raw_line(resp):
    """The first line item as sent (the resource id is an extension field the SDK drops)."""
    return json.loads(resp.raw_content)["order_line_items"][0]
