"""The family's path as a new parent found it (issue 17): the paid reviews easy to find on the
front page, "continue" opening the first unfinished step, signing in or creating an account
from an eligibility result going straight into the request, and the wording of the pages and
e-mails ("imaging (X-ray, MRI, CT)"; the calls' wording and time zones are in
tests/scheduling/test_wording.py). Upload status: tests/records/test_upload_status.py; in the
browser: tests/browser/test_family_path.py."""

import re

import pytest
from django.urls import reverse

from accounts.models import User
from accounts.tokens import email_verification_token
from intake.models import Guardian, ReviewRequest
from tests.conftest import sign_in
from tests.factories import PASSWORD, DepartmentFactory, ReviewServiceFactory, review_request
from tests.intake.test_wizard import CHILD, ELIGIBLE, GUARDIAN, sign_consent, step

pytestmark = pytest.mark.django_db


# --- The front page -------------------------------------------------------------------------


def test_the_front_page_gives_the_paid_reviews_their_own_section_before_the_calls(client):
    orthopedics = DepartmentFactory(name="Orthopedics", slug="orthopedics")
    DepartmentFactory(name="Cardiology", slug="cardiology")
    spine = ReviewServiceFactory(
        department=orthopedics,
        name="Spine document review",
        slug="spine",
        fee_cents=50000,
        readers="three spine program leaders",
    )
    ReviewServiceFactory(
        department=orthopedics, name="Hip document review", slug="hip", fee_cents=16700
    )

    page = client.get(reverse("intake:catalogue")).content.decode()

    reviews = page.index('<h2 class="h3" id="reviews-title">Written reviews of your child')
    calls = page.index('id="calls-title">Free informational calls</h2>')
    first_call_card = page.index('id="dept-cardiology"')
    assert reviews < calls < first_call_card
    section = page[reviews:calls]
    assert "our specialists read them and write an opinion" in section
    for text in (
        "Spine document review",
        "Flat fee of $500",
        "Read by three spine program leaders.",
        "within 7–10 days",
        "Hip document review",
        "Flat fee of $167",
    ):
        assert text in section
    check = reverse("intake:service_detail", args=[spine.slug])
    assert re.search(rf'href="{check}">Check if it is for your child', section)


def test_the_front_page_without_reviews_shows_only_the_calls(client):
    DepartmentFactory(name="Cardiology")

    page = client.get(reverse("intake:catalogue")).content.decode()

    assert "reviews-title" not in page
    assert "Free informational calls" in page


# --- "imaging (X-ray, MRI, CT)" everywhere ---------------------------------------------------


def test_imaging_is_written_x_ray_mri_ct_in_every_sentence(client, family, published_service):
    draft = review_request(family=family, service=published_service)
    sign_in(client, family)

    pages = [
        client.get(reverse("intake:catalogue")).content.decode(),
        client.get(reverse("intake:service_detail", args=[published_service.slug])).content,
        client.get(reverse("records:wizard_documents", args=[draft.reference])).content,
        client.get(reverse("intake:wizard_review", args=[draft.reference])).content,
    ]

    pages = [page if isinstance(page, str) else page.decode() for page in pages]
    for page in pages:
        assert "imaging (X-ray, MRI, CT)" in page
        assert "(x-ray, mri, ct)" not in page
    assert (
        "Still needed here: at least one file: medical records; "
        "at least one file: imaging (X-ray, MRI, CT)."
    ) in pages[2]


def test_the_size_refusal_writes_imaging_as_a_sentence_does(family, family_draft, settings):
    from records.filetypes import Rejected
    from records.services import document_upload
    from tests import samples

    settings.RECORDS_MAX_IMAGING_BYTES = 1024 * 1024

    with pytest.raises(Rejected) as refused:
        document_upload(
            review_request=family_draft,
            kind="imaging",
            upload=samples.upload(b"0" * (3 * 1024 * 1024), "big.dcm"),
            actor=family,
            ip_address="",
        )

    assert "imaging (X-ray, MRI, CT) files can be up to 1 MB" in str(refused.value)


