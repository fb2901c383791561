from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.messages.views import SuccessMessageMixin
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.core.roles import admin_required

from . import services, throttling
from .forms import ProfileForm, StyledSetPasswordForm, UserForm
from .models import User


@require_POST
def logout_view(request):
    logout(request)
    messages.info(request, "You have signed out.")
    return redirect("accounts:login")


class PasswordChangeView(SuccessMessageMixin, auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:profile")
    success_message = "Your password is changed."


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's one-time link flow; choosing a new password also lifts a sign-in lock on the account
    (whoever holds the mailbox is the owner)."""

    template_name = "accounts/password_reset_confirm.html"
    form_class = StyledSetPasswordForm
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        throttling.unlock(form.user.email)
        return response


@require_http_methods(["GET", "POST"])
@login_required
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        services.user_update(user=request.user, by=request.user, **form.cleaned_data)
        messages.success(request, "Your profile is saved.")
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form})


@require_GET
@admin_required
def user_list(request):
    users = User.objects.order_by("role", "full_name")
    context = {
        "users": users,
        "locked": throttling.locked_out_emails(),
        "with_failures": throttling.emails_with_failures(),
    }
    return render(request, "accounts/user_list.html", context)


@require_http_methods(["GET", "POST"])
@admin_required
def user_create(request):
    form = UserForm(request.POST or None, by=request.user)
    if request.method == "POST" and form.is_valid():
        user = services.user_create(by=request.user, request=request, **form.cleaned_data)
        if user.is_active:
            messages.success(request, f"{user} is added and has been sent a link to set a password.")
        else:
            messages.success(request, f"{user} is added as inactive: no e-mail was sent.")
        return redirect("accounts:user_list")
    return render(request, "accounts/user_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
@admin_required
def user_edit(request, pk):
    user = get_object_or_404(User, pk=pk)
    form = UserForm(request.POST or None, instance=user, by=request.user)
    if request.method == "POST" and form.is_valid():
        services.user_update(user=user, by=request.user, **form.cleaned_data)
        messages.success(request, f"{user} is saved.")
        return redirect("accounts:user_list")
    return render(request, "accounts/user_form.html", {"form": form, "edited": user})


@require_POST
@admin_required
def user_send_link(request, pk):
    user = get_object_or_404(User, pk=pk)
    if services.send_set_password_link(user=user, request=request):
        messages.success(request, f"A link to set a password has been sent to {user.email}.")
    else:
        messages.error(request, f"{user} is inactive: activate the account first.")
    return redirect("accounts:user_edit", pk=user.pk)


@require_POST
@admin_required
def user_unlock(request, pk):
    user = get_object_or_404(User, pk=pk)
    throttling.unlock(user.email)
    messages.success(request, f"Sign-in is unlocked for {user}.")
    return redirect("accounts:user_list")
