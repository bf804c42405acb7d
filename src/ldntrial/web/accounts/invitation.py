"""Opening an invitation link: choose a user name and password, or add the role to an account."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from ldntrial.web.form_errors import show_errors
from ldntrial.web.studies.invitations import accept_invitation, invitation_for


class NewAccountForm(forms.Form):
    username = forms.CharField(max_length=150, label="User name")
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 12 characters, not a common password nor like your name",
    )
    password_again = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        label="The password again",
    )

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        if data.get("password") != data.get("password_again"):
            self.add_error("password_again", "the two passwords differ")
        return data


def invitation(request: HttpRequest, secret: str) -> HttpResponse:
    """The invitation's page; the secret in its address is the only key (no sign-in needed)."""
    try:
        invited = invitation_for(secret)
    except ValidationError as error:
        return render(
            request, "accounts/invitation.html", {"problem": " ".join(error.messages)}, status=404
        )
    signed_in = request.user.is_authenticated
    form = None if signed_in else NewAccountForm(request.POST or None)
    if request.method == "POST" and (form is None or form.is_valid()):
        try:
            user = accept_invitation(
                secret,
                user=request.user if form is None else None,
                **({} if form is None else _account(form.cleaned_data)),
            )
        except ValidationError as error:
            if form is None:
                raise
            show_errors(form, error)
        else:
            if not signed_in:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request,
                f"Welcome: you are {invited.role.replace('_', ' ')} in {invited.study.code}.",
            )
            return redirect("staff:dashboard", code=invited.study.code)
    response = render(
        request,
        "accounts/invitation.html",
        {"invitation": invited, "form": form},
        status=422 if form is not None and form.errors else 200,
    )
    # The secret is in this page's address: no other site may see it in a referrer (and
    # "no-referrer" would make the form's POST carry "Origin: null", which CSRF refuses).
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "no-store"
    return response


def _account(data: dict) -> dict:
    return {"username": data["username"], "password": data["password"]}
