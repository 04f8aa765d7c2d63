"""Fees and payments: Stripe Checkout and its webhooks, payments taken by phone, refunds and
receipts."""
