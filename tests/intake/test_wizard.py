import pytest
from django.urls import reverse

from intake.lifecycle import Status
from intake.models import ConsentSignature, Guardian, ReviewRequest
from notifications.models import Message
from tests.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

ELIGIBLE = {"state": "GA", "zip_code": "31401", "patient_age": "12", "hospitalized": "no"}
GUARDIAN = {
    "legal_name": "Jordan Avery Rivera",
    "relationship": "mother",
    "has_legal_authority": "on",
    "phone": "(912) 555-0143",
    "email": "parent@example.org",
    "address_line1": "12 Oak St",
    "city": "Savannah",
    "state": "GA",
    "zip_code": "31401",
}
CHILD = {
    "first_name": "Sam",
    "last_name": "Rivera",
    "date_of_birth": "2014-05-30",
    "sex": "female",
    "prior_diagnosis": "Adolescent idiopathic scoliosis, 32 degrees",
    "current_treatment": "Brace",
    "questions": "Is surgery needed now?",
}


def step(client, name, reference, data=None, go="next"):
    url = reverse(name, args=[reference])
    return client.post(url, {**(data or {}), "go": go}) if data is not None else client.get(url)


# --- Choose and check -----------------------------------------------------------------------


def test_the_service_page_says_what_it_is_what_it_costs_and_what_to_send(client, published_service):
    page = client.get(
        reverse("intake:service_detail", args=[published_service.slug])
    ).content.decode()

    for text in (
        "Read by three program leaders.",
        "Flat fee of $500",
        "insurance does not cover it",
        "7–10 days",
        "referral from the pediatrician",
        "Is this review for your child?",
    ):
        assert text in page


def test_an_eligible_family_is_offered_to_start_before_any_account(client, published_service):
    url = reverse("intake:service_detail", args=[published_service.slug])

    response = client.post(url, ELIGIBLE, follow=True)

    page = response.content.decode()
    assert "You can ask for this review" in page
    assert reverse("accounts:sign_up") in page
    assert not ReviewRequest.objects.exists()


@pytest.mark.parametrize(
    ("answers", "explanation"),
    [
        ({"state": "FL"}, "offered to families living in Georgia"),
        ({"zip_code": "30303"}, "not offered in your area"),
        ({"patient_age": "22"}, "for patients under 21"),
    ],
)
def test_an_ineligible_family_is_told_why_and_offered_a_free_call(
    client, published_service, answers, explanation
):
    response = client.post(
        reverse("intake:service_detail", args=[published_service.slug]), {**ELIGIBLE, **answers}
    )

    page = response.content.decode()
    assert explanation in page
    assert "free informational call" in page
    assert published_service.department.phone in page
    assert f"eligibility:{published_service.pk}" not in client.session


def test_a_child_in_hospital_now_is_sent_to_the_department_phone(client, published_service):
    response = client.post(
        reverse("intake:service_detail", args=[published_service.slug]),
        {**ELIGIBLE, "hospitalized": "yes"},
    )

    page = response.content.decode()
    assert "in the hospital now, please call" in page
    assert "Start my request" not in page


def test_bad_answers_are_explained_and_kept(client, published_service):
    response = client.post(
        reverse("intake:service_detail", args=[published_service.slug]),
        {**ELIGIBLE, "zip_code": "3140", "patient_age": "-2"},
    )

    page = response.content.decode()
    assert "Enter a 5-digit ZIP code, such as 31401." in page
    assert "Enter your child&#x27;s age in whole years" in page
    assert 'value="3140"' in page


def test_after_signing_in_the_family_starts_and_the_first_step_is_pre_filled(
    client, family, published_service
):
    client.post(reverse("intake:service_detail", args=[published_service.slug]), ELIGIBLE)
    client.post(reverse("accounts:login"), {"username": family.email, "password": PASSWORD})
    banner = client.get(reverse("intake:my_requests")).content.decode()

    response = client.post(reverse("intake:start", args=[published_service.slug]))

    assert "Start my request" in banner
    draft = ReviewRequest.objects.get()
    assert response["Location"] == reverse("intake:wizard_guardian", args=[draft.reference])
    assert (draft.status, draft.family) == (Status.DRAFT, family)
    assert draft.eligibility["state"] == "GA"
    assert draft.eligibility["eligible"] is True
    guardian = Guardian.objects.get(request=draft)
    assert (guardian.email, guardian.state, guardian.zip_code) == (family.email, "GA", "31401")


