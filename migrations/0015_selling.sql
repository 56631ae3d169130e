-- Selling (issue 12): opportunities reported by partners (PO) or shared by the vendor (HO), their
-- history, and the vendor's working-day calendar used for HO acceptance deadlines.

-- Exceptions to the Monday–Friday working week (Beijing dates): 'holiday' (a weekday off) or
-- 'workday' (a weekend day worked, 调休).
create table calendar_day (
    day   date primary key,
    kind  text not null constraint calendar_day_kind_check check (kind in ('holiday', 'workday')),
    name  text not null default ''
);

create table opportunity (
    id                        text primary key,
    partner_id                text not null references partner (account_id),
    origin                    text not null constraint opportunity_origin_check check (origin in ('PO', 'HO')),
    status                    text not null constraint opportunity_status_check check (status in (
                                  'DRAFT', 'SUBMITTED', 'APPROVED', 'REJECTED', 'PENDING_ACCEPTANCE',
                                  'ACCEPTED', 'DECLINED', 'EXPIRED', 'WON', 'LOST', 'DUPLICATE')),
    customer_id               text references customer (account_id),
    -- A distributor's opportunity for one of its resellers' customers.
    indirect_partner_id       text references partner (account_id),
    prospect_name             text,
    prospect_industry         text,
    -- What the duplicate rule compares: the customer id, or 'prospect:' + the lower-cased name.
    customer_key              text not null,
    title                     text not null,
    industry                  text,
    opportunity_type          text,
    stage                     text,
    confidence                smallint constraint opportunity_confidence_check check (confidence between 0 and 100),
    expected_monthly_revenue  bigint constraint opportunity_revenue_check check (expected_monthly_revenue >= 0),
    expected_close_date       date,
    product_line              text,
    products                  text[] not null default '{}',
    description               text,
    next_step                 text,
    technical_exchange        text,
    test_status               text,
    customer_consent          boolean not null default false,
    -- The responsible customer manager (the registering manager, else the customer's manager).
    manager_id                text references operator (account_id),
    created_by                text not null,
    reason                    text,
    duplicate_of              text references opportunity (id),
    accept_deadline           timestamptz,
    approved_at               timestamptz,
    closed_at                 timestamptz,
    version                   integer not null default 1,
    created_at                timestamptz not null,
    updated_at                timestamptz not null,
    constraint opportunity_customer_or_prospect check ((customer_id is null) <> (prospect_name is null)),
    constraint opportunity_ho_deadline check ((origin = 'HO') = (accept_deadline is not null))
);
create index opportunity_partner_idx on opportunity (partner_id, updated_at desc, id desc);
create index opportunity_partner_status_idx on opportunity (partner_id, status, updated_at desc, id desc);
create index opportunity_partner_origin_idx on opportunity (partner_id, origin, updated_at desc, id desc);
create index opportunity_partner_stage_idx on opportunity (partner_id, stage, updated_at desc, id desc);
create index opportunity_partner_manager_idx on opportunity (partner_id, manager_id, updated_at desc, id desc);
create index opportunity_customer_idx on opportunity (customer_id, updated_at desc, id desc) where customer_id is not null;
create index opportunity_status_idx on opportunity (status, updated_at desc, id desc);
-- Candidates of the duplicate rule: registrations that hold their place.
create index opportunity_dedup_idx on opportunity (customer_key, product_line)
    where status in ('APPROVED', 'PENDING_ACCEPTANCE', 'ACCEPTED', 'WON');
-- The clock-driven expiry of unanswered HO opportunities.
create index opportunity_pending_deadline_idx on opportunity (accept_deadline, partner_id)
    where status = 'PENDING_ACCEPTANCE';

create table opportunity_event (
    id              bigint generated always as identity primary key,
    opportunity_id  text not null references opportunity (id),
    action          text not null,
    from_status     text,
    to_status       text not null,
    actor_kind      text not null constraint opportunity_event_actor_check check (actor_kind in ('partner', 'operator', 'vendor', 'system')),
    actor_id        text,
    reason          text,
    changes         jsonb,
    created_at      timestamptz not null
);
create index opportunity_event_opportunity_idx on opportunity_event (opportunity_id, id);
create index opportunity_updated_idx on opportunity (updated_at desc, id desc);

-- Leads (线索): dispatched by the vendor or the partner's own, worked by its managers.
alter table partner add column marketing_plan text not null default '1.0'
    constraint partner_marketing_plan_check check (marketing_plan in ('1.0', '2.0'));

create table lead (
    id                        text primary key,
    partner_id                text not null references partner (account_id),
    origin                    text not null constraint lead_origin_check check (origin in ('VENDOR', 'OWN')),
    status                    text not null constraint lead_status_check check (status in ('NEW', 'FOLLOWING', 'CONVERTED', 'CLOSED')),
    company                   text not null,
    contact_name              text,
    phone                     text,
    email                     text,
    industry                  text,
    description               text,
    manager_id                text references operator (account_id),
    converted_customer_id     text references customer (account_id),
    converted_opportunity_id  text references opportunity (id),
    close_reason              text,
    created_by                text not null,
    created_at                timestamptz not null,
    updated_at                timestamptz not null
);
create index lead_partner_idx on lead (partner_id, updated_at desc, id desc);
create index lead_partner_status_idx on lead (partner_id, status, updated_at desc, id desc);
create index lead_partner_origin_idx on lead (partner_id, origin, updated_at desc, id desc);
create index lead_partner_manager_idx on lead (partner_id, manager_id, updated_at desc, id desc);

create table lead_follow_up (
    id          bigint generated always as identity primary key,
    lead_id     text not null references lead (id),
    actor_id    text not null,
    content     text not null,
    created_at  timestamptz not null
);
create index lead_follow_up_lead_idx on lead_follow_up (lead_id, id);

-- Customer warnings (客户预警): raised from the data (low balance, un-association; arrears and
-- expiring resources by the consumption/order modules through service::warnings::raise_warning)
-- or by the vendor; handled by the customer's responsible person.
create table customer_warning (
    id           bigint generated always as identity primary key,
    partner_id   text not null references partner (account_id),
    customer_id  text not null references account (id),
    scene        text not null constraint customer_warning_scene_check check (scene in (
                     'LOW_BALANCE', 'ARREARS', 'RESOURCE_EXPIRING', 'UNASSOCIATED', 'VENDOR')),
    level        text not null constraint customer_warning_level_check check (level in ('INFO', 'WARNING', 'CRITICAL')),
    detail       text not null,
    -- What raised it (e.g. 'association_event:42'); one warning per source.
    source_ref   text,
    status       text not null default 'OPEN' constraint customer_warning_status_check check (status in ('OPEN', 'HANDLED')),
    action       text,
    remark       text,
    handled_by   text,
    handled_at   timestamptz,
    raised_at    timestamptz not null
);
create index customer_warning_partner_idx on customer_warning (partner_id, raised_at desc, id desc);
create index customer_warning_partner_status_idx on customer_warning (partner_id, status, raised_at desc, id desc);
create index customer_warning_partner_scene_idx on customer_warning (partner_id, scene, raised_at desc, id desc);
create index customer_warning_customer_idx on customer_warning (customer_id, raised_at desc, id desc);
create unique index customer_warning_source_key on customer_warning (scene, source_ref) where source_ref is not null;
-- At most one open low-balance warning per customer.
create unique index customer_warning_open_low_balance on customer_warning (customer_id) where scene = 'LOW_BALANCE' and status = 'OPEN';

create table partner_warning_setting (
    partner_id             text primary key references partner (account_id),
    -- Fen; a resale customer whose cash balance falls below it gets a LOW_BALANCE warning.
    low_balance_threshold  bigint not null constraint partner_warning_threshold_check check (low_balance_threshold > 0),
    updated_at             timestamptz not null
);

-- Association events already turned into UNASSOCIATED warnings are found by source_ref; the scan
-- reads new un-associations by id.
create index association_event_unassociate_idx on association_event (id) where event_type = 'unassociate';

-- Sales-expansion tasks (销售拓展任务): created by the vendor on a partner's customer; a reseller's
-- customers' tasks are handled by its distributor (the reseller reads them).
create table sales_task (
    id                  text primary key,
    partner_id          text not null references partner (account_id),
    handler_partner_id  text not null references partner (account_id),
    customer_id         text not null references customer (account_id),
    task_type           text not null constraint sales_task_type_check check (task_type in ('RENEWAL_DUE', 'CROSS_SELL', 'LEAD_MINING')),
    title               text not null,
    description         text,
    due_date            date,
    status              text not null default 'OPEN' constraint sales_task_status_check check (status in ('OPEN', 'DONE')),
    result              text,
    remark              text,
    handled_by          text,
    handled_at          timestamptz,
    created_at          timestamptz not null
);
create index sales_task_partner_idx on sales_task (partner_id, created_at desc, id desc);
create index sales_task_handler_idx on sales_task (handler_partner_id, created_at desc, id desc);
create index sales_task_customer_idx on sales_task (customer_id, created_at desc, id desc);


-- How far the clock-driven scans have read an append-only source (e.g. association_event ids).
create table selling_watermark (
    name     text primary key,
    last_id  bigint not null
);
create index association_event_partner_unassociate_idx on association_event (partner_id, created_at)
    where event_type = 'unassociate';

-- Maintained customer counts per partner, manager ('' = none) and association type, so the
-- dashboard's total and by-type counts read a few rows instead of every customer. Kept by a
-- trigger in the same transaction as every change of a customer's partner, manager or type.
create table customer_count (
    partner_id        text not null,
    manager_id        text not null default '',
    association_type  text not null,
    n                 bigint not null,
    primary key (partner_id, manager_id, association_type)
);

create function customer_count_track() returns trigger language plpgsql as $$
begin
    if tg_op in ('UPDATE', 'DELETE') and old.partner_id is not null then
        update customer_count set n = n - 1
         where partner_id = old.partner_id and manager_id = coalesce(old.manager_id, '')
           and association_type = old.association_type;
    end if;
    if tg_op in ('INSERT', 'UPDATE') and new.partner_id is not null then
        insert into customer_count (partner_id, manager_id, association_type, n)
        values (new.partner_id, coalesce(new.manager_id, ''), new.association_type, 1)
        on conflict (partner_id, manager_id, association_type) do update set n = customer_count.n + 1;
    end if;
    return null;
end
$$;

create trigger customer_count_track
    after insert or delete or update of partner_id, manager_id, association_type on customer
    for each row execute function customer_count_track();

insert into customer_count (partner_id, manager_id, association_type, n)
select partner_id, coalesce(manager_id, ''), association_type, count(*)
from customer where partner_id is not null
group by 1, 2, 3;
