"""Bulk CSV import of units and residents: upload → preview with per-row errors → confirm."""
