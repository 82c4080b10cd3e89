"""Carrier adapters on real payloads from shared/corpus/carriers, plus the simulated carrier.

Pure Python: no test here touches the database.
"""

import base64
import copy
import hashlib
import hmac
import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from integrations.carriers import (
    TRACKING_FORMATS,
    TRACKING_STATUSES,
    Address,
    CarrierAdapter,
    CarrierRequestRefused,
    CarrierUnavailable,
    LabelRequest,
    Parcel,
    SimulatedCarrier,
    TrackingPayloadInvalid,
    TrackingUpdate,
    aftership,
    easypost,
    parse_aftership,
    parse_easypost,
    parse_shippo,
    parse_tracking,
    parse_ups_track_alert,
    shippo,
    simulate_tracking,
    ups_track_alert,
    verify_aftership_signature,
    verify_easypost_signature,
    verify_shippo_signature,
    verify_ups_track_alert_signature,
)
from integrations.carriers.pdf import CODE128_PATTERNS, code128_bars, code128_values
from integrations.carriers.simulated import price
from tests.corpus import corpus

CORPUS = corpus("carriers")
FEDEX = "easypost__event_tracker_updated_fedex__fixture.json"
SHIPPO = "shippo__track_get_status_usps__cassette_response.json"
POSTNL = "aftership__v4_get_tracking_postnl_with_checkpoints__cassette_response.json"
UPS_OFD = "ups__track_alert_webhook__1_out_for_delivery_message.json"
EASYPOST_BATCH = "easypost__webhook_event_post_example.json"
PARSERS = {
    "easypost": parse_easypost,
    "shippo": parse_shippo,
    "aftership": parse_aftership,
    "ups": parse_ups_track_alert,
}


def corpus_bytes(name: str) -> bytes:
    path = CORPUS / name
    if not path.is_file():
        pytest.skip(f"carrier corpus not found at {path} (shared/ sits beside the repository)")
    return path.read_bytes()


def corpus_json(name: str) -> dict:
    return json.loads(corpus_bytes(name))


def parser_for(name: str):
    return PARSERS[name.split("__")[0].split("_")[0]]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# file, carrier, tracking number, status, raw status, occurred_at (UTC), event count, location
