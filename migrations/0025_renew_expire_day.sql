-- set_resources_renew_config EXPIRE_DATE: renewals of the customer's resources end on this day of
-- the month (UTC+8): 1–28, or -1 for the month's last day. Beside deduction_days, each optional.
alter table renew_config
    alter column deduction_days drop not null,
    add column expire_day smallint
        constraint renew_config_expire_day_check check (expire_day between 1 and 28 or expire_day = -1);