def test_starting_without_the_check_sends_the_family_back_to_it(client, family, published_service):
    sign_in(client, family)

    response = client.post(reverse("intake:start", args=[published_service.slug]))

    assert response["Location"] == reverse("intake:service_detail", args=[published_service.slug])
    assert not ReviewRequest.objects.exists()


# --- The wizard -----------------------------------------------------------------------------


@pytest.fixture
def family_client(client, family):
    return sign_in(client, family)


def test_a_step_is_saved_and_continue_leads_to_the_next(family_client, family_draft):
    response = step(family_client, "intake:wizard_guardian", family_draft.reference, GUARDIAN)

    assert response["Location"] == reverse("intake:wizard_child", args=[family_draft.reference])
    guardian = Guardian.objects.get(request=family_draft)
    assert guardian.legal_name == "Jordan Avery Rivera"
    assert guardian.phone == "+19125550143"
    assert guardian.missing == []


def test_back_also_saves_and_a_half_done_step_is_kept_with_what_is_missing(
    family_client, family_draft
):
    response = step(
        family_client,
        "intake:wizard_child",
        family_draft.reference,
        {"first_name": "Sam"},
        go="back",
    )

    assert response["Location"] == reverse("intake:wizard_guardian", args=[family_draft.reference])
    page = step(family_client, "intake:wizard_child", family_draft.reference).content.decode()
    assert 'value="Sam"' in page
    assert "Still needed here: last name; date of birth" in page