SINGLE_UPDATE_CASES = [
    ("easypost__event_tracker_updated_fedex__fixture.json", "fedex", "1", "in_transit",
     "in_transit", "2024-08-02T18:50:00Z", 7, "EDISON, NJ 08817, US"),
    ("easypost__trackers_retrieve.json", "usps", "EZ1000000001", "pre_transit", "pre_transit",
     "2025-04-10T09:17:17Z", 2, "HOUSTON, TX 77063"),
    ("easypost__trackers_list.json", "usps", "EZ1000000001", "pre_transit", "pre_transit",
     "2025-04-10T09:17:17Z", 2, "HOUSTON, TX 77063"),
    ("easypost__tracking_webhook_response_landing.json", "ups", "EZ4000000004", "delivered",
     "delivered", "2014-08-24T15:33:00Z", 6, "SAN FRANCISCO, CA, US"),
    ("easypost__tracking_webhook_tracker_updated_ups.json", "ups", "EZ4000000004", "delivered",
     "delivered", "2014-11-19T10:51:54Z", 6, "SAN FRANCISCO, CA, US"),
    ("shippo__track_create__cassette_response.json", "usps", "9205590164917337534322",
     "delivered", "DELIVERED", "2016-12-08T15:19:00Z", 11, "Berkeley, CA 94705, US"),
    ("shippo__track_get_status_usps__cassette_response.json", "usps", "9205590164917337534322",
     "delivered", "DELIVERED", "2016-12-08T15:19:00Z", 11, "Berkeley, CA 94705, US"),
    ("aftership__v4_create_tracking_4px__cassette_response.json", "4px", "HH19260817",
     "pre_transit", "Pending", "2020-02-26T03:56:51Z", 0, None),
    ("aftership__v4_get_tracking_postnl_with_checkpoints__cassette_response.json", "postnl-3s",
     "3SKAAG5995399", "in_transit", "InTransit", "2021-03-25T09:59:00Z", 6, "ES, Spain"),
    ("aftership__v4_last_checkpoint__cassette_response.json", "postnl-3s", "3SKAAG5995399",
     "in_transit", "InTransit", "2021-03-25T09:59:00Z", 1, "ESP"),
    ("ups__track_alert_webhook__1_out_for_delivery_message.json", "ups", "1Z204W4R0308071865",
     "out_for_delivery", "I/OT", "2024-04-23T13:15:19Z", 1, "Charlotte, NC 30004, US"),
    ("ups__track_alert_webhook__2_delivery_message.json", "ups", "1Z204W4R0308071865",
     "delivered", "D/FS", "2024-04-23T13:50:04Z", 1, "CHARLOTTE, NC 28209, US"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "carrier", "number", "status", "raw", "occurred_at", "count", "location"),
    SINGLE_UPDATE_CASES,
    ids=[case[0].removesuffix(".json") for case in SINGLE_UPDATE_CASES],
)
def test_corpus_payload_maps_to_one_update(
    name, carrier, number, status, raw, occurred_at, count, location
):
    for payload in (corpus_bytes(name), corpus_json(name), corpus_bytes(name).decode()):
        [update] = parser_for(name)(payload)
        assert (update.carrier, update.tracking_number) == (carrier, number)
        assert (update.status, update.raw_status) == (status, raw)
        assert update.occurred_at == utc(occurred_at)
        assert update.occurred_at.utcoffset() is not None
        assert len(update.events) == count
        assert update.location == location
        assert update.is_final == (status == "delivered")
        times = [event.occurred_at for event in update.events]
        assert times == sorted(times)
        assert all(event.status in TRACKING_STATUSES for event in update.events)


def test_webhooks_of_other_kinds_parse_to_nothing():
    assert parse_easypost(corpus_bytes(EASYPOST_BATCH)) == []  # a batch.created Event
    assert parse_shippo({"event": "transaction_created", "data": {}}) == []


NOT_TRACKING = [
    ("easypost__shipments_buy.json", "unrecognized_payload"),
    ("easypost__returns_create.json", "unrecognized_payload"),
    ("shippo__order_retrieve__cassette_response.json", "unrecognized_payload"),
    ("shippo__transaction_retrieve__cassette_response.json", "missing_tracking_number"),
    ("aftership__v4_predict_edd_batch__cassette_response.json", "unrecognized_payload"),
]


@pytest.mark.parametrize(
    ("name", "code"), NOT_TRACKING, ids=[case[0].removesuffix(".json") for case in NOT_TRACKING]
)
def test_corpus_files_that_are_not_tracking_are_refused_with_a_code(name, code):
    with pytest.raises(TrackingPayloadInvalid) as raised:
        parser_for(name)(corpus_bytes(name))
    assert raised.value.code == code


def test_every_tracking_corpus_file_is_covered():
    if not CORPUS.is_dir():
        pytest.skip(f"carrier corpus not found at {CORPUS}")
    prefixes = ("easypost__", "shippo__", "aftership__", "ups__track_alert")
    present = {path.name for path in CORPUS.glob("*.json") if path.name.startswith(prefixes)}
    covered = {case[0] for case in SINGLE_UPDATE_CASES + NOT_TRACKING} | {EASYPOST_BATCH}
    assert present == covered


