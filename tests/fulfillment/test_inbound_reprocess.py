"""Failed inbound messages: automatic retries with backoff for 945s from files, dead after the
last attempt with an exception case, and re-processing after a fix (service, the message admin
and the exception console's remedy). Node API refusals are kept, answered and re-processable."""

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from fulfillment.models import FulfillmentOrder, FulfillmentStatus
from fulfillment.x12.inbox import import_945_file
from fulfillment.x12.mapping import advice_from_payload, advice_payload
from integrations.inbound import reprocess_message, retry_due_messages
from integrations.models import InboundMessage, InboundStatus
from integrations.x12 import read_945s
from oms.core.actors import Actor
from oms.core.errors import DomainError
from oms.events.models import Event
from ops.models import CaseStatus, ExceptionCase
from ops.services import remedies
from orders.services.api_clients import create_api_client
from tests.admin.conftest import client_for, messages_of
from tests.conftest import bearer_client
from tests.factories.inventory import stocked
from tests.factories.users import staff_user, superuser
from tests.fulfillment.x12_support import CORPUS, advice_for, drop_945, needs_corpus

pytestmark = pytest.mark.django_db
PERSON = Actor.system("test")


def hold_back(fo: FulfillmentOrder) -> None:
    """The 945 arrives while the fulfillment order cannot ship yet (still pending release)."""
    FulfillmentOrder.objects.filter(pk=fo.pk).update(status=FulfillmentStatus.PENDING)


def let_go(fo: FulfillmentOrder) -> None:
    FulfillmentOrder.objects.filter(pk=fo.pk).update(status=FulfillmentStatus.RELEASED)


def make_due(message: InboundMessage) -> None:
    InboundMessage.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now() - dt.timedelta(seconds=1)
    )


def shipped_events(fo: FulfillmentOrder) -> int:
    return Event.objects.filter(stream=fo.order.stream, type="fulfillment.shipped").count()


def test_a_refused_945_is_retried_with_backoff_and_applies_once_the_cause_is_fixed(
    x12_node, products, release, x12_dirs
):
    # given: a 945 for a fulfillment order that cannot ship yet
    stocked(x12_node, products["TEE"], on_hand=5)
    fo = release(skus=["TEE"], quantity=2)
    hold_back(fo)
    before = timezone.now()
    import_945_file(drop_945(x12_dirs.inbox, "945-early.edi", advice_for(fo)))
    message = InboundMessage.objects.get(kind="x12.945")
    assert (message.status, message.attempts, message.error_code) == (
        InboundStatus.FAILED,
        1,
        "fulfillment_transition_refused",
    )
    wait = message.next_attempt_at - before
    assert dt.timedelta(seconds=47) <= wait <= dt.timedelta(seconds=73)  # 60 s ± 20 %

    # when: the retry runs before it is due, then when due but still refused
    assert retry_due_messages() == {"due": 0, "processed": 0, "failed": 0, "dead": 0}
    make_due(message)
    assert retry_due_messages()["failed"] == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (InboundStatus.FAILED, 2)
    assert message.next_attempt_at - timezone.now() > dt.timedelta(minutes=3)  # 4 min ± 20 %

    # when: the cause is fixed and the next attempt is due
    let_go(fo)
    make_due(message)
    counts = retry_due_messages()

    # then: applied once, and never again
    fo.refresh_from_db()
    message.refresh_from_db()
    assert counts == {"due": 1, "processed": 1, "failed": 0, "dead": 0}
    assert fo.status == FulfillmentStatus.SHIPPED
    assert (message.status, message.attempts, message.error_code) == ("processed", 3, "")
    assert message.next_attempt_at is None
    assert shipped_events(fo) == 1
    make_due(message)
    assert retry_due_messages()["due"] == 0
    assert shipped_events(fo) == 1


def test_after_the_last_attempt_a_message_is_dead_with_a_case_and_a_person_reprocesses_it(
    x12_node, products, release, x12_dirs, settings
):
    # given: three attempts allowed, all refused
    settings.OMS_INBOUND_MAX_ATTEMPTS = 3
    stocked(x12_node, products["TEE"], on_hand=5)
    fo = release(skus=["TEE"], quantity=1)
    hold_back(fo)
    import_945_file(drop_945(x12_dirs.inbox, "945-early.edi", advice_for(fo)))
    message = InboundMessage.objects.get(kind="x12.945")
    for _ in range(2):
        make_due(message)
        retry_due_messages()
    message.refresh_from_db()
    assert (message.status, message.attempts, message.next_attempt_at) == ("dead", 3, None)
    case = ExceptionCase.objects.get(subject_type="message", subject_id=message.pk)
    assert (case.kind, case.status, case.order_id) == ("integration_failed", "open", fo.order_id)
    make_due(message)
    assert retry_due_messages()["due"] == 0  # dead: no more automatic attempts

    # when: a person fixes the cause and re-processes from the exception console
    let_go(fo)
    olga = superuser("olga")
    remedies.reprocess_message(case_id=case.pk, user=olga)

    # then
    fo.refresh_from_db()
    message.refresh_from_db()
    case.refresh_from_db()
    assert fo.status == FulfillmentStatus.SHIPPED
    assert (message.status, message.attempts) == ("processed", 4)
    assert case.status == CaseStatus.RESOLVED
    touch = Event.objects.get(stream=fo.order.stream, type="order.manual_touch")
    assert (touch.payload["remedy"], touch.payload["user"]) == ("reprocess_message", "olga")
    shipped = Event.objects.get(stream=fo.order.stream, type="fulfillment.shipped")
    assert shipped.actor_label == "olga"


