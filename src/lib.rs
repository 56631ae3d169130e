//! partner-center: a partner sales platform API server compatible with the Huawei Cloud BSS partner
//! API (`/v2`) and its official SDKs.
//!
//! Layers point one way: [`http`] → [`service`] → [`db`] (and the ledger) → [`domain`].

pub mod config;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod embedded_pg;
pub mod error;
pub mod http;
pub mod ledger;
pub mod local_secrets;
pub mod service;
pub mod signing;
pub mod startup;
pub mod state;
pub mod telemetry;