def test_spot_checks_on_real_values():
    [fedex] = parse_easypost(corpus_bytes("easypost__event_tracker_updated_fedex__fixture.json"))
    assert fedex.message_id == "evt_1"
    assert fedex.status_detail == "arrived_at_facility"
    assert fedex.events[0].description == "Shipment information sent to FedEx"
    assert fedex.events[0].location == "32837, US"
    assert fedex.events[4].location == "KENLY, NC 27542, US"

    [usps] = parse_shippo(corpus_bytes("shippo__track_get_status_usps__cassette_response.json"))
    assert usps.status_detail == "Your shipment has been delivered at the destination mailbox."
    assert usps.message_id == "63f2422c8f694d72adaf7d7fbf87706a"
    assert [e.raw_status for e in usps.events[:3]] == ["UNKNOWN", "UNKNOWN", "TRANSIT"]
    assert usps.events[0].location is None  # Shippo sent "location": null
    assert usps.events[-2].description == "Your shipment is out for delivery."
    assert usps.events[-2].status == "in_transit"  # Shippo 2016: no out-for-delivery status

    name = "aftership__v4_get_tracking_postnl_with_checkpoints__cassette_response.json"
    [postnl] = parse_aftership(corpus_bytes(name))
    assert postnl.status_detail == "Arrived at destination country"
    assert [e.status for e in postnl.events[:3]] == ["pre_transit", "pre_transit", "in_transit"]
    assert postnl.events[2].occurred_at == utc("2021-03-20T14:32:37Z")

    [ofd] = parse_ups_track_alert(corpus_bytes(UPS_OFD))
    assert ofd.status_detail == "Out for Delivery"
    assert ofd.message_id == "1Z204W4R0308071865:20240423131519:I/OT"
    padded = corpus_json(UPS_OFD) | {"trackingNumber": " 1ZABCXYZ0112346789"}  # as in the spec
    assert parse_ups_track_alert(padded)[0].tracking_number == "1ZABCXYZ0112346789"


def test_easypost_out_of_order_history_is_sorted_and_dated_by_the_delivery():
    """The UPS guide sample dates DELIVERED (11-19) before OUT FOR DELIVERY (11-24)."""
    [update] = parse_easypost(corpus_bytes("easypost__tracking_webhook_tracker_updated_ups.json"))
    assert update.events[0].description == "DELIVERED"
    assert update.occurred_at == update.events[0].occurred_at


def test_provider_envelopes_give_the_same_update():
    track = corpus_json("shippo__track_get_status_usps__cassette_response.json")
    webhook = {"event": "track_updated", "test": True, "data": track}
    assert parse_shippo(webhook) == parse_shippo(track)

    name = "aftership__v4_get_tracking_postnl_with_checkpoints__cassette_response.json"
    tracking = corpus_json(name)["data"]["tracking"]
    [hook] = parse_aftership({"event": "tracking_update", "event_id": "e-1", "msg": tracking})
    [bare] = parse_aftership(tracking)
    assert hook.message_id == "e-1"
    assert hook.events == bare.events
    assert hook.status == bare.status

    tracker = corpus_json("easypost__trackers_retrieve.json")
    assert parse_easypost(tracker) == parse_easypost({"trackers": [tracker]})


def _with(payload: dict, path: str, value) -> dict:
    """A deep copy with `path` (dotted, list indexes as numbers) set, or removed for ...."""
    data = copy.deepcopy(payload)
    *parents, leaf = [int(p) if p.isdigit() else p for p in path.split(".")]
    target = data
    for part in parents:
        target = target[part]
    if value is ...:
        del target[leaf]
    else:
        target[leaf] = value
    return data


