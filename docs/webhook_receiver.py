"""A certlookup webhook receiver that verifies Standard Webhooks signatures (README).

CERTLOOKUP_WEBHOOK_SECRET=whsec_... python docs/webhook_receiver.py
"""

import os
from http.server import BaseHTTPRequestHandler, HTTPServer

from standardwebhooks import Webhook, WebhookVerificationError

webhook = Webhook(os.environ["CERTLOOKUP_WEBHOOK_SECRET"])  # the whsec_... shown once
seen: set[str] = set()  # use your database: retries repeat the webhook-id


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        try:
            event = webhook.verify(body, dict(self.headers))
        except WebhookVerificationError:
            self.send_response(400)
            self.end_headers()
            return
        if self.headers["webhook-id"] not in seen:
            seen.add(self.headers["webhook-id"])
            data = event["data"]
            if event["type"] == "watch.changed":
                watch, reasons = data["watch"], data["reasons"]
                print(watch["reference"], reasons, data["current"]["verdict"], flush=True)
        self.send_response(204)
        self.end_headers()


# Behind your HTTPS reverse proxy (webhook URLs must be https://).
port = int(os.environ.get("PORT", "8080"))
HTTPServer(("127.0.0.1", port), Receiver).serve_forever()
