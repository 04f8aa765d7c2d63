import pytest

from intake.eligibility import EligibilityAnswers, check_eligibility
from tests.factories import ReviewServiceFactory

pytestmark = pytest.mark.django_db


def answers(**overrides):
    values = {"state": "GA", "zip_code": "31401", "patient_age": 12, "hospitalized": False}
    return EligibilityAnswers(**{**values, **overrides})


@pytest.fixture
def service():
    # Georgia, outside the Atlanta metro (ZIPs 300–303), under 21.
    return ReviewServiceFactory()


def test_a_savannah_family_with_a_twelve_year_old_is_eligible(service):
    result = check_eligibility(service, answers())

    assert result.eligible
    assert result.reasons == []


def test_another_state_is_explained_with_the_states_name(service):
    result = check_eligibility(service, answers(state="fl"))

    assert not result.eligible
    assert result.reasons == ["This review is offered to families living in Georgia."]


@pytest.mark.parametrize("zip_code", ["30303", "30002", "30199", " 30205 "])
def test_an_excluded_metro_zip_is_not_eligible(service, zip_code):
    result = check_eligibility(service, answers(zip_code=zip_code))

    assert not result.eligible
    assert "not offered in your area" in result.reasons[0]


def test_the_age_limit_is_stated_as_under_the_next_birthday(service):
    assert check_eligibility(service, answers(patient_age=20)).eligible

    result = check_eligibility(service, answers(patient_age=21))

    assert result.reasons == ["This review is for patients under 21."]


def test_every_reason_is_given_at_once(service):
    result = check_eligibility(service, answers(state="AL", zip_code="30303", patient_age=25))

    assert len(result.reasons) == 3


def test_a_child_in_hospital_now_is_sent_to_the_department_phone(service):
    result = check_eligibility(service, answers(hospitalized=True))

    assert not result.eligible
    assert result.call_department
    assert service.department.phone in result.reasons[0]


def test_a_service_without_rules_accepts_everyone():
    service = ReviewServiceFactory(
        allowed_states=[], excluded_zip_prefixes=[], max_patient_age=None
    )

    assert check_eligibility(
        service, answers(state="WA", zip_code="98101", patient_age=40)
    ).eligible


def test_several_allowed_states_are_listed_in_plain_words():
    service = ReviewServiceFactory(allowed_states=["GA", "SC", "AL"])

    result = check_eligibility(service, answers(state="TN"))

    assert result.reasons == [
        "This review is offered to families living in Georgia, South Carolina or Alabama."
    ]