MALFORMED = [
    (FEDEX, "result.tracking_code", ..., "missing_tracking_number", "result.tracking_code"),
    (FEDEX, "result.tracking_code", "  ", "missing_tracking_number", "result.tracking_code"),
    (FEDEX, "result.tracking_code", 12345, "wrong_type", "result.tracking_code"),
    (FEDEX, "result", [], "wrong_type", "result"),
    (FEDEX, "result.status", ..., "missing_field", "result.status"),
    (FEDEX, "result.tracking_details", "oops", "wrong_type", "result.tracking_details"),
    (FEDEX, "result.tracking_details.2", "oops", "wrong_type", "result.tracking_details[2]"),
    (FEDEX, "result.tracking_details.2.datetime", "yesterday", "invalid_datetime",
     "result.tracking_details[2].datetime"),
    (FEDEX, "result.tracking_details.2.datetime", ..., "missing_field",
     "result.tracking_details[2].datetime"),
    (SHIPPO, "tracking_number", ..., "unrecognized_payload", None),
    (SHIPPO, "tracking_number", None, "missing_tracking_number", "tracking_number"),
    (SHIPPO, "tracking_status.status", 7, "wrong_type", "tracking_status.status"),
    (SHIPPO, "tracking_history.0.status_date", 20161207, "wrong_type",
     "tracking_history[0].status_date"),
    (POSTNL, "data.tracking.tracking_number", "", "missing_tracking_number",
     "data.tracking.tracking_number"),
    (POSTNL, "data.tracking.checkpoints", {}, "wrong_type", "data.tracking.checkpoints"),
    (POSTNL, "data.tracking.checkpoints.5.checkpoint_time", "25/03/2021", "invalid_datetime",
     "data.tracking.checkpoints[5].checkpoint_time"),
    (UPS_OFD, "trackingNumber", ..., "missing_tracking_number", "trackingNumber"),
    (UPS_OFD, "activityStatus", ..., "missing_field", "activityStatus"),
    (UPS_OFD, "activityStatus", "OT", "wrong_type", "activityStatus"),
    (UPS_OFD, "gmtActivityDate", "2024-04-23", "invalid_datetime", "gmtActivityDate"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "path", "value", "code", "field"),
    MALFORMED,
    ids=[f"{case[0].split('__')[0]}-{case[1]}-{case[3]}" for case in MALFORMED],
)
def test_malformed_payloads_raise_a_stable_code(name, path, value, code, field):
    with pytest.raises(TrackingPayloadInvalid) as raised:
        parser_for(name)(_with(corpus_json(name), path, value))
    assert (raised.value.code, raised.value.field) == (code, field)
    assert raised.value.retryable is False


@pytest.mark.parametrize("parse", PARSERS.values(), ids=PARSERS.keys())
@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({}, "empty_payload"),
        ("", "invalid_json"),
        ("{not json", "invalid_json"),
        (b"\xff\xfe", "invalid_json"),
        ("[1, 2]", "not_an_object"),
        (None, "not_an_object"),
        ({"hello": "world"}, "unrecognized_payload"),
    ],
    ids=["empty_dict", "empty_body", "bad_json", "not_utf8", "json_array", "none", "foreign"],
)
def test_garbage_raises_a_stable_code(parse, payload, code):
    with pytest.raises(TrackingPayloadInvalid) as raised:
        parse(payload)
    assert raised.value.code == code


def _mutations(node, path=()):
    """Every (path, value) obtained by deleting a key or swapping in a value of another type."""
    if isinstance(node, dict):
        for key, child in node.items():
            for value in (..., None, 0, "", [], {}, "x"):
                yield (*path, key), value
            yield from _mutations(child, (*path, key))
    elif isinstance(node, list) and node:
        yield from _mutations(node[-1], (*path, len(node) - 1))


@pytest.mark.parametrize(
    "name", [case[0] for case in SINGLE_UPDATE_CASES], ids=lambda n: n.removesuffix(".json")
)
def test_no_mutation_escapes_as_anything_but_tracking_payload_invalid(name):
    payload = corpus_json(name)
    for path, value in _mutations(payload):
        mutated = _with(payload, ".".join(str(p) for p in path), value)
        try:
            result = parser_for(name)(mutated)
        except TrackingPayloadInvalid:
            continue
        assert all(isinstance(update, TrackingUpdate) for update in result), path


@pytest.mark.parametrize(
    ("module", "raw", "expected"),
    [
        *[(easypost, raw, ours) for raw, ours in easypost.STATUS_MAP.items()],
        *[(shippo, raw, ours) for raw, ours in shippo.STATUS_MAP.items()],
        *[(aftership, raw, ours) for raw, ours in aftership.TAG_MAP.items()],
        *[(ups_track_alert, raw, ours) for raw, ours in ups_track_alert.TYPE_MAP.items()],
        (easypost, "teleported", "unknown"),
        (shippo, "LOST_IN_SPACE", "unknown"),
        (aftership, "Teleported", "unknown"),
        (ups_track_alert, "Z", "unknown"),
    ],
)
def test_status_tables(module, raw, expected):
    mapper = getattr(module, "map_tag", None) or module.map_status
    assert mapper(raw) == expected
    assert expected in TRACKING_STATUSES


