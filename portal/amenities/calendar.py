"""A booking as an iCalendar file (RFC 5545), its times in the estate's timezone."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from portal.models import Booking, BookingStatus, Estate


def booking_ics(booking: Booking, estate: Estate) -> bytes:
    tz = ZoneInfo(estate.timezone)
    cal = Calendar()
    cal.add("prodid", "-//Gatehouse//Amenity bookings//EN")
    cal.add("version", "2.0")
    event = Event()
    event.add("uid", f"booking-{booking.id}@{estate.slug}.gatehouse")
    event.add("dtstamp", booking.created_at)
    event.add("dtstart", booking.starts_at.astimezone(tz))
    event.add("dtend", booking.ends_at.astimezone(tz))
    event.add("summary", f"{booking.amenity.name} · {estate.name}")
    event.add("location", ", ".join(p for p in (booking.amenity.name, estate.name, estate.address) if p))
    if booking.notes:
        event.add("description", booking.notes)
    event.add("status", "CANCELLED" if booking.status in (BookingStatus.CANCELLED, BookingStatus.REJECTED)
              else "TENTATIVE" if booking.status == BookingStatus.PENDING else "CONFIRMED")
    cal.add_component(event)
    if hasattr(cal, "add_missing_timezones"):
        cal.add_missing_timezones()  # a VTIMEZONE for the estate's zone
    return cal.to_ical()
