//! One integration-test binary: every test drives the real router over HTTP against its own
//! PostgreSQL database.

mod helpers;

mod association;
mod auth;
mod authorizations;
mod bills_rules;
mod catalogue;
mod consumption;
mod consumption_crash;
mod consumption_managers;
mod consumption_random;
mod consumption_scale;
mod coupons;
mod crash;
mod customers;
mod events;
mod funding;
mod funding_one_statement;
mod hardening;
mod ledger;
mod ledger_incremental;
mod lifecycle;
mod list_scale;
mod money_out;
mod money_out_bills;
mod orders;
mod orders_assume_role;
mod orders_capacity;
mod orders_combined;
mod orders_expire_day;
mod orders_resources;
mod orders_sandbox;
mod organisation;
mod pg_crash;
mod pgbouncer;
mod platform;
mod resource_bills;
mod sandbox_clock;
mod selling_dashboard_perf;
mod selling_leads;
mod selling_opportunities;
mod selling_performance;
mod selling_performance_perf;
mod selling_warnings;
mod webhooks;