def test_a_badly_typed_step_is_explained_keeps_every_value_and_saves_nothing(
    family_client, family_draft
):
    step(family_client, "intake:wizard_guardian", family_draft.reference, GUARDIAN)
    before = Guardian.objects.values().get(request=family_draft)

    response = step(
        family_client,
        "intake:wizard_guardian",
        family_draft.reference,
        {**GUARDIAN, "phone": "12345", "email": "jordan@", "zip_code": "ABCDE"},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Enter a valid phone number" in page
    assert "Enter a valid email address." in page
    assert "Enter a 5-digit ZIP code" in page
    assert 'value="Jordan Avery Rivera"' in page
    assert 'value="12345"' in page
    assert Guardian.objects.values().get(request=family_draft) == before


def test_a_date_of_birth_in_the_future_is_refused(family_client, family_draft):
    response = step(
        family_client,
        "intake:wizard_child",
        family_draft.reference,
        {**CHILD, "date_of_birth": "2099-01-01"},
    )

    assert "cannot be in the future" in response.content.decode()


def test_the_family_resumes_on_another_device_where_it_left_off(client, family, family_draft):
    sign_in(client, family)
    step(client, "intake:wizard_child", family_draft.reference, CHILD)

    phone = type(client)()
    sign_in(phone, family)
    page = step(phone, "intake:wizard_child", family_draft.reference).content.decode()

    assert 'value="Sam"' in page
    assert "Is surgery needed now?" in page


def test_the_questionnaire_is_the_services_and_its_answers_are_kept(family_client, family_draft):
    page = step(
        family_client, "intake:wizard_questionnaire", family_draft.reference
    ).content.decode()

    step(
        family_client,
        "intake:wizard_questionnaire",
        family_draft.reference,
        {"back_pain": "yes", "other": ""},
    )

    assert "Does your child have back pain?" in page
    assert "Anything else? (optional)" in page
    assert family_draft.questionnaire_answers.answers == {"back_pain": "yes"}
    assert family_draft.questionnaire_answers.completed_at is not None


def test_an_answer_not_on_offer_is_refused(family_client, family_draft):
    response = step(
        family_client, "intake:wizard_questionnaire", family_draft.reference, {"back_pain": "maybe"}
    )

    assert "Select a valid choice" in response.content.decode()


def sign_consent(client, reference, name="Jordan Avery Rivera", agree="on"):
    data = {"typed_name": name}
    if agree:
        data["agree"] = agree
    return step(client, "intake:wizard_consent", reference, data)


def test_the_consent_is_signed_by_typing_the_legal_name(family_client, family, family_draft):
    step(family_client, "intake:wizard_guardian", family_draft.reference, GUARDIAN)

    response = sign_consent(family_client, family_draft.reference, name="  jordan avery   RIVERA ")

    assert response.status_code == 302
    signature = ConsentSignature.objects.get(request=family_draft)
    assert signature.signed_name == "jordan avery RIVERA"
    assert signature.consent_text.version == 1
    assert (signature.signed_by, signature.fee_cents, signature.currency) == (family, 50000, "usd")
    assert signature.ip_address == "127.0.0.1"


def test_a_name_that_does_not_match_is_refused_with_the_name_expected(family_client, family_draft):
    step(family_client, "intake:wizard_guardian", family_draft.reference, GUARDIAN)

    response = sign_consent(family_client, family_draft.reference, name="Jordan Rivera")

    assert (
        "Type your full legal name exactly as given: Jordan Avery Rivera."
        in response.content.decode()
    )
    assert not ConsentSignature.objects.exists()


def test_the_consent_needs_the_box_ticked(family_client, family_draft):
    step(family_client, "intake:wizard_guardian", family_draft.reference, GUARDIAN)

    response = sign_consent(family_client, family_draft.reference, agree=None)

    assert "Tick the box to say you agree." in response.content.decode()
    assert not ConsentSignature.objects.exists()


@pytest.mark.parametrize(
    ("go", "lands_on"),
    [
        ("back", "intake:wizard_questionnaire"),
        ("step:referral", "records:wizard_referral"),
        ("next", "records:wizard_referral"),
    ],
)
def test_the_consent_step_can_be_left_unsigned_when_nothing_was_typed(
    family_client, family_draft, go, lands_on
):
    response = step(
        family_client, "intake:wizard_consent", family_draft.reference, {"typed_name": " "}, go=go
    )

    assert response.status_code == 302
    assert response.url == reverse(lands_on, args=[family_draft.reference])
    assert not ConsentSignature.objects.exists()


def test_a_half_done_signature_is_said_not_dropped_and_save_asks_for_it(
    family_client, family_draft
):
    half = step(
        family_client,
        "intake:wizard_consent",
        family_draft.reference,
        {"typed_name": "Jordan Avery Rivera"},
        go="back",
    )
    empty_save = step(family_client, "intake:wizard_consent", family_draft.reference, {}, go="stay")

    assert half.status_code == 200
    assert "Tick the box to say you agree." in half.content.decode()
    assert 'value="Jordan Avery Rivera"' in half.content.decode()
    assert "This field is required." in empty_save.content.decode()
    assert not ConsentSignature.objects.exists()


def test_only_a_guardian_with_legal_authority_can_sign(family_client, family_draft):
    step(
        family_client,
        "intake:wizard_guardian",
        family_draft.reference,
        {key: value for key, value in GUARDIAN.items() if key != "has_legal_authority"},
    )

    response = sign_consent(family_client, family_draft.reference)

    assert "confirm your legal authority" in response.content.decode()
    assert not ConsentSignature.objects.exists()


def test_a_signed_consent_and_the_name_on_it_do_not_change(family_client, family_draft):
    step(family_client, "intake:wizard_guardian", family_draft.reference, GUARDIAN)
    sign_consent(family_client, family_draft.reference)
    signature = ConsentSignature.objects.values().get()

    renamed = step(
        family_client,
        "intake:wizard_guardian",
        family_draft.reference,
        {**GUARDIAN, "legal_name": "Someone Else"},
    )
    again = sign_consent(family_client, family_draft.reference, name="Jordan Avery Rivera")
    page = step(family_client, "intake:wizard_consent", family_draft.reference).content.decode()

    assert "cannot change now" in renamed.content.decode()
    assert again.status_code == 302  # the signed page only moves on
    assert ConsentSignature.objects.values().get() == signature
    assert "Signed by <strong>Jordan Avery Rivera</strong>" in page


def test_a_coordinator_can_never_sign_for_the_family(coordinator, family, family_draft):
    from django.core.exceptions import ValidationError

    from intake.services import consent_sign, guardian_save

    guardian_save(
        review_request=family_draft,
        fields={"legal_name": "Jordan Avery Rivera", "has_legal_authority": True},
    )

    with pytest.raises(ValidationError, match="Only the child's parent or guardian"):
        consent_sign(
            review_request=family_draft,
            typed_name="Jordan Avery Rivera",
            actor=coordinator,
            ip_address="",
            user_agent="",
        )


def test_the_pediatricians_details_are_saved_with_numbers_normalised(family_client, family_draft):
    step(
        family_client,
        "records:wizard_referral",
        family_draft.reference,
        {
            "name": "Dr. Lee",
            "practice": "Savannah Pediatrics",
            "phone": "912-555-0100",
            "fax": "912 555 0101",
            "share_opinion": "on",
        },
    )

    pediatrician = family_draft.referring_pediatrician
    assert (pediatrician.phone, pediatrician.fax, pediatrician.share_opinion) == (
        "+19125550100",
        "+19125550101",
        True,
    )


# --- Review and send ------------------------------------------------------------------------


def test_sending_an_incomplete_request_is_refused_and_says_exactly_what_is_missing(
    family_client, family_draft
):
    step(family_client, "intake:wizard_guardian", family_draft.reference, GUARDIAN)

    response = family_client.post(reverse("intake:wizard_review", args=[family_draft.reference]))

    page = response.content.decode()
    assert response.status_code == 400
    assert "Your request cannot be sent yet." in page
    for missing in (
        "Your child&#x27;s details",
        "Medical-history questionnaire",
        "Financial consent signed",
        "Referring pediatrician",
        "Referral from the pediatrician",
        "Imaging (X-ray, MRI, CT)",
    ):
        assert missing in page
    family_draft.refresh_from_db()
    assert family_draft.status == Status.DRAFT


def fill_everything(client, draft):
    from records.services import document_process
    from tests import samples

    step(client, "intake:wizard_guardian", draft.reference, GUARDIAN)
    step(client, "intake:wizard_child", draft.reference, CHILD)
    step(client, "intake:wizard_questionnaire", draft.reference, {"back_pain": "no"})
    sign_consent(client, draft.reference)
    step(
        client,
        "records:wizard_referral",
        draft.reference,
        {"name": "Dr. Lee", "practice": "Savannah Pediatrics", "phone": "912-555-0100"},
    )
    for kind, content, name in (
        ("referral", samples.pdf(), "referral.pdf"),
        ("record", samples.image("JPEG"), "notes.jpg"),
        ("imaging", samples.dicom(), "IM0001.dcm"),
    ):
        client.post(
            reverse("records:upload", args=[draft.reference]),
            {"kind": kind, "file": samples.upload(content, name)},
            HTTP_ACCEPT="application/json",
        )
    for document in draft.documents.all():  # as the worker does: thumbnails on the pages
        document_process(document_id=document.pk)


def test_a_complete_request_is_sent_and_waits_for_the_fee(family_client, family, family_draft):
    fill_everything(family_client, family_draft)

    review = family_client.get(reverse("intake:wizard_review", args=[family_draft.reference]))
    response = family_client.post(reverse("intake:wizard_review", args=[family_draft.reference]))

    summary = review.content.decode()
    assert "✗" not in summary
    for entered in (
        "Jordan Avery Rivera",
        "Is surgery needed now?",
        "Does your child have back pain?",
        "Savannah Pediatrics",
        "Signed by Jordan Avery Rivera",
        "/files/previews/",
    ):
        assert entered in summary
    assert response["Location"] == reverse("intake:request_detail", args=[family_draft.reference])
    family_draft.refresh_from_db()
    assert family_draft.status == Status.AWAITING_PAYMENT
    assert family_draft.events.latest("pk").actor == family
    status_page = family_client.get(response["Location"]).content.decode()
    assert "The flat fee of <strong>$500</strong> is due next" in status_page
    assert "Our coordinator will call you to take the fee" in status_page
    assert "IM0001.dcm" in status_page


def test_a_sent_request_can_no_longer_be_edited(family_client, family_draft):
    fill_everything(family_client, family_draft)
    family_client.post(reverse("intake:wizard_review", args=[family_draft.reference]))

    response = step(
        family_client,
        "intake:wizard_child",
        family_draft.reference,
        {**CHILD, "first_name": "Changed"},
    )

    assert response["Location"] == reverse("intake:request_detail", args=[family_draft.reference])
    assert family_draft.child.first_name == "Sam"


def test_an_address_outside_the_area_blocks_sending_with_the_reason(family_client, family_draft):
    fill_everything(family_client, family_draft)
    step(
        family_client,
        "intake:wizard_guardian",
        family_draft.reference,
        {**GUARDIAN, "zip_code": "30303"},
    )

    response = family_client.post(reverse("intake:wizard_review", args=[family_draft.reference]))

    assert "not offered in your area" in response.content.decode()
    family_draft.refresh_from_db()
    assert family_draft.status == Status.DRAFT


def test_the_review_page_costs_the_same_queries_with_more_files(
    family_client, family_draft, django_assert_max_num_queries
):
    from tests import samples

    fill_everything(family_client, family_draft)
    url = reverse("intake:wizard_review", args=[family_draft.reference])
    with django_assert_max_num_queries(60) as few:
        family_client.get(url)
    baseline = len(few.captured_queries)  # read now: every request resets Django's query log
    for n in range(8):
        family_client.post(
            reverse("records:upload", args=[family_draft.reference]),
            {"kind": "record", "file": samples.upload(samples.pdf(), f"r{n}.pdf")},
            HTTP_ACCEPT="application/json",
        )

    with django_assert_max_num_queries(baseline):
        family_client.get(url)


# --- After sending ----------------------------------------------------------------------------


def test_the_family_answers_a_request_for_information_and_the_clock_resumes(
    client, family, coordinator
):
    from intake.services import review_request_transition
    from tests.factories import review_request

    request = review_request(family=family, status=Status.SUBMITTED)
    review_request_transition(
        review_request=request,
        to_status=Status.NEEDS_INFO,
        actor=coordinator,
        note="Please send the MRI report from March.",
    )
    sign_in(client, family)
    page = client.get(reverse("intake:request_detail", args=[request.reference])).content.decode()

    response = client.post(
        reverse("intake:request_answer", args=[request.reference]),
        {"text": "Added the MRI report above."},
    )

    assert "Please send the MRI report from March." in page
    assert "Answer the team" in page
    assert response["Location"] == reverse("intake:request_detail", args=[request.reference])
    request.refresh_from_db()
    assert request.status == Status.SUBMITTED
    event = request.events.latest("pk")
    assert (event.actor, event.note) == (family, "Added the MRI report above.")


def test_an_empty_answer_is_refused_and_nothing_moves(client, family, coordinator):
    from intake.services import review_request_transition
    from tests.factories import review_request

    request = review_request(family=family, status=Status.SUBMITTED)
    review_request_transition(
        review_request=request, to_status=Status.NEEDS_INFO, actor=coordinator, note="X"
    )
    sign_in(client, family)

    response = client.post(
        reverse("intake:request_answer", args=[request.reference]), {"text": " "}
    )

    assert response.status_code == 400
    request.refresh_from_db()
    assert request.status == Status.NEEDS_INFO


@pytest.mark.parametrize(
    ("target", "notified"),
    [
        (Status.IN_REVIEW, True),
        (Status.NEEDS_INFO, True),
        (Status.CANCELLED, True),
    ],
)
def test_the_family_is_e_mailed_about_the_change_without_any_details(
    family, coordinator, target, notified
):
    from intake.services import review_request_transition
    from tests.factories import review_request

    request = review_request(family=family, status=Status.SUBMITTED)
    Message.objects.all().delete()

    review_request_transition(
        review_request=request,
        to_status=target,
        actor=coordinator,
        note="Please send the MRI report of the lumbar spine.",
    )

    message = Message.objects.get()
    assert message.to == family.email
    assert request.reference in message.subject
    assert f"http://testserver/requests/{request.reference}/" in message.body
    assert "MRI" not in message.body
    assert "lumbar" not in message.body


@pytest.mark.parametrize("status", [s for s in Status if s != Status.NEEDS_INFO])
def test_an_answer_moves_nothing_unless_the_team_asked(client, family, status):
    from tests.factories import review_request

    request = review_request(family=family, status=status)
    before = request.status
    sign_in(client, family)

    client.post(
        reverse("intake:request_answer", args=[request.reference]), {"text": "Paid, honestly."}
    )

    request.refresh_from_db()
    assert request.status == before
    assert request.submitted_at is None or status != Status.AWAITING_PAYMENT


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("anonymous", 302),
        ("family", 302),
        ("other_family", 404),
        ("coordinator", 404),
        ("admin_user", 404),
        ("assigned_reviewer", 404),
        ("unassigned_reviewer", 404),
    ],
)
def test_only_the_family_answers_the_team(request, client, family, coordinator, persona, expected):
    from intake.services import review_request_transition
    from tests.factories import review_request

    target = review_request(family=family, status=Status.SUBMITTED)
    review_request_transition(
        review_request=target, to_status=Status.NEEDS_INFO, actor=coordinator, note="X"
    )
    sign_in(client, request.getfixturevalue(persona))

    response = client.post(
        reverse("intake:request_answer", args=[target.reference]), {"text": "Here."}
    )

    target.refresh_from_db()
    assert response.status_code == expected
    assert target.status == (Status.SUBMITTED if persona == "family" else Status.NEEDS_INFO)


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("anonymous", 302),
        ("family", 302),
        ("other_family", 302),
        ("coordinator", 404),
        ("admin_user", 404),
        ("assigned_reviewer", 404),
        ("unassigned_reviewer", 404),
    ],
)
def test_only_a_family_starts_a_request(request, client, published_service, persona, expected):
    client.post(reverse("intake:service_detail", args=[published_service.slug]), ELIGIBLE)
    sign_in(client, request.getfixturevalue(persona))

    response = client.post(reverse("intake:start", args=[published_service.slug]))

    assert response.status_code == expected
    assert ReviewRequest.objects.count() == (1 if persona in {"family", "other_family"} else 0)


