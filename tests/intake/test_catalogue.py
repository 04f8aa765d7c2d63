import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from intake import services
from intake.models import Question
from intake.selectors import catalogue_departments, consent_text_current, questionnaire_current
from tests.factories import DepartmentFactory, ReviewServiceFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("minutes", [14, 31])
def test_the_database_refuses_a_call_length_outside_15_to_30_minutes(minutes):
    with pytest.raises(IntegrityError), transaction.atomic():
        DepartmentFactory(call_length_minutes=minutes)


def test_the_database_refuses_a_way_of_counting_days_it_does_not_know():
    with pytest.raises(IntegrityError), transaction.atomic():
        DepartmentFactory(review_days="lunar")


@pytest.mark.parametrize(
    "fields",
    [{"fee_cents": 0}, {"reviewers_required": 0}, {"target_days": 11, "limit_days": 10}],
)
def test_the_database_refuses_a_free_unread_or_impossible_service(fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewServiceFactory(**fields)


def test_a_department_needs_a_real_time_zone():
    department = DepartmentFactory.build(time_zone="Atlanta")

    with pytest.raises(ValidationError) as error:
        department.full_clean()

    assert "time_zone" in error.value.message_dict


def test_service_rules_are_checked_and_tidied_before_saving():
    service = ReviewServiceFactory.build(
        department=DepartmentFactory(),
        allowed_states=["ga", "XX"],
        excluded_zip_prefixes=["300", "abc", "1234567"],
        required_documents=["referral", "selfie"],
    )

    with pytest.raises(ValidationError) as error:
        service.full_clean()

    assert error.value.message_dict == {
        "allowed_states": ["Not a US state code: XX."],
        "excluded_zip_prefixes": ["Not a ZIP code or prefix: abc, 1234567."],
        "required_documents": ["Unknown document kinds: selfie."],
    }
    assert service.allowed_states == ["GA", "XX"]


def test_the_fee_is_shown_in_dollars():
    assert ReviewServiceFactory.build(fee_cents=50000).fee_display == "$500"
    assert ReviewServiceFactory.build(fee_cents=16750).fee_display == "$167.50"
    assert ReviewServiceFactory.build(fee_cents=16700, currency="eur").fee_display == "167 EUR"


def test_the_catalogue_lists_active_departments_with_their_active_services(
    django_assert_num_queries,
):
    orthopedics = DepartmentFactory(name="Orthopedics")
    ReviewServiceFactory(department=orthopedics, name="Spine document review")
    ReviewServiceFactory(department=orthopedics, name="Old review", active=False)
    DepartmentFactory(name="Closed", active=False)
    DepartmentFactory(name="Cardiology")

    with django_assert_num_queries(2):
        listing = [(d.name, [s.name for s in d.active_services]) for d in catalogue_departments()]

    assert listing == [("Cardiology", []), ("Orthopedics", ["Spine document review"])]


def add_question(questionnaire, key, kind=Question.Kind.TEXT, **fields):
    return Question.objects.create(
        questionnaire=questionnaire, key=key, text=key, kind=kind, **fields
    )


def test_a_questionnaire_answers_from_its_latest_published_version():
    service = ReviewServiceFactory()
    first = services.questionnaire_new_version(service=service)
    add_question(first, "pain", Question.Kind.YES_NO)
    services.questionnaire_publish(questionnaire=first)

    second = services.questionnaire_new_version(service=service)

    assert questionnaire_current(service=service) == first
    assert list(second.questions.values_list("key", flat=True)) == ["pain"]
    add_question(second, "brace", Question.Kind.YES_NO)
    services.questionnaire_publish(questionnaire=second)
    assert questionnaire_current(service=service) == second
    assert second.version == first.version + 1
    assert first.questions.count() == 1  # the old version is untouched


def test_an_empty_questionnaire_or_a_choice_without_options_cannot_be_published():
    service = ReviewServiceFactory()
    draft = services.questionnaire_new_version(service=service)

    with pytest.raises(ValidationError, match="at least one question"):
        services.questionnaire_publish(questionnaire=draft)
    add_question(draft, "condition", Question.Kind.CHOICE, choices=["Scoliosis"])
    with pytest.raises(ValidationError, match="at least two options"):
        services.questionnaire_publish(questionnaire=draft)

    draft.refresh_from_db()
    assert draft.published_at is None


def test_a_questionnaire_version_is_unique_per_service():
    service = ReviewServiceFactory()
    services.questionnaire_new_version(service=service)

    with pytest.raises(IntegrityError), transaction.atomic():
        service.questionnaires.create(version=1)


def test_families_sign_the_latest_published_consent_text():
    first = services.consent_text_new_version(title="Financial consent", body="Self-pay.")
    services.consent_text_publish(consent_text=first)
    services.consent_text_new_version(title="Financial consent", body="Draft wording.")

    assert consent_text_current() == first
