import pytest
from django.urls import reverse

from intake.lifecycle import Status
from intake.models import ConsentText, Question, ReviewService
from intake.services import questionnaire_new_version, questionnaire_publish
from tests.conftest import sign_in
from tests.factories import DepartmentFactory, ReviewServiceFactory, review_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator_client(client, coordinator):
    return sign_in(client, coordinator)


def move(client, request, to_status, note=""):
    return client.post(
        reverse("admin:intake_reviewrequest_move", args=[request.pk]),
        {"to_status": to_status, "note": note},
    )


def test_a_coordinator_asks_the_family_for_information(coordinator_client, coordinator, family):
    request = review_request(family=family, status=Status.SUBMITTED)

    response = move(coordinator_client, request, Status.NEEDS_INFO, "Please send the MRI report.")

    assert response["Location"] == reverse("admin:intake_reviewrequest_change", args=[request.pk])
    request.refresh_from_db()
    assert request.status == Status.NEEDS_INFO
    event = request.events.latest("pk")
    assert (event.actor, event.note) == (coordinator, "Please send the MRI report.")


def test_asking_for_information_without_saying_what_is_refused_and_keeps_the_choice(
    coordinator_client, family
):
    request = review_request(family=family, status=Status.SUBMITTED)

    response = move(coordinator_client, request, Status.NEEDS_INFO, "   ")

    assert response.status_code == 200
    assert "Say what the family should know" in response.content.decode()
    assert response.context["form"]["to_status"].value() == Status.NEEDS_INFO
    request.refresh_from_db()
    assert request.status == Status.SUBMITTED


def test_only_the_coordinators_own_moves_are_offered(coordinator_client, family):
    awaiting = review_request(family=family, status=Status.AWAITING_PAYMENT)
    in_review = review_request(family=family, status=Status.IN_REVIEW)

    offered = coordinator_client.get(reverse("admin:intake_reviewrequest_move", args=[awaiting.pk]))
    none_offered = coordinator_client.get(
        reverse("admin:intake_reviewrequest_move", args=[in_review.pk])
    )

    assert [value for value, _ in offered.context["form"].fields["to_status"].choices] == [
        Status.CANCELLED
    ]
    assert none_offered.context["targets"] == []
    assert "No move is made by hand from here" in none_offered.content.decode()


def test_marking_paid_by_hand_is_not_possible_even_with_a_crafted_form(coordinator_client, family):
    request = review_request(family=family, status=Status.AWAITING_PAYMENT)

    response = move(coordinator_client, request, Status.SUBMITTED)

    assert response.status_code == 200
    assert "is awaiting payment: it cannot be moved to submitted." in response.content.decode()
    request.refresh_from_db()
    assert request.status == Status.AWAITING_PAYMENT


def test_a_move_that_someone_else_made_impossible_meanwhile_is_explained(
    coordinator_client, family
):
    request = review_request(family=family, status=Status.SUBMITTED)
    form_page = coordinator_client.get(
        reverse("admin:intake_reviewrequest_move", args=[request.pk])
    )
    assert form_page.status_code == 200
    review_request(family=family)  # unrelated noise
    from intake.services import review_request_transition

    review_request_transition(review_request=request, to_status=Status.IN_REVIEW, actor=None)

    response = move(coordinator_client, request, Status.NEEDS_INFO, "Send the CT.")

    assert response.status_code == 200
    assert f"{request.reference} is in review: it cannot be moved to needs information." in (
        response.content.decode()
    )
    request.refresh_from_db()
    assert request.status == Status.IN_REVIEW


def test_starting_reviews_in_bulk_moves_the_submitted_and_explains_the_rest(
    coordinator_client, family
):
    submitted = review_request(family=family, status=Status.SUBMITTED)
    draft = review_request(family=family)

    response = coordinator_client.post(
        reverse("admin:intake_reviewrequest_changelist"),
        {"action": "start_review", "_selected_action": [submitted.pk, draft.pk]},
        follow=True,
    )

    submitted.refresh_from_db()
    draft.refresh_from_db()
    assert (submitted.status, draft.status) == (Status.IN_REVIEW, Status.DRAFT)
    page = response.content.decode()
    assert "review started" in page
    assert f"{draft.reference} is draft: it cannot be moved to in review." in page


