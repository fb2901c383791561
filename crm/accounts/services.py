import secrets

from django.contrib.auth.forms import PasswordResetForm
from django.db import transaction

from .models import Role, User


def _sync_admin_flags(user: User) -> None:
    user.is_superuser = user.role == Role.ADMIN


@transaction.atomic
def user_create(*, by: User, request=None, **fields) -> User:
    """Admins create users; the new user gets a set-password link by e-mail (sent once the user is saved)."""
    user = User(**fields)
    # A random password nobody knows: the user sets their own through the e-mailed link.
    user.set_password(secrets.token_urlsafe(32))
    _sync_admin_flags(user)
    user.full_clean()
    user.save()
    if request is not None:
        send_set_password_link(user=user, request=request)
    return user


@transaction.atomic
def user_update(*, user: User, by: User, **fields) -> User:
    for name, value in fields.items():
        setattr(user, name, value)
    _sync_admin_flags(user)
    user.full_clean()
    user.save()
    return user


def send_set_password_link(*, user: User, request) -> bool:
    """E-mail the user a one-time link to choose a password (Django's reset token). Inactive users get none.
    Returns whether a link will be sent."""
    if not user.is_active:
        return False
    form = PasswordResetForm({"email": user.email})
    if not form.is_valid():
        return False
    transaction.on_commit(
        lambda: form.save(
            request=request,
            use_https=request.is_secure(),
            email_template_name="accounts/email/set_password.txt",
            subject_template_name="accounts/email/set_password_subject.txt",
        )
    )
    return True
