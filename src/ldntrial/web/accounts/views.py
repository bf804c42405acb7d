"""Setting up, using and removing the authenticator app."""

from __future__ import annotations

import base64

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from ldntrial.web.accounts.lockout import remember_browser
from ldntrial.web.accounts.second_factor import (
    confirm_device,
    confirmed_device,
    pending_device,
    qr_code_svg,
    remove_device,
    verify_code,
)
from ldntrial.web.form_errors import show_errors


class SignInView(auth_views.LoginView):
    """Django's sign-in; a browser she signs in from is remembered as hers (lockout.py)."""

    def form_valid(self, form):
        response = super().form_valid(form)
        remember_browser(response, form.get_user().get_username())
        return response


class CodeForm(forms.Form):
    code = forms.RegexField(
        regex=r"^\s*\d{6}\s*$",
        label="Code from your authenticator app",
        error_messages={"invalid": "six digits"},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class RemoveForm(forms.Form):
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    code = CodeForm.base_fields["code"]


@login_required
def second_factor_setup(request: HttpRequest) -> HttpResponse:
    device = confirmed_device(request.user)
    step = request.POST.get("step") if request.method == "POST" else None
    code_form = CodeForm(request.POST if step == "confirm" else None)
    remove_form = RemoveForm(request.POST if step == "remove" else None)
    if step == "confirm" and device is None and code_form.is_valid():
        try:
            confirm_device(request, pending_device(request.user), code_form.cleaned_data["code"])
        except ValidationError as error:
            show_errors(code_form, error)
        else:
            return redirect("second_factor_setup")
    if step == "remove" and device is not None and remove_form.is_valid():
        try:
            remove_device(
                request, remove_form.cleaned_data["password"], remove_form.cleaned_data["code"]
            )
        except ValidationError as error:
            show_errors(remove_form, error)
        else:
            return redirect("second_factor_setup")
    context = {"device": device, "code_form": code_form, "remove_form": remove_form}
    if device is None:
        pending = pending_device(request.user)
        context["qr_code"] = qr_code_svg(pending)
        context["secret"] = base64.b32encode(pending.bin_key).decode("ascii")
    status = 422 if code_form.errors or remove_form.errors else 200
    response = render(request, "accounts/second_factor_setup.html", context, status=status)
    response["Cache-Control"] = "no-store"  # the secret is on this page
    return response


@login_required
def second_factor_verify(request: HttpRequest) -> HttpResponse:
    form = CodeForm(request.POST or None)
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = ""
    if request.method == "POST" and form.is_valid():
        try:
            verify_code(request, form.cleaned_data["code"])
        except ValidationError as error:
            show_errors(form, error)
        else:
            return redirect(target or "staff:studies")
    return render(
        request,
        "accounts/second_factor_verify.html",
        {"form": form, "next": target},
        status=422 if form.errors else 200,
    )
