"""Studies, sites and roles: every write audited with old and new values; access by site."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser

from ldntrial.protocol.loader import builtin_protocol_text
from ldntrial.web.audit.models import AuditEntry
from ldntrial.web.audit.tracking import AuditError, because
from ldntrial.web.studies.access import Access
from ldntrial.web.studies.models import Membership, Site, Study
from ldntrial.web.studies.roles import BLINDED_ROLES, PERMISSIONS, Permission, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def study() -> Study:
    study = Study.objects.create(
        code="stanford",
        title="LDN crossover",
        protocol_text=builtin_protocol_text("crossover-2013"),
        actor="system:test",
    )
    Site.objects.create(study=study, code="a", name="Site A", actor="system:test")
    Site.objects.create(study=study, code="b", name="Site B", actor="system:test")
    return study


def _member(study: Study, name: str, role: Role, site: str | None) -> Access:
    user = get_user_model().objects.create_user(name, password="a long pass phrase 1")
    Membership.objects.create(
        user=user,
        study=study,
        site=study.sites.get(code=site) if site else None,
        role=role,
        actor="system:test",
    )
    return Access.of(user, study)


def test_creating_records_every_field_in_the_trail(study: Study) -> None:
    entry = AuditEntry.objects.get(record=f"studies.Study:{study.pk}")
    assert (entry.actor, entry.action, entry.reason) == ("system:test", "create", "")
    assert entry.changes["code"] == [None, "stanford"]
    assert entry.changes["id"] == [None, str(study.pk)]
    assert "locked_at" not in entry.changes  # a field left empty is no change
    assert study.protocol.id == "crossover-2013"


def test_a_change_needs_a_reason_and_keeps_the_old_value(study: Study) -> None:
    study.title = "LDN crossover (Stanford 2013)"
    with pytest.raises(AuditError, match=r"^reason: required"):
        study.save(actor="user:9:ana")
    assert Study.objects.get(pk=study.pk).title == "LDN crossover"  # nothing half-written
    with because("full title from the protocol"):
        study.save(actor="user:9:ana")
    entry = AuditEntry.objects.order_by("-id").first()
    assert entry.action == "update" and entry.actor == "user:9:ana"
    assert entry.changes == {"title": ["LDN crossover", "LDN crossover (Stanford 2013)"]}
    assert entry.reason == "full title from the protocol"


def test_saving_unchanged_data_writes_no_entry(study: Study) -> None:
    before = AuditEntry.objects.count()
    Study.objects.get(pk=study.pk).save(actor="user:9:ana")
    assert AuditEntry.objects.count() == before


def test_no_write_without_an_actor(study: Study) -> None:
    """Every write names who acts (issue 17): none is credited to whoever is around it."""
    refused = r"^actor: required to {} site data: pass who acts \(actor=\.\.\.\)"
    before = AuditEntry.objects.count()
    with pytest.raises(AuditError, match=refused.format("save")):
        Site.objects.create(study=study, code="c", name="Site C")
    assert not Site.objects.filter(code="c").exists()
    site = study.sites.get(code="b")
    site.name = "Site B (renamed)"
    with because("renamed"), pytest.raises(AuditError, match=refused.format("save")):
        site.save()
    with because("closed"), pytest.raises(AuditError, match=refused.format("delete")):
        site.delete()
    with pytest.raises(AuditError, match="get_or_create\\(\\) on site rows cannot say who acts"):
        Site.objects.get_or_create(study=study, code="d", name="Site D")
    assert study.sites.get(code="b").name == "Site B" and AuditEntry.objects.count() == before
    Site.objects.create(study=study, code="c", name="Site C", actor="user:9:ana")
    assert AuditEntry.objects.order_by("-id").first().actor == "user:9:ana"


def test_a_delete_needs_a_reason_and_is_recorded_with_what_was_there(study: Study) -> None:
    site = study.sites.get(code="b")
    with pytest.raises(AuditError, match=r"^reason: required to delete"):
        site.delete(actor="user:9:ana")
    with because("site withdrew before enrolling"):
        site.delete(actor="user:9:ana")
    entry = AuditEntry.objects.order_by("-id").first()
    assert entry.action == "delete" and entry.changes["name"] == ["Site B", None]


def test_a_fields_history_can_be_rebuilt_from_the_trail_alone(study: Study) -> None:
    titles = ["Second title", "Third title"]
    for title in titles:
        study.title = title
        with because("retitled"):
            study.save(actor="user:9:ana")
    history = [
        entry.changes["title"][1]
        for entry in AuditEntry.objects.filter(record=f"studies.Study:{study.pk}")
        if "title" in entry.changes
    ]
    assert history == ["LDN crossover", *titles]
    assert history[-1] == Study.objects.get(pk=study.pk).title


def test_a_coordinator_of_site_a_sees_nothing_of_site_b(study: Study) -> None:
    access = _member(study, "cora", Role.COORDINATOR, "a")
    site_a, site_b = study.sites.get(code="a"), study.sites.get(code="b")
    assert access.can(Permission.ENROL, site_a)
    assert not access.can(Permission.ENROL, site_b)
    assert not access.can(Permission.VIEW_PARTICIPANTS, site_b)
    assert list(access.sites(Permission.VIEW_PARTICIPANTS)) == [site_a]
    assert access.blinded


def test_roles_at_every_site_and_the_blinded_ones(study: Study) -> None:
    investigator = _member(study, "ivan", Role.INVESTIGATOR, None)
    assert investigator.sites(Permission.ENROL).count() == 2
    assert investigator.can(Permission.EMERGENCY_UNBLIND) and investigator.blinded
    pharmacist = _member(study, "phil", Role.PHARMACIST, "a")
    assert not pharmacist.blinded and pharmacist.can(Permission.VIEW_ALLOCATION)
    monitor = _member(study, "mona", Role.MONITOR, None)
    assert monitor.can(Permission.VIEW_AUDIT) and not monitor.can(Permission.ENROL)
    outsider = Access.of(AnonymousUser(), study)
    assert outsider.blinded and not outsider.can(Permission.VIEW_PARTICIPANTS)


def test_only_the_pharmacist_is_unblinded_while_the_study_runs() -> None:
    assert set(PERMISSIONS) == set(Role)
    assert set(Role) - BLINDED_ROLES == {Role.PHARMACIST}
    assert all(Permission.VIEW_ALLOCATION not in PERMISSIONS[role] for role in BLINDED_ROLES)
    writes = {Permission.SCREEN, Permission.ENROL, Permission.RECORD_VISIT, Permission.ENTER_LABS}
    assert not PERMISSIONS[Role.MONITOR] & writes  # the monitor reads and audits only


def test_a_study_cannot_be_made_with_a_broken_protocol() -> None:
    from django.core.exceptions import ValidationError

    text = builtin_protocol_text("crossover-2013").replace(
        'primary_item = "pain"', 'primary_item = "pian"'
    )
    with pytest.raises(ValidationError) as caught:
        Study.objects.create(code="broken", title="x", protocol_text=text, actor="system:test")
    assert "pian" in caught.value.message_dict["protocol_text"][0]
    assert not Study.objects.filter(code="broken").exists()
