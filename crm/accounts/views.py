from axes.utils import reset as axes_reset
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.core.roles import admin_required

from . import services
from .forms import ProfileForm, UserForm
from .models import User


@require_GET
@login_required
def home(request):
    return render(request, "accounts/home.html")


@require_POST
def logout_view(request):
    logout(request)
    messages.info(request, "You have signed out.")
    return redirect("accounts:login")


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
    return render(request, "accounts/user_list.html", {"users": users})


@require_http_methods(["GET", "POST"])
@admin_required
def user_create(request):
    form = UserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.user_create(by=request.user, request=request, **form.cleaned_data)
        messages.success(request, f"{user} is added and has been sent a link to set a password.")
        return redirect("accounts:user_list")
    return render(request, "accounts/user_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
@admin_required
def user_edit(request, pk):
    user = get_object_or_404(User, pk=pk)
    form = UserForm(request.POST or None, instance=user)
    if request.method == "POST" and form.is_valid():
        services.user_update(user=user, by=request.user, **form.cleaned_data)
        messages.success(request, f"{user} is saved.")
        return redirect("accounts:user_list")
    return render(request, "accounts/user_form.html", {"form": form, "edited": user})


@require_POST
@admin_required
def user_unlock(request, pk):
    user = get_object_or_404(User, pk=pk)
    axes_reset(username=user.email)
    messages.success(request, f"Sign-in is unlocked for {user}.")
    return redirect("accounts:user_list")
