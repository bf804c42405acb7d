"""A team sets up its own study: the administrator creates it, invites staff, removes roles.

Each step goes through the site's pages (or ``ldntrial manage``), confirms what it did,
names every problem, and leaves its trace on the access review.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from ldntrial.protocol.loader import builtin_protocol_text
from ldntrial.web.studies.models import Invitation, Membership, Study
from ldntrial.web.studies.notices import recipients
from ldntrial.web.studies.roles import Role

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
SITES = "stanford, Stanford, America/Los_Angeles\nmadrid, Hospital del Mar, Europe/Madrid"


@pytest.fixture
def root() -> Client:
    user = get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)
    client = Client()
    client.force_login(user)
    return client


def _new_study(client: Client, **changes: object):  # type: ignore[no-untyped-def]
    form = {
        "code": "ldn-2027",
        "title": "LDN in fibromyalgia, 2027",
        "protocol": "crossover-2013",
        "sites": SITES,
        **changes,
    }
    return client.post(reverse("staff:study_new"), form, follow=True)


def test_the_administrator_creates_a_study_from_a_protocol_file_every_problem_named(root) -> None:
    broken = builtin_protocol_text("crossover-2013").replace(
        'method = "permuted_blocks"', 'method = "coin"'
    )
    refused = _new_study(
        root,
        protocol="own",
        protocol_file=SimpleUploadedFile("mine.toml", broken.encode()),
        sites="stanford, Stanford, Mars/Olympus",
    )
    assert refused.status_code == 422
    assert re.search(r"line \d+: allocation.method: must be one of", refused.text)
    assert "stanford: &#x27;Mars/Olympus&#x27; is not an IANA time zone" in refused.text
    assert not Study.objects.exists()
    assert _new_study(root, code="new").status_code == 422  # the address of this very page

    done = _new_study(root)
    assert "Study ldn-2027 created with 2 site(s); you are its study administrator." in done.text
    study = Study.objects.get(code="ldn-2027")
    assert {s.code: s.timezone for s in study.sites.all()} == {
        "stanford": "America/Los_Angeles",
        "madrid": "Europe/Madrid",
    }
    assert Membership.objects.get(study=study).role == Role.STUDY_ADMIN
    assert _new_study(root).status_code == 422  # the code is taken

    someone = get_user_model().objects.create_user("someone", password=PASSWORD)
    client = Client()
    client.force_login(someone)
    assert client.get(reverse("staff:study_new")).status_code == 403
    assert "Create a study" not in client.get(reverse("staff:studies")).text


def test_staff_join_by_a_one_time_invitation_and_leave_with_a_reason(
    root, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    _new_study(root)
    study = Study.objects.get(code="ldn-2027")
    team = reverse("staff:access_review", kwargs={"code": study.code})
    stanford = study.sites.get(code="stanford")
    with django_capture_on_commit_callbacks(execute=True):
        sent = root.post(
            team,
            {"form": "invite", "invite-email": "cora@example.org", "invite-role": "coordinator",
             "invite-site": stanford.pk},
            follow=True,
        )  # fmt: skip
    assert "Invitation sent to cora@example.org as coordinator" in sent.text
    (mail,) = mailoutbox
    assert mail.to == ["cora@example.org"] and "coordinator at Stanford" in mail.body
    link = re.search(r"http://testserver(/accounts/invitations/[^/\s]+/)", mail.body).group(1)
    invitation = Invitation.objects.get()
    assert link.split("/")[-2] not in str(invitation.secret_hash)  # only a hash is kept

    cora = Client()
    page = cora.get(link)
    assert page.status_code == 200 and "Join LDN in fibromyalgia, 2027" in page.text
    weak = cora.post(link, {"username": "cora", "password": "cora", "password_again": "cora"})
    assert weak.status_code == 422 and "This password is too short" in weak.text
    differ = cora.post(link, {"username": "cora", "password": PASSWORD, "password_again": "x"})
    assert differ.status_code == 422 and "the two passwords differ" in differ.text
    joined = cora.post(
        link, {"username": "cora", "password": PASSWORD, "password_again": PASSWORD}, follow=True
    )
    assert "Welcome: you are coordinator in ldn-2027." in joined.text
    member = Membership.objects.get(study=study, role=Role.COORDINATOR)
    assert (member.user.username, member.user.email, member.site) == (
        "cora",
        "cora@example.org",
        stanford,
    )
    again = Client().get(link)
    assert again.status_code == 404 and "This invitation was used already" in again.text

    # A withdrawn invitation's link stops working at once.
    with django_capture_on_commit_callbacks(execute=True):
        root.post(
            team, {"form": "invite", "invite-email": "x@example.org", "invite-role": "monitor"}
        )
    pending = Invitation.objects.get(email="x@example.org")
    withdrawn = root.post(
        team, {"form": "withdraw", "id": pending.pk, "reason": "wrong address"}, follow=True
    )
    assert "The invitation of x@example.org is withdrawn" in withdrawn.text
    x_link = re.search(r"(/accounts/invitations/[^/\s]+/)", mailoutbox[-1].body).group(1)
    assert "was withdrawn" in Client().get(x_link).text

    # Removing a role needs a reason, ends her access, and is kept in the review.
    no_reason = root.post(team, {"form": "remove", "id": member.pk, "reason": ""})
    assert no_reason.status_code == 422 and Membership.objects.filter(pk=member.pk).exists()
    removed = root.post(
        team, {"form": "remove", "id": member.pk, "reason": "left the site"}, follow=True
    )
    assert "cora no longer holds coordinator." in removed.text
    assert cora.get(reverse("staff:dashboard", kwargs={"code": study.code})).status_code == 404
    review = root.get(team).text
    assert (
        "role removed" in review and "left the site" in review and "invitation accepted" in review
    )
    assert recipients([Role.COORDINATOR], study) == []
    admin = Membership.objects.get(study=study, role=Role.STUDY_ADMIN)
    last = root.post(team, {"form": "remove", "id": admin.pk, "reason": "tidying"}, follow=True)
    assert "the study&#x27;s only study administrator" in last.text
    assert Membership.objects.filter(pk=admin.pk).exists()


def test_a_team_sets_up_its_study_with_two_commands(
    tmp_path, capsys, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    get_user_model().objects.create_superuser("alice", "alice@example.org", PASSWORD)
    own = tmp_path / "mine.toml"
    own.write_text(builtin_protocol_text("parallel-2024"), "utf-8")
    call_command(
        "create_study", "ldn-par", "Our parallel trial", "--protocol", str(own),
        "--site", "leeds, Leeds, Europe/London", "--admin", "alice",
    )  # fmt: skip
    assert "Study ldn-par created with 1 site(s); alice is its study administrator." in (
        capsys.readouterr().out
    )
    with pytest.raises(CommandError, match="sites: 'leeds': given twice"):
        call_command(
            "create_study", "ldn-two", "Two", "--protocol", "parallel-2024", "--admin", "alice",
            "--site", "leeds, Leeds, Europe/London", "--site", "leeds, Leeds, Europe/London",
        )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "invite", "ldn-par", "bob@example.org", "pharmacist",
            "--site", "leeds", "--by", "alice",
        )  # fmt: skip
    link = capsys.readouterr().out.strip()
    assert link.startswith("http://127.0.0.1:8000/accounts/invitations/")
    assert mailoutbox and link in mailoutbox[-1].body


def test_a_site_that_requires_a_second_factor_asks_for_it_after_joining(
    root, settings, django_capture_on_commit_callbacks
) -> None:
    from ldntrial.web.studies.invitations import invitation_path, invite
    from ldntrial.web.studies.setup import SiteSpec, create_study

    settings.LDNTRIAL_REQUIRE_TOTP = True
    root_user = get_user_model().objects.get(username="root")
    with django_capture_on_commit_callbacks(execute=True):
        study = create_study(
            code="ldn-2fa", title="Second factor", protocol_text=builtin_protocol_text("nof1"),
            sites=[SiteSpec("x", "X", "UTC")], admin=root_user, actor="system:test",
        )  # fmt: skip
        sent = invite(
            study, email="m@example.org", role="monitor", site=None, by=root_user,
            base_url="http://testserver", actor="system:test",
        )  # fmt: skip
    joined = Client().post(
        invitation_path(sent.secret),
        {"username": "mona", "password": PASSWORD, "password_again": PASSWORD},
    )
    assert joined.status_code == 302
    client = Client()
    client.force_login(get_user_model().objects.get(username="mona"))
    dashboard = client.get(reverse("staff:dashboard", kwargs={"code": study.code}))
    assert dashboard.status_code == 302 and dashboard["Location"] == reverse("second_factor_setup")
