"""Households: the members of a unit, their vehicles and access cards; CSV imports."""
