//! One integration-test binary: every test drives the real router over HTTP against its own
//! PostgreSQL database.

mod helpers;

mod association;
mod auth;
mod coupons;
mod crash;
mod customers;
mod funding;
mod ledger;
mod lifecycle;
mod organisation;
mod platform;
mod selling_dashboard_perf;
mod selling_leads;
mod selling_opportunities;
mod selling_warnings;
