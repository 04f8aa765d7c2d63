"""Who may ask for a document review: the service's rules (data) applied to a family's
answers, with a plain explanation for every "no"."""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from intake.models import US_STATES, ReviewService
from intake.models.catalogue import localized


@dataclass(frozen=True)
class EligibilityAnswers:
    state: str
    zip_code: str
    patient_age: int
    hospitalized: bool


@dataclass(frozen=True)
class EligibilityResult:
    eligible: bool
    reasons: list[str] = field(default_factory=list)
    # A child in hospital now needs a person, not a form: the page shows the phone number.
    call_department: bool = False


def check_eligibility(service: ReviewService, answers: EligibilityAnswers) -> EligibilityResult:
    phone = service.department.phone
    if answers.hospitalized:
        return EligibilityResult(
            eligible=False,
            call_department=True,
            reasons=[
                _(
                    "Because your child is in the hospital now, please call the %(name)s team "
                    "at %(phone)s, so they can help you right away."
                )
                % {"name": localized(service.department, "name"), "phone": phone}
            ],
        )
    reasons = []
    state = answers.state.strip().upper()
    if service.allowed_states and state not in service.allowed_states:
        reasons.append(
            _("This review is offered to families living in %(states)s.")
            % {"states": _listing(service.allowed_states)}
        )
    zip_code = answers.zip_code.strip()
    if any(zip_code.startswith(prefix) for prefix in service.excluded_zip_prefixes):
        reasons.append(
            _(
                "This review is not offered in your area, where families can see our "
                "specialists in person."
            )
        )
    if service.max_patient_age is not None and answers.patient_age > service.max_patient_age:
        reasons.append(
            _("This review is for patients under %(age)s.") % {"age": service.max_patient_age + 1}
        )
    return EligibilityResult(eligible=not reasons, reasons=reasons)


def _listing(states: list[str]) -> str:
    names = [str(US_STATES.get(state, state)) for state in states]
    return ", ".join(names[:-1]) + (_(" or ") if len(names) > 1 else "") + names[-1]
