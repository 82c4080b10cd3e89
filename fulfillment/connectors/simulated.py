"""A simulated WMS, for the demo and the tests: it takes every fulfillment order it is sent and
plays the warehouse, one step per Celery task, through the same services a real node's API calls
use (with message ids, so a redelivered step has no second effect).

Behaviour per node (`Node.connector_settings`):
    {"behaviour": "ship" | "reject" | "short" | "accept_only", "step_seconds": 5,
     "reject_reason": "…", "deliver": true}
ship: accept → pack → ship (simulated carrier label) → tracked to delivered.
short: like ship, but the first line is packed one unit short (the rest is rerouted).
reject: refuses the order (it is rerouted to the next best node).
Pickup and curbside orders stop at ready_for_pickup: the customer collects them in the store.

Requests (cancel, address change) are answered one step later: confirmed while the parcel has
not left; with {"request_answer": "ship_first"} the warehouse ships what it holds before it
reads the request (the parcel had left), so a cancel is refused `already_shipped`.
"""

from typing import Any

from fulfillment.connectors.base import (
    NodeRequestPayload,
    ReleaseAck,
    ReleasePayload,
    register_connector,
)

DEFAULT_STEP_SECONDS = 5


class SimulatedWms:
    pushes = False  # the "WMS" is our own task queue: its steps are scheduled after commit

    def send(self, payload: ReleasePayload) -> ReleaseAck:
        return ReleaseAck(reference=f"SIM-{payload.number}")

    def after_release(self, fulfillment_id: int, settings: dict[str, Any]) -> None:
        schedule_step(fulfillment_id, "start", settings)

    def send_request(self, payload: NodeRequestPayload) -> None:
        schedule_step(
            payload.fulfillment.fulfillment_id,
            f"request:{payload.request_id}",
            payload.fulfillment.settings,
        )


def schedule_step(fulfillment_id: int, step: str, settings: dict[str, Any]) -> None:
    # Seam: the task module imports the services that import this package.
    from fulfillment.tasks import simulated_wms_step_task  # noqa: PLC0415

    simulated_wms_step_task.apply_async(
        (fulfillment_id, step),
        countdown=float(settings.get("step_seconds", DEFAULT_STEP_SECONDS)),
    )


register_connector("simulated", SimulatedWms())
