"""Moved to `tests/support/received.py`; kept while test_hostile.py still imports it here."""

from tests.support.received import emails_sent, moto_sent, sms_sent  # noqa: F401
