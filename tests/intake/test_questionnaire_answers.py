import pytest
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError

from intake.lifecycle import Status
from intake.models import Question
from intake.services import (
    questionnaire_answers_save,
    questionnaire_new_version,
    questionnaire_publish,
)
from tests.factories import ReviewServiceFactory, review_request

pytestmark = pytest.mark.django_db


def publish(service, *questions):
    draft = questionnaire_new_version(service=service)
    draft.questions.all().delete()
    for position, (key, kind, required, choices) in enumerate(questions):
        Question.objects.create(
            questionnaire=draft,
            position=position,
            key=key,
            text=key,
            kind=kind,
            required=required,
            choices=choices,
        )
    return questionnaire_publish(questionnaire=draft)


@pytest.fixture
def service():
    service = ReviewServiceFactory()
    publish(
        service,
        ("condition", "choice", True, ["Scoliosis", "Kyphosis"]),
        ("diagnosed_on", "date", True, []),
        ("back_pain", "yes_no", True, []),
        ("other", "text", False, []),
    )
    return service


@pytest.fixture
def draft(family, service):
    return review_request(family=family, service=service)


def test_answers_are_saved_step_by_step_and_complete_when_every_required_one_is_given(draft):
    first = questionnaire_answers_save(review_request=draft, answers={"condition": "Scoliosis"})
    assert first.completed_at is None

    done = questionnaire_answers_save(
        review_request=draft, answers={"diagnosed_on": "2024-03-15", "back_pain": True}
    )

    assert done.answers == {
        "condition": "Scoliosis",
        "diagnosed_on": "2024-03-15",
        "back_pain": "yes",
    }
    assert done.completed_at is not None


def test_clearing_a_required_answer_makes_the_questionnaire_incomplete_again(draft):
    questionnaire_answers_save(
        review_request=draft,
        answers={"condition": "Kyphosis", "diagnosed_on": "2024-03-15", "back_pain": "no"},
    )

    answers = questionnaire_answers_save(review_request=draft, answers={"back_pain": ""})

    assert "back_pain" not in answers.answers
    assert answers.completed_at is None


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("condition", "Broken arm", "Choose one of: Scoliosis, Kyphosis."),
        ("diagnosed_on", "15/03/2024", "Enter a date such as 2024-03-15."),
        ("back_pain", "sometimes", "Answer yes or no."),
        ("other", "x" * 2001, "Keep this answer under 2000 characters."),
        ("favourite_colour", "blue", "This question is not on the questionnaire."),
    ],
)
def test_an_invalid_answer_is_explained_and_nothing_is_saved(draft, key, value, message):
    questionnaire_answers_save(review_request=draft, answers={"condition": "Scoliosis"})

    with pytest.raises(ValidationError) as error:
        questionnaire_answers_save(review_request=draft, answers={"back_pain": "yes", key: value})

    assert error.value.message_dict == {key: [message]}
    draft.questionnaire_answers.refresh_from_db()
    assert draft.questionnaire_answers.answers == {"condition": "Scoliosis"}


def test_answers_keep_the_version_they_started_on(draft, service, family):
    started = questionnaire_answers_save(review_request=draft, answers={"condition": "Scoliosis"})
    newer = publish(service, ("condition", "choice", True, ["Scoliosis", "Kyphosis", "Other"]))

    kept = questionnaire_answers_save(review_request=draft, answers={"back_pain": "no"})
    fresh = questionnaire_answers_save(
        review_request=review_request(family=family, service=service),
        answers={"condition": "Other"},
    )

    assert kept.questionnaire == started.questionnaire
    assert fresh.questionnaire == newer
    with pytest.raises(ValidationError):
        questionnaire_answers_save(review_request=draft, answers={"condition": "Other"})


def test_a_version_that_has_answers_cannot_be_deleted(draft):
    answers = questionnaire_answers_save(review_request=draft, answers={"condition": "Scoliosis"})

    with pytest.raises(ProtectedError):
        answers.questionnaire.delete()


def test_answers_are_frozen_once_the_request_is_sent(family, service):
    sent = review_request(family=family, service=service, status=Status.AWAITING_PAYMENT)

    with pytest.raises(ValidationError, match="only before the request is sent"):
        questionnaire_answers_save(review_request=sent, answers={"condition": "Scoliosis"})


def test_a_service_without_a_published_questionnaire_says_so(family):
    request = review_request(family=family, service=ReviewServiceFactory())

    with pytest.raises(ValidationError, match="not published yet"):
        questionnaire_answers_save(review_request=request, answers={})