def test_in_spanish_imaging_reads_as_a_spanish_sentence(client, published_service, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"

    page = client.get(reverse("intake:service_detail", args=[published_service.slug])).content

    assert "imágenes (radiografía, resonancia magnética, tomografía)" in page.decode()


# --- "Not sent yet: continue" -------------------------------------------------------------------


def test_continue_on_my_requests_opens_the_first_unfinished_step(client, family, family_draft):
    sign_in(client, family)
    step(client, "intake:wizard_guardian", family_draft.reference, GUARDIAN)
    step(client, "intake:wizard_child", family_draft.reference, CHILD)
    resume = reverse("intake:wizard_resume", args=[family_draft.reference])

    listing = client.get(reverse("intake:my_requests")).content.decode()
    response = client.get(resume)

    assert f'href="{resume}"' in listing
    assert response["Location"] == reverse(
        "intake:wizard_questionnaire", args=[family_draft.reference]
    )


def test_continue_skips_finished_steps_to_the_first_with_something_missing(
    client, family, family_draft
):
    sign_in(client, family)
    step(client, "intake:wizard_guardian", family_draft.reference, GUARDIAN)
    step(client, "intake:wizard_child", family_draft.reference, CHILD)
    step(client, "intake:wizard_questionnaire", family_draft.reference, {"back_pain": "no"})
    sign_consent(client, family_draft.reference)

    response = client.get(reverse("intake:wizard_resume", args=[family_draft.reference]))

    assert response["Location"] == reverse("records:wizard_referral", args=[family_draft.reference])


def test_continue_opens_the_review_page_once_nothing_is_missing(client, family, family_draft):
    from tests.intake.test_wizard import fill_everything

    sign_in(client, family)
    fill_everything(client, family_draft)

    response = client.get(reverse("intake:wizard_resume", args=[family_draft.reference]))

    assert response["Location"] == reverse("intake:wizard_review", args=[family_draft.reference])


def test_continue_on_a_new_draft_opens_its_first_step(client, family, family_draft):
    sign_in(client, family)

    response = client.get(reverse("intake:wizard_resume", args=[family_draft.reference]))

    assert response["Location"] == reverse("intake:wizard_guardian", args=[family_draft.reference])


# --- Signing in or creating an account from an eligibility result --------------------------------


def checked(client, service):
    return client.post(reverse("intake:service_detail", args=[service.slug]), ELIGIBLE)


def continue_url(service):
    return reverse("intake:start_continue", args=[service.slug])


def test_the_eligibility_result_links_sign_in_and_sign_up_to_the_request(client, published_service):
    checked(client, published_service)

    page = client.get(reverse("intake:service_detail", args=[published_service.slug])).content

    quoted = continue_url(published_service).replace("/", "%2F")
    assert f"/accounts/sign-in/?next={quoted}" in page.decode()
    assert f"/accounts/sign-up/?next={quoted}" in page.decode()


def test_signing_in_from_the_result_goes_straight_into_the_request_with_the_answers(
    client, family, published_service
):
    checked(client, published_service)

    response = client.post(
        reverse("accounts:login"),
        {"username": family.email, "password": PASSWORD, "next": continue_url(published_service)},
        follow=True,
    )

    draft = ReviewRequest.objects.get()
    first_step = reverse("intake:wizard_guardian", args=[draft.reference])
    assert response.redirect_chain[-1][0] == first_step
    assert (draft.family, draft.eligibility["zip_code"], draft.eligibility["eligible"]) == (
        family,
        "31401",
        True,
    )
    guardian = Guardian.objects.get(request=draft)
    assert (guardian.state, guardian.zip_code) == ("GA", "31401")
    page = response.content.decode()
    assert "Your request is started, with the answers you gave." in page
    assert 'value="31401"' in page


def test_creating_an_account_from_the_result_goes_into_the_request_after_confirming(
    client, published_service
):
    checked(client, published_service)
    sign_up = client.get(reverse("accounts:sign_up") + f"?next={continue_url(published_service)}")
    client.post(
        reverse("accounts:sign_up"),
        {
            "full_name": "Jordan Rivera",
            "email": "new.parent@example.org",
            "password": "a-long-and-unusual-passphrase-2026",
            "next": continue_url(published_service),
        },
    )
    user = User.objects.get(email="new.parent@example.org")
    check_email = client.get(reverse("accounts:check_email")).content.decode()

    confirmed = client.get(reverse("accounts:verify_email", args=[email_verification_token(user)]))
    login_page = client.get(confirmed["Location"])
    response = client.post(
        confirmed["Location"],
        {
            "username": user.email,
            "password": "a-long-and-unusual-passphrase-2026",
            "next": login_page.context["next"],
        },
        follow=True,
    )

    assert 'name="next"' in sign_up.content.decode()
    assert "your request starts with the answers you gave" in check_email
    draft = ReviewRequest.objects.get()
    assert draft.family == user
    first_step = reverse("intake:wizard_guardian", args=[draft.reference])
    assert response.redirect_chain[-1][0] == first_step


def test_signing_in_any_other_way_starts_nothing(client, family, published_service):
    checked(client, published_service)

    client.post(reverse("accounts:login"), {"username": family.email, "password": PASSWORD})

    assert not ReviewRequest.objects.exists()
    banner = client.get(reverse("intake:my_requests")).content.decode()
    assert "Start my request" in banner  # the answers wait, as before


def test_opening_the_continue_page_again_starts_nothing_more(client, family, published_service):
    checked(client, published_service)
    client.post(
        reverse("accounts:login"),
        {"username": family.email, "password": PASSWORD, "next": continue_url(published_service)},
    )
    client.get(continue_url(published_service))

    again = client.get(continue_url(published_service))

    assert again["Location"] == reverse("intake:service_detail", args=[published_service.slug])
    assert ReviewRequest.objects.count() == 1


@pytest.mark.parametrize("target", ["//[", "/nowhere/", "https://elsewhere.example.org/", "x"])
def test_a_sign_in_with_an_odd_next_signs_in_and_starts_nothing(
    client, family, published_service, target
):
    checked(client, published_service)

    response = client.post(
        reverse("accounts:login"), {"username": family.email, "password": PASSWORD, "next": target}
    )

    assert response.status_code == 302
    assert not ReviewRequest.objects.exists()