def test_the_request_page_shows_its_history_and_offers_no_status_field(coordinator_client, family):
    request = review_request(family=family, status=Status.SUBMITTED)

    page = coordinator_client.get(reverse("admin:intake_reviewrequest_change", args=[request.pk]))

    html = page.content.decode()
    assert "Move to…" in html
    assert 'name="status"' not in html
    assert "status" in page.context["adminform"].readonly_fields
    events = next(
        inline
        for inline in page.context["inline_admin_formsets"]
        if inline.formset.model.__name__ == "RequestEvent"
    )
    assert len(events.formset.queryset) == 3


def test_requests_and_their_history_cannot_be_added_or_deleted_in_the_admin(
    client, admin_user, family
):
    sign_in(client, admin_user)
    request = review_request(family=family)

    assert client.get(reverse("admin:intake_reviewrequest_add")).status_code == 403
    assert (
        client.get(reverse("admin:intake_reviewrequest_delete", args=[request.pk])).status_code
        == 403
    )
    event = request.events.get()
    assert (
        client.get(reverse("admin:intake_requestevent_delete", args=[event.pk])).status_code == 403
    )
    assert (
        client.post(
            reverse("admin:intake_requestevent_change", args=[event.pk]), {"note": "x"}
        ).status_code
        == 403
    )


def test_the_request_list_costs_the_same_queries_for_5_or_50_requests(
    coordinator_client, family, django_assert_max_num_queries
):
    service = ReviewServiceFactory()
    for _ in range(5):
        review_request(family=family, service=service, status=Status.SUBMITTED)
    url = reverse("admin:intake_reviewrequest_changelist")
    with django_assert_max_num_queries(50) as few:
        coordinator_client.get(url)
    for _ in range(45):
        review_request(family=family, service=service, status=Status.SUBMITTED)

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = coordinator_client.get(url)

    assert response.context["cl"].result_count == 50


def test_an_admin_enters_states_and_zip_prefixes_as_text(client, admin_user):
    sign_in(client, admin_user)
    department = DepartmentFactory()

    response = client.post(
        reverse("admin:intake_reviewservice_add"),
        {
            "department": department.pk,
            "name": "Knee document review",
            "slug": "knee",
            "summary": "A review.",
            "readers": "a knee program leader",
            "fee_cents": 20000,
            "currency": "usd",
            "reviewers_required": 1,
            "target_days": 7,
            "limit_days": 10,
            "allowed_states": "ga, sc",
            "excluded_zip_prefixes": "300, 301",
            "max_patient_age": 20,
            "required_documents": ["referral", "imaging"],
            "active": "on",
        },
    )

    assert response.status_code == 302
    service = ReviewService.objects.get(slug="knee")
    assert service.allowed_states == ["GA", "SC"]
    assert service.excluded_zip_prefixes == ["300", "301"]
    assert service.required_documents == ["referral", "imaging"]


def test_a_bad_state_code_is_explained_and_the_form_keeps_its_values(client, admin_user):
    sign_in(client, admin_user)

    response = client.post(
        reverse("admin:intake_reviewservice_add"),
        {
            "department": DepartmentFactory().pk,
            "name": "Knee",
            "slug": "knee",
            "summary": "A review.",
            "readers": "one",
            "fee_cents": 20000,
            "currency": "usd",
            "reviewers_required": 1,
            "target_days": 7,
            "limit_days": 10,
            "allowed_states": "GA, Georgia",
        },
    )

    assert response.status_code == 200
    assert "Not a US state code: GEORGIA." in response.content.decode()
    assert 'value="GA, Georgia"' in response.content.decode()
    assert not ReviewService.objects.filter(slug="knee").exists()


