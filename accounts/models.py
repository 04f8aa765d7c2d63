from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class Role(models.TextChoices):
    FAMILY = "family", "Family"
    COORDINATOR = "coordinator", "Coordinator"
    REVIEWER = "reviewer", "Reviewer"
    ADMIN = "admin", "Administrator"


# Everyone who works for the hospital: a second factor is required before any page loads.
STAFF_ROLES = frozenset({Role.COORDINATOR, Role.REVIEWER, Role.ADMIN})
# Roles that work in the Django admin (reviewers have their own workspace).
ADMIN_SITE_ROLES = frozenset({Role.COORDINATOR, Role.ADMIN})


def normalize_email(email: str) -> str:
    """One spelling per address: sign-in, sign-up and invitations all compare this form."""
    return email.strip().lower()


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(email=normalize_email(username))

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("role", Role.FAMILY)
        user = self.model(email=normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.update(role=Role.ADMIN, is_superuser=True)
        extra_fields.setdefault("email_verified_at", timezone.now())
        return self.create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in: a parent or guardian, or a member of the hospital's staff."""

    email = models.EmailField("e-mail address", unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.FAMILY)
    is_active = models.BooleanField(default=True)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    date_joined = models.DateTimeField(default=timezone.now)
    # A family's pages and e-mails (those Celery sends later too) are in this language.
    language = models.CharField(
        max_length=8,
        choices=settings.LANGUAGES,
        default="en",
        help_text="The language of the family's pages and e-mails.",
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="user_role_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(email=Lower("email")), name="user_email_lowercase"
            ),
            models.CheckConstraint(
                condition=models.Q(language__in=[code for code, _ in settings.LANGUAGES]),
                name="user_language_known",
            ),
        ]
        # The staff of one role among every family who ever signed up: the reviewers the
        # dashboard lists, the coordinators whose requests the phone-led funnel shows.
        indexes = [models.Index(fields=["role"], name="user_role_idx")]

    def __str__(self):
        return self.email

    def clean(self):
        super().clean()
        self.email = normalize_email(self.email)

    def get_full_name(self):
        return self.full_name or self.email

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def is_staff(self) -> bool:
        """Django's admin reads this; it follows from the role, so it is never stored."""
        return self.is_active and self.role in ADMIN_SITE_ROLES

    @property
    def is_staff_member(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_family(self) -> bool:
        return self.role == Role.FAMILY

    @property
    def is_reviewer(self) -> bool:
        return self.role == Role.REVIEWER

    @property
    def sees_all_requests(self) -> bool:
        """Coordinators and admins work on every case; families and reviewers see only theirs."""
        return self.role in ADMIN_SITE_ROLES