def test_a_remedy_that_is_refused_again_keeps_the_case_open_and_records_the_attempt(
    x12_node, products, release, x12_dirs, settings
):
    settings.OMS_INBOUND_MAX_ATTEMPTS = 1
    stocked(x12_node, products["TEE"], on_hand=5)
    fo = release(skus=["TEE"], quantity=1)
    hold_back(fo)
    import_945_file(drop_945(x12_dirs.inbox, "945-early.edi", advice_for(fo)))
    message = InboundMessage.objects.get(kind="x12.945")
    case = ExceptionCase.objects.get(subject_type="message", subject_id=message.pk)

    with pytest.raises(DomainError) as refused:
        remedies.reprocess_message(case_id=case.pk, user=superuser("olga"))

    message.refresh_from_db()
    case.refresh_from_db()
    assert refused.value.code == "fulfillment_transition_refused"
    assert (message.status, message.attempts) == ("dead", 2)
    assert case.is_open
    assert not Event.objects.filter(type="order.manual_touch").exists()


def test_reprocessing_refuses_processed_messages_and_kinds_without_a_handler(
    x12_node, products, release, x12_dirs
):
    stocked(x12_node, products["TEE"], on_hand=5)
    fo = release(skus=["TEE"], quantity=1)
    import_945_file(drop_945(x12_dirs.inbox, "945.edi", advice_for(fo)))
    processed = InboundMessage.objects.get(source="x12:dc-3pl")
    tracking = InboundMessage.objects.create(
        source="carrier:easypost",
        message_id="evt_1",
        kind="carrier.unregistered",  # no handler (tracking has one since it is retried by us)
        payload={},
        fingerprint="x",
        status=InboundStatus.FAILED,
        received_at=timezone.now(),
    )

    with pytest.raises(DomainError) as again:
        reprocess_message(message_id=processed.pk, actor=PERSON)
    with pytest.raises(DomainError) as unknown_kind:
        reprocess_message(message_id=tracking.pk, actor=PERSON)
    with pytest.raises(DomainError) as missing:
        reprocess_message(message_id=999_999, actor=PERSON)

    assert (again.value.code, again.value.http_status) == ("message_already_processed", 409)
    assert unknown_kind.value.code == "message_not_reprocessable"
    assert missing.value.code == "message_not_found"
    assert shipped_events(fo) == 1


def test_a_refused_node_api_message_is_kept_answered_and_reprocessable(network, products):
    # given: the node ships before the order is released to it (still pending)
    stocked(network["east"], products["TEE"], on_hand=5)
    from fulfillment.services.orchestration import orchestrate_order
    from tests.factories.orders import captured_order

    order = captured_order(skus=["TEE"], quantity=1)
    orchestrate_order(order_id=order.pk)  # eager on-commit release is not run: still pending
    fo = FulfillmentOrder.objects.get(order=order)
    hold_back(fo)
    east = bearer_client(create_api_client(node_code="dc-east", name="east wms").key)
    body = {
        "message_id": "ship-1",
        "packages": [{"carrier": "UPS", "service": "ground", "tracking_number": "1Z1"}],
    }

    # when
    response = east.post(f"/api/v1/fulfillments/{fo.number}/ship/", body, format="json")

    # then: answered 409 and kept as failed, with no automatic retry (the node owns it)
    assert response.status_code == 409
    message = InboundMessage.objects.get(kind="fulfillment.ship")
    assert (message.status, message.error_code, message.subject, message.attempts) == (
        "failed",
        "fulfillment_transition_refused",
        fo.number,
        1,
    )
    assert message.next_attempt_at is None

    # when: the node resends the same message once the order is released: the same row
    let_go(fo)
    again = east.post(f"/api/v1/fulfillments/{fo.number}/ship/", body, format="json")

    # then
    message.refresh_from_db()
    assert again.status_code == 200
    assert (message.status, message.attempts) == ("processed", 2)


