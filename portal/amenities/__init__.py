"""Amenities and their bookings (issue 12).

- `schedule`: opening hours, slots and fees (pure functions);
- `catalogue`: the admin's amenities and closures;
- `bookings`: booking with every rule checked here, approval, cancellation, the fee as a
  one-off charge to the unit, the race for the last place decided in the database;
- `availability`: the day and week grids;
- `calendar`: a booking as an .ics file; `reminders`: the day-before message.
"""
