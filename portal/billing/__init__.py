"""Billing: charges, invoices, payments, documents (issue 11)."""
