//! One integration-test binary: every test drives the real router over HTTP against its own
//! PostgreSQL database.

mod helpers;

mod association;
mod auth;
mod catalogue;
mod coupons;
mod crash;
mod customers;
mod funding;
mod ledger;
mod lifecycle;
mod organisation;
mod platform;
