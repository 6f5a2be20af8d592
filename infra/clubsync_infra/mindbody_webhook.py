"""The Mindbody webhook receiver (issue 13): a public function URL authenticated by the
X-Mindbody-Signature HMAC (Mindbody cannot sign SigV4 requests). Each event names a client,
read from Mindbody with the location's billing secret, so the function reads those secrets
too (the clubsync prefix, like the syncs).
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from clubsync.store.tables import ENTITIES, STATE
from clubsync_infra.member_sync import TABLE_ACTIONS
from clubsync_infra.runtime import (
    PythonFunction,
    grant_billing_secrets,
    shared_secret,
)
from clubsync_infra.storage import Storage

SERVICE = "clubsync-mindbody-webhook"
# The handler's variable (functions/mindbody_webhook/handler.py).
SECRET_NAME_VARIABLE = "CLUBSYNC_MINDBODY_WEBHOOK_SECRET_NAME"
# A few deliveries side by side: events of one client apply one at a time anyway (the
# location's members lease; a refused one is answered 503 and redelivered), and a 401 flood is
# refused before any import (docs/decisions.md, "The public function URLs under a flood").
CONCURRENCY = 2
# Mindbody stops waiting after 10 s: an invocation still running then is of no use to it.
TIMEOUT = Duration.seconds(10)


class MindbodyWebhook(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        storage: Storage,
        layers: Sequence[lambda_.ILayerVersion],
        secret_prefix: str,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.secret_name = f"clubsync-{stage}/mindbody-webhook"
        self.secret = shared_secret(
            self,
            "SignatureKey",
            name=self.secret_name,
            description="The messageSignatureKey of the Mindbody webhook subscription",
            rotation="Mindbody issues the key when the subscription is created: it is put "
            "here by hand (docs/providers/mindbody.md, 'Webhooks'); the generated value "
            "authenticates nobody until then. The function reads it with a 5-minute cache.",
            removal_policy=removal_policy,
        )
        webhook = PythonFunction(
            self,
            "Function",
            name="mindbody_webhook",
            handler="lambda_handler",
            description="Receives Mindbody client and contract events",
            layers=layers,
            environment={
                ENTITIES.env_var: storage.entities.table_name,
                STATE.env_var: storage.state.table_name,
                SECRET_NAME_VARIABLE: self.secret_name,
            },
            service=SERVICE,
            memory_size=512,
            timeout=TIMEOUT,
            log_retention=log_retention,
            removal_policy=removal_policy,
            reserved_concurrency=CONCURRENCY,
        )
        self.function = webhook.function
        self.log_group = webhook.log_group
        # People, agreements, the person index (entities); message ids, leases, runs, the call
        # ledger and the location registry (state).
        webhook.grant_table(storage.entities, TABLE_ACTIONS)
        webhook.grant_table(storage.state, TABLE_ACTIONS)
        grant_billing_secrets(webhook.role, secret_prefix)
        # 401 unless X-Mindbody-Signature is the HMAC of the body under the key, before the
        # handler imports the library; counted as UnauthorizedRequests.
        self.url = webhook.add_public_url(self.secret, caller="Mindbody")
