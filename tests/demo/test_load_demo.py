import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import User
from demo.data import PASSWORD
from intake.models import Department, Question, ReviewRequest, ReviewService
from records.models import Document
from reviews.models import ReviewAssignment

pytestmark = pytest.mark.django_db


def counts():
    return {
        model.__name__: model.objects.count()
        for model in (
            Department,
            ReviewService,
            Question,
            User,
            ReviewRequest,
            ReviewAssignment,
            Document,
        )
    }


def test_loading_twice_adds_nothing_the_second_time(capsys):
    call_command("load_demo")
    first = counts()

    call_command("load_demo")

    assert counts() == first
    assert first == {
        "Department": 4,
        "ReviewService": 2,
        "Question": 11,
        "User": 8,
        "ReviewRequest": 4,
        "ReviewAssignment": 4,
        "Document": 10,
    }


def test_the_catalogue_is_the_one_the_hospital_described():
    call_command("load_demo")

    spine = ReviewService.objects.get(slug="spine-document-review")
    hip = ReviewService.objects.get(slug="hip-document-review")
    assert (spine.fee_cents, spine.reviewers_required) == (50000, 3)
    assert (hip.fee_cents, hip.reviewers_required) == (16700, 1)
    assert spine.allowed_states == ["GA"]
    assert spine.max_patient_age == 20
    assert spine.questionnaires.get().is_published


def test_it_prints_the_address_the_sign_ins_and_the_staff_keys(capsys):
    call_command("load_demo")

    printed = capsys.readouterr().out
    assert "http://testserver/" in printed
    assert PASSWORD in printed
    for email in (
        "family@example.org",
        "coordinator@example.org",
        "reviewer1@example.org",
        "admin@example.org",
    ):
        assert email in printed


def test_it_refuses_where_demo_data_is_not_allowed(settings):
    settings.DEMO_DATA_ALLOWED = False

    with pytest.raises(CommandError, match="DEMO_DATA_ALLOWED"):
        call_command("load_demo")

    assert not User.objects.exists()


def test_a_demo_coordinator_signs_in_with_the_password_and_a_printed_code(client, capsys):
    call_command("load_demo")
    capsys.readouterr()
    call_command("load_demo", "--codes")
    codes = dict(reversed(line.split()) for line in capsys.readouterr().out.splitlines())

    client.post(
        reverse("accounts:login"), {"username": "coordinator@example.org", "password": PASSWORD}
    )
    response = client.post(
        reverse("accounts:otp_verify"),
        {"token": codes["coordinator@example.org"], "next": "/admin/"},
    )

    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_the_demo_family_and_reviewer_each_see_their_requests(client):
    from tests.conftest import sign_in

    call_command("load_demo")
    family = User.objects.get(email="family@example.org")
    reviewer = User.objects.get(email="reviewer1@example.org")

    family_page = sign_in(client, family).get(reverse("intake:my_requests"))
    reviewer_page = sign_in(type(client)(), reviewer).get(reverse("reviews:my_reviews"))

    statuses = sorted(request.status for request in family_page.context["requests"])
    assert statuses == ["draft", "in_review", "in_review", "submitted"]
    assert [r.service.slug for r in (case.request for case in reviewer_page.context["cases"])] == [
        "hip-document-review",
        "spine-document-review",  # with the spine study, read by the three spine reviewers
    ]


def test_what_an_admin_changed_survives_the_next_make_run():
    call_command("load_demo")
    ReviewService.objects.filter(slug="hip-document-review").update(fee_cents=18000)
    Department.objects.filter(slug="neurology").update(phone="404-555-9999")

    call_command("load_demo")

    assert ReviewService.objects.get(slug="hip-document-review").fee_cents == 18000
    assert Department.objects.get(slug="neurology").phone == "404-555-9999"


def test_the_demo_spine_review_can_get_its_panel_of_three_from_the_pools(db, settings):
    from demo.services import demo_load
    from intake.lifecycle import Status
    from intake.services import review_request_transition
    from reviews.selectors import panel_suggest

    settings.DEMO_DATA_ALLOWED = True
    demo_load()
    spine = ReviewRequest.objects.get(service__slug="spine-document-review", status="submitted")

    spine = review_request_transition(review_request=spine, to_status=Status.IN_REVIEW, actor=None)

    suggested = {user.email for user in panel_suggest(review_request=spine)}
    assert suggested == {"reviewer1@example.org", "reviewer2@example.org", "reviewer3@example.org"}
    assert spine.service.department.program_lead.email == "reviewer1@example.org"


def test_the_spine_reviewers_can_open_the_demo_study_in_the_viewer(client):
    from records.frames import study_index
    from records.services import document_process
    from tests.conftest import sign_in

    call_command("load_demo")
    study = Document.objects.get(original_name="Spine CT and standing X-ray.zip")
    document_process(document_id=study.pk)  # as the worker does after the upload
    reviewer = User.objects.get(email="reviewer2@example.org")
    sign_in(client, reviewer)

    page = client.get(reverse("reviews:viewer", args=[study.request.reference, study.pk]))

    assert page.status_code == 200
    ct, film = study_index(document=study).series
    assert (ct.label, ct.frames, ct.images[0].spacing) == ("CT · Coronal spine", 24, (0.8, 0.8))
    assert (film.label, film.images[0].spacing, film.images[0].spacing_source) == (
        "DX · Standing PA spine",
        (0.4, 0.4),
        "imager",
    )
    assert study.previews.count() == 25  # the worker's previews: the viewer's placeholders
