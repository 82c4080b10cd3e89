"""The return label through the carrier adapter: EasyPost's API faked by a small local HTTP
server that answers with the corpus's real EasyPost return shipment and bought label."""

import base64
import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from oms.events.models import Event
from returns.policy import RequestedLine
from returns.services.labels import create_return_label
from returns.services.requests import ReturnRequest, request_return
from tests.corpus import corpus, needs
from tests.factories.users import PASSWORD, staff_user
from tests.returns.support import SYSTEM, shipped_order

pytestmark = [pytest.mark.django_db, needs("carriers")]

CREATED = json.loads(corpus("carriers/easypost__returns_create.json").read_text())
BOUGHT = json.loads(corpus("carriers/easypost__shipments_buy.json").read_text())


class FakeEasyPost(BaseHTTPRequestHandler):
    calls: list[tuple[str, str, dict]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.calls.append((self.path, self.headers["Authorization"], body))
        if self.path == "/v2/shipments":
            answer = CREATED
        elif self.path == f"/v2/shipments/{CREATED['id']}/buy":
            answer = BOUGHT
        else:
            self.send_response(404)
            self.end_headers()
            return
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def easypost(settings):
    FakeEasyPost.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeEasyPost)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.OMS_EASYPOST_API_KEY = "EZTK_test"
    settings.OMS_EASYPOST_API_URL = f"http://127.0.0.1:{server.server_port}/v2"
    yield FakeEasyPost
    server.shutdown()


def _authorized_return(nodes):
    order = shipped_order(nodes["dc"], external_id="L1", lines=[("TEE", 1, "20.00")])
    return request_return(
        order_id=order.pk,
        request=ReturnRequest(lines=[RequestedLine(1, 1, "size_fit")], authorize=True),
        actor=SYSTEM,
    )


def test_an_easypost_return_label_is_bought_at_the_cheapest_ground_rate(nodes, easypost):
    rma = _authorized_return(nodes)

    labelled = create_return_label(return_id=rma.pk, actor=SYSTEM)
    again = create_return_label(return_id=rma.pk, actor=SYSTEM)

    assert labelled.tracking_number == "9434600208303109842228"
    assert labelled.label_carrier == "USPS"
    assert labelled.label_service == "GroundAdvantage"
    assert labelled.label_cost == Decimal("8.20")
    assert labelled.label_url == BOUGHT["postage_label"]["label_url"]
    assert again.tracking_number == labelled.tracking_number
    assert [path for path, _, _ in easypost.calls] == [
        "/v2/shipments",
        f"/v2/shipments/{CREATED['id']}/buy",
    ]
    path, auth, body = easypost.calls[0]
    assert auth == "Basic " + base64.b64encode(b"EZTK_test:").decode()
    assert body["shipment"]["is_return"] is True
    assert body["shipment"]["reference"] == rma.number
    assert body["shipment"]["to_address"]["street1"] == "1 Warehouse Way"
    assert easypost.calls[1][2] == {"rate": {"id": "rate_e77cbaf75acc4ac2acf81cd450fa15d6"}}
    [event] = Event.objects.filter(type="return.label_created")
    assert event.payload["tracking_number"] == "9434600208303109842228"


def test_without_an_easypost_key_the_simulated_carrier_labels_it(nodes, settings):
    settings.OMS_EASYPOST_API_KEY = ""
    rma = _authorized_return(nodes)

    labelled = create_return_label(return_id=rma.pk, actor=SYSTEM)

    assert labelled.tracking_number.startswith("SIM1Z")
    assert bytes(labelled.label_pdf).startswith(b"%PDF")


def test_the_label_page_serves_the_pdf_to_whoever_may_see_the_return(nodes, settings, client):
    # given: a simulated label; customer service, and a staff user without returns rights
    settings.OMS_EASYPOST_API_KEY = ""
    rma = create_return_label(return_id=_authorized_return(nodes).pk, actor=SYSTEM)
    other = shipped_order(nodes["dc"], external_id="L2", lines=[("TEE", 1, "20.00")])
    unlabelled = request_return(
        order_id=other.pk,
        request=ReturnRequest(lines=[RequestedLine(1, 1, "changed_mind", "unopened")]),
        actor=SYSTEM,
    )
    staff_user("carla", "customer_service")
    staff_user("nobody")
    url = f"/admin/returns/return/{rma.pk}/label/"

    # when
    client.login(username="carla", password=PASSWORD)
    page = client.get(f"/admin/returns/return/{rma.pk}/change/")
    pdf = client.get(url)
    none = client.get(f"/admin/returns/return/{unlabelled.pk}/label/")
    client.login(username="nobody", password=PASSWORD)
    refused = client.get(url)

    # then
    assert page.status_code == 200
    assert f'href="{url}"' in page.content.decode()
    assert (pdf.status_code, pdf["Content-Type"]) == (200, "application/pdf")
    assert pdf.content == bytes(rma.label_pdf)
    assert pdf["Content-Disposition"] == (
        f'inline; filename="return-label-{rma.number}-{rma.tracking_number}.pdf"'
    )
    assert none.status_code == 404
    assert refused.status_code == 403
