"""The people messages go to: users, their profiles and preferences, suppressed addresses."""

from shared.contacts.suppressions import (
    SUPPRESSED,
    email_suppressed,
    list_suppressions,
    remove_suppression,
)
from shared.contacts.unsubscribe import (
    Subscription,
    make_token,
    mute_email,
    read_token,
    subscription_state,
    unsubscribe_url,
)
from shared.contacts.users import (
    PROFILE,
    PROFILE_FIELDS,
    Preference,
    UserChange,
    delete_users,
    get_user,
    upsert_batch,
    user_json,
)

__all__ = [
    "PROFILE",
    "PROFILE_FIELDS",
    "SUPPRESSED",
    "Subscription",
    "Preference",
    "UserChange",
    "delete_users",
    "email_suppressed",
    "get_user",
    "list_suppressions",
    "make_token",
    "mute_email",
    "read_token",
    "remove_suppression",
    "subscription_state",
    "unsubscribe_url",
    "upsert_batch",
    "user_json",
]
