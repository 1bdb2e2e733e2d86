"""The audit log: browse and export (estate admins: their estate; enterprise admins: all)."""
