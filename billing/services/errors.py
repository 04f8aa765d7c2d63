"""The refusal every payment service raises, with a message for the person who asked."""


class PaymentRefused(Exception):
    """The payment cannot be recorded; the message says why, for the coordinator."""
