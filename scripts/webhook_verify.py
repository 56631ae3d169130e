"""Verifies one webhook delivery with the Standard Webhooks reference library (`standardwebhooks`).

Usage: webhook_verify.py SECRET WEBHOOK_ID WEBHOOK_TIMESTAMP WEBHOOK_SIGNATURE BODY_FILE
Exits 0 and prints "verified" when the library accepts the delivery, 1 otherwise. Run by the
ignored Rust test `webhooks::the_standard_webhooks_python_package_verifies_a_delivery` through
scripts/webhook-verify.
"""
import sys

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

secret, msg_id, timestamp, signature, body_file = sys.argv[1:6]
with open(body_file, "rb") as f:
    body = f.read()
headers = {
    "webhook-id": msg_id,
    "webhook-timestamp": timestamp,
    "webhook-signature": signature,
}
try:
    payload = Webhook(secret).verify(body, headers)
except WebhookVerificationError as e:
    print(f"rejected: {e}")
    sys.exit(1)
print(f"verified {payload['type']} {payload['event_id']}")
