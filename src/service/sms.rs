//! Pluggable delivery of verification codes: logged in development, POSTed to a webhook in
//! production.

use std::time::Duration;

use crate::config::{SmsConfig, SmsSenderKind};

pub enum SmsSender {
    Log,
    Webhook {
        client: reqwest::Client,
        url: String,
    },
}

#[derive(Debug, serde::Serialize)]
pub struct SmsMessage<'a> {
    pub mobile_phone: &'a str,
    pub code: &'a str,
    pub lang: &'a str,
    pub scene: i32,
    pub expires_in_minutes: i64,
}

impl SmsSender {
    pub fn from_config(cfg: &SmsConfig) -> anyhow::Result<Self> {
        Ok(match cfg.sender {
            SmsSenderKind::Log => SmsSender::Log,
            SmsSenderKind::Webhook => SmsSender::Webhook {
                client: reqwest::Client::builder()
                    .timeout(Duration::from_secs(cfg.webhook_timeout_secs))
                    .build()?,
                url: cfg
                    .webhook_url
                    .clone()
                    .ok_or_else(|| anyhow::anyhow!("sms.webhook_url is required"))?,
            },
        })
    }

    /// Whether codes may be read back through the admin API (development sender only).
    pub fn codes_readable(&self) -> bool {
        matches!(self, SmsSender::Log)
    }

    pub async fn send(&self, msg: &SmsMessage<'_>) -> Result<(), String> {
        match self {
            SmsSender::Log => {
                // Development sender: the code is deliberately logged (and readable by the vendor).
                tracing::info!(
                    mobile_phone = msg.mobile_phone,
                    code = msg.code,
                    scene = msg.scene,
                    "verification code (development sender)"
                );
                Ok(())
            }
            SmsSender::Webhook { client, url } => {
                let resp = client
                    .post(url)
                    .json(msg)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                if resp.status().is_success() {
                    Ok(())
                } else {
                    Err(format!("webhook answered {}", resp.status()))
                }
            }
        }
    }
}
