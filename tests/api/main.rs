//! One integration-test binary: every test drives the real router over HTTP against its own
//! PostgreSQL database.

mod helpers;

mod association;
mod auth;
mod bills_rules;
mod consumption;
mod consumption_crash;
mod consumption_managers;
mod consumption_random;
mod coupons;
mod crash;
mod customers;
mod funding;
mod ledger;
mod lifecycle;
mod organisation;
mod platform;
