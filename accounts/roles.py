"""Each role is a group whose permissions say what it may do in the admin.

The table below is the single source: ``sync_role_groups`` makes the groups match it after
every migration, and ``user_set_role`` puts a user in exactly the group of their role.
Permissions of apps that are not installed yet are skipped until they are.
"""

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from accounts.models import Role

_CATALOGUE = ("department", "reviewservice", "questionnaire", "question", "consenttext")
# What families enter: staff read it, nobody edits it in the admin.
_FAMILY_ENTRIES = (
    "guardian",
    "child",
    "referringpediatrician",
    "consentsignature",
    "questionnaireanswers",
    "invitation",
    "sharedaccess",
    "invitationreminder",
)


def _perms(app_label: str, models: tuple[str, ...], actions: tuple[str, ...]) -> set[str]:
    return {f"{app_label}.{action}_{model}" for model in models for action in actions}


# Coordinators keep their own availability and run calls and appointments; calls are never
# added or deleted by hand (families book them), appointments never deleted (cancelled).
_SCHEDULING_CONFIG = ("coordinator", "weeklyhours", "availabilityexception")


def _scheduling() -> set[str]:
    return (
        _perms("scheduling", _SCHEDULING_CONFIG, ("view", "add", "change", "delete"))
        | _perms("scheduling", ("booking",), ("view", "change"))
        | _perms("scheduling", ("appointment", "appointmentlocation"), ("view", "add", "change"))
    )


_SCHEDULING = _scheduling()

# Panels are set and opinions delivered through "change" (the admin's panel and delivery
# pages); reviewer profiles (pools, availability) are kept by coordinators too.
_REVIEWS = _perms(
    "reviews", ("reviewassignment", "finalopinion", "reviewerprofile"), ("view", "change")
) | _perms("reviews", ("delivery", "followupquestion", "deadlinealert"), ("view",))

ROLE_PERMISSIONS: dict[str, set[str]] = {
    Role.FAMILY: set(),
    # Reviewers work in their own workspace, not in the admin.
    Role.REVIEWER: set(),
    Role.COORDINATOR: (
        _perms("intake", _CATALOGUE, ("view",))
        | _perms("intake", ("reviewrequest",), ("view", "change"))
        | _perms("intake", ("requestevent", *_FAMILY_ENTRIES), ("view",))
        | _perms("records", ("document", "accesslog"), ("view",))
        | _perms("billing", ("payment",), ("view", "add"))
        | _perms("billing", ("refund", "stripeevent", "webhookattempt"), ("view",))
        | _REVIEWS
        | _SCHEDULING
        | _perms("notifications", ("message",), ("view",))
        | _perms("accounts", ("user",), ("view",))
    ),
    Role.ADMIN: (
        _perms("intake", _CATALOGUE, ("view", "add", "change", "delete"))
        | _perms("intake", ("reviewrequest",), ("view", "change"))
        | _perms("intake", ("requestevent", *_FAMILY_ENTRIES), ("view",))
        | _perms("records", ("document", "accesslog"), ("view",))
        | _perms("billing", ("payment",), ("view", "add"))
        | _perms("billing", ("refund", "stripeevent", "webhookattempt"), ("view",))
        | {"billing.refund_payment"}
        | _REVIEWS
        | _perms("reviews", ("reviewerprofile",), ("add", "delete"))
        | _SCHEDULING
        | _perms("scheduling", ("appointmentlocation",), ("delete",))
        | _perms("notifications", ("message",), ("view",))
        | _perms("accounts", ("user",), ("view", "add", "change"))
        | _perms("axes", ("accessattempt", "accessfailurelog", "accesslog"), ("view", "delete"))
        | _perms("otp_totp", ("totpdevice",), ("view",))
    ),
}


def group_name(role: str) -> str:
    return Role(role).label


def sync_role_groups() -> None:
    """Create one group per role and give it exactly the permissions of the table."""
    for role, wanted in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name(role))
        query = Q(pk__in=[])
        for label in wanted:
            app_label, codename = label.split(".")
            query |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.set(Permission.objects.filter(query))