def test_status_refinements():
    assert shippo.map_status("TRANSIT", "out_for_delivery") == "out_for_delivery"
    assert shippo.map_status("DELIVERED", "out_for_delivery") == "delivered"
    assert ups_track_alert.map_status("D", "XX", "Loaded on Delivery Vehicle") == "out_for_delivery"
    assert ups_track_alert.map_status("I", "XX", "Returned to Sender") == "returned"
    tracking = corpus_json(POSTNL)["data"]["tracking"] | {"return_to_sender": True}
    assert parse_aftership(tracking)[0].status == "returned"


def test_unknown_status_keeps_the_raw_value():
    [update] = parse_easypost(_with(corpus_json(FEDEX), "result.status", "teleported"))
    assert (update.status, update.raw_status) == ("unknown", "teleported")
    [update] = parse_shippo(_with(corpus_json(SHIPPO), "tracking_status.status", "LOST"))
    assert (update.status, update.raw_status) == ("unknown", "LOST")


# --------------------------------------------------------------------------- signatures

SECRET = "whsec-\ufb01ne"  # contains the "fi" ligature that EasyPost NFKD-normalises


def test_easypost_signature_matches_an_independent_computation():
    body = corpus_bytes(FEDEX)
    digest = hmac.new(b"whsec-fine", body, hashlib.sha256).hexdigest()
    headers = {"x-hmac-signature": f"hmac-sha256-hex={digest}"}
    assert verify_easypost_signature(body, headers, SECRET)
    assert not verify_easypost_signature(body.replace(b"FedEx", b"FedEz"), headers, SECRET)
    assert not verify_easypost_signature(body, headers, "other")
    assert not verify_easypost_signature(body, {}, SECRET)
    assert not verify_easypost_signature(body, headers, "")