def test_a_person_reprocesses_a_refused_node_message_after_the_fix(network, products):
    from fulfillment.services.orchestration import orchestrate_order
    from tests.factories.orders import captured_order

    stocked(network["east"], products["TEE"], on_hand=5)
    order = captured_order(skus=["TEE"], quantity=1)
    orchestrate_order(order_id=order.pk)
    fo = FulfillmentOrder.objects.get(order=order)
    hold_back(fo)
    east = bearer_client(create_api_client(node_code="dc-east", name="east wms").key)
    east.post(f"/api/v1/fulfillments/{fo.number}/accept/", {"message_id": "acc-1"}, format="json")
    message = InboundMessage.objects.get(kind="fulfillment.accept")
    let_go(fo)

    reprocess_message(message_id=message.pk, actor=PERSON)

    fo.refresh_from_db()
    message.refresh_from_db()
    assert fo.status == FulfillmentStatus.ACCEPTED
    assert message.status == "processed"


def test_the_message_admin_lists_and_reprocesses_for_ops_admin_only(
    x12_node, products, release, x12_dirs
):
    stocked(x12_node, products["TEE"], on_hand=5)
    fo = release(skus=["TEE"], quantity=1)
    hold_back(fo)
    import_945_file(drop_945(x12_dirs.inbox, "945-early.edi", advice_for(fo)))
    message = InboundMessage.objects.get(kind="x12.945")
    ops = client_for(staff_user("oscar", "ops_admin"))
    detail = f"/admin/integrations/inboundmessage/{message.pk}/change/"
    action = f"/admin/integrations/inboundmessage/{message.pk}/reprocess_detail/"

    listing = ops.get("/admin/integrations/inboundmessage/?status__exact=failed")
    page = ops.get(detail)
    refused = ops.post(action, follow=True)  # the cause is not fixed yet
    let_go(fo)
    done = ops.post(action)

    message.refresh_from_db()
    fo.refresh_from_db()
    assert listing.status_code == 200
    assert message.message_id in listing.content.decode()
    assert page.status_code == 200
    assert "fulfillment_transition_refused" in page.content.decode()
    assert refused.status_code == 200
    assert "it cannot ship now" in refused.content.decode()
    assert messages_of(done) == [("success", "1 message re-processed.")]
    assert (message.status, fo.status) == ("processed", FulfillmentStatus.SHIPPED)


def test_a_refused_file_is_dead_at_once_and_reimported_after_it_is_fixed(
    x12_node, products, release, x12_dirs
):
    # given: a file whose envelope is broken (the SE count)
    stocked(x12_node, products["TEE"], on_hand=5)
    fo = release(skus=["TEE"], quantity=1)
    good = drop_945(x12_dirs.inbox, "945-x.edi", advice_for(fo)).read_text()
    broken = good.replace("SE*", "SE*9", 1)
    path = x12_dirs.inbox / "945-x.edi"
    path.write_text(broken)
    result = import_945_file(path)
    message = InboundMessage.objects.get(message_id__startswith="file:")
    assert message.status == "dead"
    assert ExceptionCase.objects.filter(subject_type="message", subject_id=message.pk).exists()

    # when: the person puts the corrected file where it was kept and re-processes
    Path(result.moved_to).write_text(good)
    reprocess_message(message_id=message.pk, actor=PERSON)

    # then
    fo.refresh_from_db()
    message.refresh_from_db()
    assert fo.status == FulfillmentStatus.SHIPPED
    assert message.status == "processed"
    assert message.result["applied"] == 1
    assert (x12_dirs.inbox / "processed" / "945-x.edi").exists()


def test_reimporting_a_file_that_is_gone_is_refused_with_a_hint(x12_node, x12_dirs):
    path = x12_dirs.inbox / "945-y.edi"
    path.write_text("ISA*garbage~")
    result = import_945_file(path)
    Path(result.moved_to).unlink()
    message = InboundMessage.objects.get()

    with pytest.raises(DomainError) as refused:
        reprocess_message(message_id=message.pk, actor=PERSON)

    assert refused.value.code == "file_not_found"
    assert "inbox" in refused.value.detail


@needs_corpus
def test_every_corpus_945_round_trips_through_its_logged_payload():
    checked = 0
    for path in sorted(CORPUS.glob("x12_945__*.edi")):
        for advice in read_945s(path.read_bytes(), strict=False):
            payload = advice_payload(advice)
            assert advice_payload(advice_from_payload(payload)) == payload, path.name
            checked += 1
    assert checked >= 2


def test_a_generated_advice_round_trips_with_header_and_line_tracking(
    x12_node, products, release, x12_dirs
):
    from dataclasses import replace

    from integrations.x12 import Reference

    stocked(x12_node, products["TEE"], on_hand=5)
    fo = release(skus=["TEE"], quantity=1)
    advice = advice_for(fo)
    advice = replace(
        advice,
        references=(*advice.references, Reference("BM", "BOL-1")),
        lines=(replace(advice.lines[0], references=(Reference("2I", "1ZLINE"),)),),
    )
    payload = advice_payload(advice)
    back = advice_from_payload(payload)

    assert advice_payload(back) == payload
    assert back.tracking_numbers == advice.tracking_numbers
    assert back.bill_of_lading == "BOL-1"
