"""Zai's webhooks API (docs/providers/zai.md#webhook-subscriptions): subscriptions, their jobs, the signing secret.

A second API of Zai: the gem sends it to the VA / webhooks host (`sandbox.au-0000.api.assemblypay.com`), not the
core API's; payemu serves both from its root, with the same bearer tokens.
"""

from __future__ import annotations

from emulator.core.errors import Reply
from emulator.core.provider import Call, operation
from emulator.providers.zai import callbacks, errors
from emulator.providers.zai.model import ZaiState
from emulator.providers.zai.routes import _body, _listing, _page, bp
from emulator.providers.zai.wire import CORE_CODEC

WEBHOOKS = "/webhooks"
WEBHOOK = "/webhooks/<webhook_id>"
JOB_STATUSES = ("success", "failed", "pending")  # (code) the gem filters success|failed; (inferred) pending


@bp.route(WEBHOOKS, methods=["POST"], provide_automatic_options=False)
@operation("create_webhook", codec=CORE_CODEC)
def create_webhook(call: Call) -> Reply:
    """Subscribe `url` to one object type; (doc) one enabled webhook per object type."""
    hook = call.state.create_webhook(_body(call), now=call.now, new_id=call.fake.uuid4())
    return Reply(201, {"webhooks": hook.to_wire()}, {"Location": f"/webhooks/{hook.id}"})


@bp.route(WEBHOOKS, methods=["GET"], provide_automatic_options=False)
@operation("list_webhooks", codec=CORE_CODEC)
def list_webhooks(call: Call) -> Reply:
    limit, offset = _page(call)
    hooks = list(call.state.webhooks.values())
    return Reply(200, _listing(call, "webhooks", [h.to_wire() for h in hooks[offset : offset + limit]], len(hooks)))


@bp.route(WEBHOOK, methods=["GET"], provide_automatic_options=False)
@operation("get_webhook", codec=CORE_CODEC)
def get_webhook(call: Call) -> Reply:
    return Reply(200, {"webhooks": call.state.get_webhook(call.path_args["webhook_id"]).to_wire()})


@bp.route(WEBHOOK, methods=["PATCH"], provide_automatic_options=False)
@operation("update_webhook", codec=CORE_CODEC)
def update_webhook(call: Call) -> Reply:
    hook = call.state.update_webhook(call.path_args["webhook_id"], _body(call), now=call.now)
    return Reply(200, {"webhooks": hook.to_wire()})


@bp.route(WEBHOOK, methods=["DELETE"], provide_automatic_options=False)
@operation("delete_webhook", codec=CORE_CODEC)
def delete_webhook(call: Call) -> Reply:
    call.state.delete_webhook(call.path_args["webhook_id"])
    return Reply(200, {"webhooks": "Successfully redacted"})  # (inferred) as the Callbacks API's delete (doc)


@bp.route(WEBHOOK + "/jobs", methods=["GET"], provide_automatic_options=False)
@operation("list_webhook_jobs", codec=CORE_CODEC)
def list_webhook_jobs(call: Call) -> Reply:
    """Every delivery of the webhook, newest first, with its outcome; filters `status` and `object_id` (code)."""
    state: ZaiState = call.state
    hook = state.get_webhook(call.path_args["webhook_id"])
    wanted = call.query.get("status")
    if wanted is not None and wanted not in JOB_STATUSES:
        raise errors.ValidationFailed.one("status", errors.MSG_NOT_IN_LIST)
    jobs = [job.to_wire(hook, callbacks.job_status(call, job)) for job in reversed(hook.jobs)]
    jobs = [j for j in jobs if wanted in (None, j["status"])]
    object_id = call.query.get("object_id")
    jobs = [j for j in jobs if object_id in (None, j["object_id"])]
    limit, offset = _page(call)
    return Reply(200, _listing(call, "jobs", jobs[offset : offset + limit], len(jobs)))


@bp.route(WEBHOOK + "/jobs/<job_id>", methods=["GET"], provide_automatic_options=False)
@operation("get_webhook_job", codec=CORE_CODEC)
def get_webhook_job(call: Call) -> Reply:
    hook = call.state.get_webhook(call.path_args["webhook_id"])
    for job in hook.jobs:
        if job.id == call.path_args["job_id"]:
            return Reply(200, {"jobs": job.to_wire(hook, callbacks.job_status(call, job))})
    raise errors.RecordNotFound("id")  # (inferred)


@bp.route(WEBHOOKS + "/secret_key", methods=["POST"], provide_automatic_options=False)
@operation("create_webhook_secret_key", codec=CORE_CODEC)
def create_webhook_secret_key(call: Call) -> Reply:
    """Register the secret that signs this marketplace's webhooks (docs/providers/zai.md#webhooks)."""
    callbacks.dispatch_pending(call)
    secret = call.state.set_webhook_secret(_body(call).get("secret_key"))
    return Reply(201, {"secret_key": secret})  # (code) the gem's spec stub: 201 echoing the key
