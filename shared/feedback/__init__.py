"""What SES says became of an e-mail, through SNS: the signature checked, the channel moved."""

from shared.feedback.ses import FEEDBACK, parse_ses_event, record_feedback
from shared.feedback.sns import FETCH_TIMEOUT, require_topics, url_allowed, verify_message

__all__ = [
    "FEEDBACK",
    "FETCH_TIMEOUT",
    "parse_ses_event",
    "record_feedback",
    "require_topics",
    "url_allowed",
    "verify_message",
]