def test_the_family_sees_when_the_coordinator_confirms_receipt(
    client, family, family_draft, coordinator
):
    from intake.services import review_request_transition

    sign_in(client, family)
    fill_everything(client, family_draft)
    client.post(reverse("intake:wizard_review", args=[family_draft.reference]))
    review_request_transition(
        review_request=family_draft, to_status=Status.SUBMITTED, actor=None, note="Paid by phone."
    )  # billing's hand-off, driven here by the test
    staff = type(client)()
    sign_in(staff, coordinator)
    Message.objects.all().delete()

    staff.post(
        reverse("admin:intake_reviewrequest_changelist"),
        {"action": "start_review", "_selected_action": [family_draft.pk]},
    )

    page = client.get(
        reverse("intake:request_detail", args=[family_draft.reference])
    ).content.decode()
    assert "The team confirmed it has received your records; the review has started." in page
    assert "Your written opinion is due by" in page
    mail = Message.objects.get()
    assert (mail.to, mail.template) == (family.email, "request_update")
    assert "Sam" not in mail.body


def test_a_child_too_old_for_the_review_is_said_on_the_childs_step_once(
    family_client, family_draft
):
    step(family_client, "intake:wizard_guardian", family_draft.reference, GUARDIAN)
    step(
        family_client,
        "intake:wizard_child",
        family_draft.reference,
        {**CHILD, "date_of_birth": "2000-01-01"},
    )

    child_page = step(family_client, "intake:wizard_child", family_draft.reference)
    guardian_page = step(family_client, "intake:wizard_guardian", family_draft.reference)

    assert "Still needed here: This review is for patients under 21." in child_page.content.decode()
    assert "under 21.." not in child_page.content.decode()
    assert "patients under 21" not in guardian_page.content.decode()


def test_a_state_outside_the_review_is_said_on_the_guardians_step(family_client, family_draft):
    step(
        family_client, "intake:wizard_guardian", family_draft.reference, {**GUARDIAN, "state": "TX"}
    )
    step(family_client, "intake:wizard_child", family_draft.reference, CHILD)

    guardian_page = step(family_client, "intake:wizard_guardian", family_draft.reference)

    assert "This review is offered to families living in" in guardian_page.content.decode()


def test_saved_phone_numbers_read_as_the_parent_wrote_them(family_client, family_draft):
    step(family_client, "intake:wizard_guardian", family_draft.reference, GUARDIAN)

    guardian_step = step(family_client, "intake:wizard_guardian", family_draft.reference)
    review = step(family_client, "intake:wizard_review", family_draft.reference)

    assert 'value="(912) 555-0143"' in guardian_step.content.decode()
    assert "(912) 555-0143" in review.content.decode()
    assert "+19125550143" not in review.content.decode()