def test_a_published_questionnaire_cannot_be_edited_but_a_draft_can(client, admin_user):
    sign_in(client, admin_user)
    service = ReviewServiceFactory()
    published = questionnaire_new_version(service=service)
    Question.objects.create(questionnaire=published, key="pain", text="Pain?", kind="yes_no")
    questionnaire_publish(questionnaire=published)
    draft = questionnaire_new_version(service=service)

    frozen = client.get(reverse("admin:intake_questionnaire_change", args=[published.pk]))
    editable = client.get(reverse("admin:intake_questionnaire_change", args=[draft.pk]))

    assert 'name="questions-0-text"' not in frozen.content.decode()
    assert 'name="questions-0-text"' in editable.content.decode()
    assert (
        client.get(reverse("admin:intake_questionnaire_delete", args=[published.pk])).status_code
        == 403
    )


def test_publishing_from_the_admin_reports_what_is_missing(client, admin_user):
    sign_in(client, admin_user)
    draft = questionnaire_new_version(service=ReviewServiceFactory())

    response = client.post(
        reverse("admin:intake_questionnaire_changelist"),
        {"action": "publish", "_selected_action": [draft.pk]},
        follow=True,
    )

    assert "needs at least one question" in response.content.decode()
    draft.refresh_from_db()
    assert not draft.is_published


def test_a_new_version_is_started_from_the_service_list(client, admin_user):
    sign_in(client, admin_user)
    service = ReviewServiceFactory()

    client.post(
        reverse("admin:intake_reviewservice_changelist"),
        {"action": "start_questionnaire_version", "_selected_action": [service.pk]},
    )

    assert list(service.questionnaires.values_list("version", flat=True)) == [1]


def test_consent_texts_are_numbered_by_the_portal(client, admin_user):
    sign_in(client, admin_user)

    for body in ("First wording.", "Second wording."):
        client.post(
            reverse("admin:intake_consenttext_add"), {"title": "Financial consent", "body": body}
        )

    assert list(ConsentText.objects.order_by("version").values_list("version", "body")) == [
        (1, "First wording."),
        (2, "Second wording."),
    ]


def test_a_coordinator_cannot_change_the_catalogue(coordinator_client):
    service = ReviewServiceFactory()

    response = coordinator_client.post(
        reverse("admin:intake_reviewservice_change", args=[service.pk]), {"fee_cents": 1}
    )

    assert response.status_code == 403
    service.refresh_from_db()
    assert service.fee_cents == 50000


def test_a_coordinator_signed_out_while_idle_loses_no_data_and_changes_nothing(
    client, coordinator, family
):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    request = review_request(family=family, status=Status.SUBMITTED)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        sign_in(client, coordinator)
        client.get(reverse("admin:intake_reviewrequest_move", args=[request.pk]))

    with time_machine.travel(start + timedelta(minutes=20), tick=False):
        response = move(client, request, Status.NEEDS_INFO, "Please send the CT.")

    assert response["Location"] == reverse("accounts:login")
    request.refresh_from_db()
    assert request.status == Status.SUBMITTED


def test_the_request_page_shows_what_the_family_sent_and_files_only_through_the_file_view(
    client, coordinator, family_request
):
    from intake.models import Question, QuestionnaireAnswers
    from intake.services import questionnaire_new_version, questionnaire_publish

    questionnaire = questionnaire_new_version(service=family_request.service)
    Question.objects.create(
        questionnaire=questionnaire, key="brace", text="Has your child worn a brace?", kind="yes_no"
    )
    questionnaire_publish(questionnaire=questionnaire)
    QuestionnaireAnswers.objects.create(
        request=family_request, questionnaire=questionnaire, answers={"brace": "yes"}
    )
    document = family_request.documents.get()
    sign_in(client, coordinator)

    page = client.get(
        reverse("admin:intake_reviewrequest_change", args=[family_request.pk])
    ).content.decode()

    assert "<strong>Has your child worn a brace?</strong><br>yes" in page
    assert f'<a href="/files/{document.pk}/">school-report.pdf</a>' in page
    assert document.storage_key not in page
