import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    MANAGER = "manager", "Manager"
    SALES = "sales", "Sales (counsellor)"


def validate_time_zone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a time zone name such as Asia/Kolkata.")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("role", Role.SALES)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(role=Role.ADMIN, is_superuser=True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField("e-mail", unique=True)
    full_name = models.CharField(max_length=150)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.SALES, db_index=True)
    is_active = models.BooleanField(default=True, help_text="Inactive users cannot sign in and get no leads.")
    is_available = models.BooleanField(
        "available", default=True, help_text="Untick while on leave: balanced distribution skips the user."
    )
    capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Most open leads this user may hold; empty for no limit."
    )
    phone = models.CharField(max_length=20, blank=True)
    time_zone = models.CharField(max_length=64, default=settings.TIME_ZONE, validators=[validate_time_zone])
    date_joined = models.DateTimeField(default=timezone.now)
    # When the user last looked at their newly assigned leads (assignment notice).
    assignments_seen_at = models.DateTimeField(null=True, blank=True)
    # Export allowance (seed 000's download_limit): set by admins.
    can_export = models.BooleanField(
        default=False, help_text="Sales users may export their own leads only when this is ticked."
    )
    exports_per_month = models.PositiveIntegerField(default=100)
    export_rows_per_month = models.PositiveIntegerField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name", "email"]
        indexes = [models.Index(fields=["role", "is_active", "is_available"], name="user_role_active")]

    def __str__(self):
        return self.full_name or self.email

    def clean(self):
        super().clean()
        self.email = self.email.strip().lower()

    @property
    def is_staff(self):
        """Admins reach the Django admin and the queue dashboard; nobody else does."""
        return self.is_active and self.role == Role.ADMIN

    @property
    def is_admin(self):
        return self.role == Role.ADMIN

    @property
    def is_manager(self):
        """Managers and admins manage leads."""
        return self.role in (Role.MANAGER, Role.ADMIN)

    @property
    def is_sales(self):
        return self.role == Role.SALES

    def get_full_name(self):
        return self.full_name

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email
