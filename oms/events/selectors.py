from oms.events.models import Event, EventQuerySet


def events_for_stream(stream: str) -> EventQuerySet:
    return Event.objects.for_stream(stream)