def test_shippo_signature_is_timestamped():
    body = corpus_bytes(SHIPPO)
    stamp = 1_700_000_000
    v1 = hmac.new(b"s3cret", f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    headers = {"Shippo-Auth-Signature": f"t={stamp},v1={v1}"}
    assert verify_shippo_signature(body, headers, "s3cret", now=stamp + 10)
    assert not verify_shippo_signature(body + b" ", headers, "s3cret", now=stamp + 10)
    assert not verify_shippo_signature(body, headers, "s3cret", now=stamp + 3600)  # replayed
    assert not verify_shippo_signature(body, {"Shippo-Auth-Signature": v1}, "s3cret", now=stamp)
    assert not verify_shippo_signature(body, headers, "", now=stamp)


def test_aftership_signature_is_base64():
    body = corpus_bytes(POSTNL)
    signature = base64.b64encode(hmac.new(b"s3cret", body, hashlib.sha256).digest()).decode()
    headers = {"Aftership-Hmac-Sha256": signature}
    assert verify_aftership_signature(body, headers, "s3cret")
    assert not verify_aftership_signature(body[:-2], headers, "s3cret")
    assert not verify_aftership_signature(body, {"aftership-hmac-sha256": "x"}, "s3cret")


def test_ups_track_alert_checks_the_subscription_credential():
    body = corpus_bytes(UPS_OFD)
    assert verify_ups_track_alert_signature(body, {"credential": "opaque-123"}, "opaque-123")
    assert not verify_ups_track_alert_signature(body, {"credential": "opaque-124"}, "opaque-123")
    assert not verify_ups_track_alert_signature(body, {}, "opaque-123")
    assert not verify_ups_track_alert_signature(body, {"credential": ""}, "")


def test_registry_names_every_format():
    assert set(TRACKING_FORMATS) == {"easypost", "shippo", "aftership", "ups_track_alert"}
    assert parse_tracking("ups_track_alert", corpus_bytes(UPS_OFD))[0].status == "out_for_delivery"
    with pytest.raises(LookupError):
        parse_tracking("pigeon", "{}")


# --------------------------------------------------------------------------- simulated carrier

WAREHOUSE = Address(
    name="OMS Warehouse", line1="1 Dock Rd", city="Newark", region="NJ", postal_code="07105",
    country="US",
)  # fmt: skip
CUSTOMER = Address(
    name="Ada (Lovelace)", line1="12 Main St", line2="Apt 4", city="Brooklyn", region="NY",
    postal_code="11201", country="US",
)  # fmt: skip


def label_request(reference="FO-1001", service_level="standard", weights=(1250, 400), **kw):
    return LabelRequest(
        reference=reference,
        ship_from=kw.get("ship_from", WAREHOUSE),
        ship_to=kw.get("ship_to", CUSTOMER),
        service_level=service_level,
        parcels=tuple(Parcel(weight_grams=w) for w in weights),
    )


def test_simulated_carrier_is_idempotent_per_reference():
    carrier = SimulatedCarrier()
    assert isinstance(carrier, CarrierAdapter)
    first = carrier.buy_labels(label_request())
    assert (
        first
        == carrier.buy_labels(label_request())
        == SimulatedCarrier().buy_labels(label_request())
    )
    numbers = [label.tracking_number for label in first]
    assert all(re.fullmatch(r"SIM1Z\d{12}", number) for number in numbers)
    assert len(set(numbers)) == 2
    assert [label.parcel_index for label in first] == [0, 1]
    other = carrier.buy_labels(label_request(reference="FO-1002"))
    assert not set(numbers) & {label.tracking_number for label in other}


def test_simulated_label_is_a_valid_pdf():
    [label] = SimulatedCarrier().buy_labels(label_request(weights=(900,)))
    pdf = label.label_pdf
    assert label.label_format == "pdf"
    assert pdf.startswith(b"%PDF-1.4\n")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert b"(" + label.tracking_number.encode() + b") Tj" in pdf
    for text in (b"Ada \\(Lovelace\\)", b"OMS Warehouse", b"Brooklyn NY 11201", b"SIM Ground"):
        assert text in pdf
    assert pdf.count(b"/Type /Page ") == 1
    # the xref table points at each object, and startxref at the table
    xref_at = int(re.search(rb"startxref\n(\d+)\n%%EOF", pdf).group(1))
    assert pdf[xref_at:].startswith(b"xref\n0 8\n")
    offsets = re.findall(rb"(\d{10}) 00000 n \n", pdf[xref_at:])
    for number, offset in enumerate(offsets, start=1):
        assert pdf[int(offset) :].startswith(b"%d 0 obj\n" % number)
    length = int(re.search(rb"<< /Length (\d+) >>\nstream\n", pdf).group(1))
    stream_at = pdf.index(b"stream\n") + len(b"stream\n")
    assert pdf[stream_at + length :].startswith(b"endstream")
    bars = pdf.count(b" re f\n")
    assert bars == 3 * (len(label.tracking_number) + 2) + 4  # start, data, check; stop has 4


def test_code128_table_and_encoding():
    assert len(set(CODE128_PATTERNS)) == len(CODE128_PATTERNS) == 107
    for value, pattern in enumerate(CODE128_PATTERNS):
        widths = [int(w) for w in pattern]
        assert sum(widths) == (13 if value == 106 else 11)
        assert sum(widths[0::2]) % 2 == 0  # bars cover an even number of modules
    assert code128_values("AB") == [104, 33, 34, (104 + 33 + 2 * 34) % 103, 106]
    bars, total = code128_bars("SIM1Z000000000001")
    assert total == 10 + 11 * 19 + 13 + 10
    with pytest.raises(ValueError, match="printable ASCII"):
        code128_values("naïve")


def test_simulated_cost_comes_from_weight_and_service():
    labels = SimulatedCarrier().buy_labels(label_request(weights=(1250, 400)))
    assert [label.cost for label in labels] == [Decimal("8.20"), Decimal("6.40")]
    assert {label.currency for label in labels} == {"USD"}
    assert price("express", 1250) == Decimal("17.25")
    assert price("standard", 500) < price("standard", 501) < price("express", 501)
    assert price("same_day", 100) == Decimal("26.50")


def test_failure_injection_raises_the_right_kinds():
    carrier = SimulatedCarrier()
    carrier.fail_next(2, kind="unavailable")
    for _ in range(2):
        with pytest.raises(CarrierUnavailable) as raised:
            carrier.buy_labels(label_request())
        assert (raised.value.code, raised.value.retryable) == ("timeout", True)
    assert carrier.buy_labels(label_request())
    carrier.fail_next(1, kind="refused", code="address_undeliverable")
    with pytest.raises(CarrierRequestRefused) as refused:
        carrier.void_label("SIM1Z000000000001")
    assert (refused.value.code, refused.value.retryable) == ("address_undeliverable", False)
    with pytest.raises(ValueError, match="kind"):
        carrier.fail_next(1, kind="flaky")  # type: ignore[arg-type]  # an invalid kind on purpose


@pytest.mark.parametrize(
    ("request_kwargs", "code"),
    [
        ({"ship_to": Address(name="A", line1="1 St", city="X", country="US")}, "address_invalid"),
        (
            {
                "service_level": "same_day",
                "ship_to": Address(
                    name="B", line1="1 Rue", city="Paris", postal_code="75001", country="FR"
                ),
            },
            "service_unavailable",
        ),
        ({"weights": (30_001,)}, "parcel_too_heavy"),
    ],
    ids=["no_postal_code", "same_day_abroad", "too_heavy"],
)
def test_simulated_carrier_refuses_bad_requests(request_kwargs, code):
    with pytest.raises(CarrierRequestRefused) as raised:
        SimulatedCarrier().buy_labels(label_request(**request_kwargs))
    assert raised.value.code == code


def test_void_is_idempotent_and_voided_numbers_are_not_reissued():
    carrier = SimulatedCarrier()
    [label] = carrier.buy_labels(label_request(weights=(100,)))
    carrier.void_label(label.tracking_number)
    carrier.void_label(label.tracking_number)
    with pytest.raises(CarrierRequestRefused, match="label_voided"):
        carrier.buy_labels(label_request(weights=(100,)))
    with pytest.raises(CarrierRequestRefused, match="unknown_tracking_number"):
        carrier.void_label("1Z204W4R0308071865")


def test_simulate_tracking_plays_the_journey():
    now = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    updates = simulate_tracking("SIM1Z000000000001", now, steps=4)
    assert [u.status for u in updates] == [
        "pre_transit", "in_transit", "out_for_delivery", "delivered"
    ]  # fmt: skip
    assert [len(u.events) for u in updates] == [1, 2, 3, 4]
    assert (updates[-1].occurred_at, updates[-1].is_final) == (now, True)
    assert updates[0].occurred_at == now - timedelta(hours=18)
    assert simulate_tracking("SIM1Z000000000001", now, steps=2)[-1].status == "in_transit"
    with pytest.raises(ValueError, match="steps"):
        simulate_tracking("SIM1Z000000000001", now, steps=5)
    with pytest.raises(ValueError, match="timezone"):
        simulate_tracking("SIM1Z000000000001", now.replace(tzinfo=None))


def test_value_objects_validate():
    with pytest.raises(ValueError, match="positive"):
        Parcel(weight_grams=0)
    with pytest.raises(ValueError, match="service_level"):
        label_request(service_level="teleport")
    with pytest.raises(ValueError, match="parcel"):
        label_request(weights=())
    with pytest.raises(ValueError, match="alpha-2"):
        Address(name="A", line1="1 St", city="X", country="USA")
    with pytest.raises(ValueError, match="timezone"):
        TrackingUpdate(
            carrier="x", tracking_number="1", status="in_transit", status_detail="",
            occurred_at=datetime(2025, 1, 1), location=None, events=(), raw_status="",  # noqa: DTZ001
        )  # fmt: skip
