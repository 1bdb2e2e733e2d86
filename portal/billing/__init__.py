"""Billing: the charge catalogue, invoice generation, invoices and payments.

- money: integer minor units (parse what an admin types, tax, formatting); never a float
- periods: calendar-month periods and which charges bill in one
- settings: an estate's invoice prefix, tax rate and due days
- charges: the catalogue (CRUD, disable) and one-off charges to a unit
- generation: preview, background run (batches, gapless numbers, resumable), notices
- invoices: lists and totals, one invoice, void, a resident's bills, overdue marking
- payments: apply a payment to invoices, once
- gateway, flutterwave: the payment-gateway interface and the Flutterwave v3 client
- documents: what an invoice or receipt PDF shows
"""
