"""The lead's final opinion: opened once every member has submitted, drafted, signed under the
lead's own name with the members' dissent where one disagrees, stored as a PDF document, and
all or nothing when a step of the signing fails."""

import hashlib
import io

import pypdfium2
import pytest
from django.urls import reverse

from intake.lifecycle import Status
from records.models import Document
from reviews import services
from reviews.models import FinalOpinion
from tests.conftest import sign_in
from tests.reviews.panel_setup import FINAL, OPINION, sign, submit_opinions

pytestmark = pytest.mark.django_db

DISSENT = "Dr. Kim would operate now rather than brace."


def final_page(request):
    return reverse("reviews:final", args=[request.reference])


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def signing(lead, **changes) -> dict:
    """The final opinion page's form, signed by ``lead`` (changed by ``changes``)."""
    return {**FINAL, "signed_name": lead.full_name, "sign": "", **changes}


def pdf_text(data: bytes) -> str:
    document = pypdfium2.PdfDocument(io.BytesIO(data))
    try:
        text = " ".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()
    return " ".join(text.split())


def stored_files(tmp_path) -> list[str]:
    """Every file in this test's storage folder (the ``private_storage`` fixture)."""
    root = tmp_path / "files"
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


# --- Who writes it, and when -----------------------------------------------------------------


def test_only_the_lead_reaches_the_final_opinion(submitted, client):
    request, (_, second, _) = submitted
    sign_in(client, second)

    page = client.get(final_page(request))
    post = client.post(final_page(request), signing(second))

    assert (page.status_code, post.status_code) == (404, 404)
    assert not FinalOpinion.objects.exists()


def test_the_final_opinion_waits_until_every_member_has_submitted(panel, client):
    request, (lead, second, _) = panel
    submit_opinions(request, [lead, second])
    sign_in(client, lead)

    page = client.get(final_page(request))
    post = client.post(final_page(request), {**FINAL, "save": ""}, follow=True)

    assert page.status_code == 200
    assert "opens when every member of the panel has submitted" in page.content.decode()
    assert 'name="sign"' not in page.content.decode()
    assert (
        "The panel must be complete and every member must submit an opinion first."
        in messages_of(post)
    )
    assert not FinalOpinion.objects.exists()


def test_the_lead_reads_every_members_opinion_on_the_final_page(submitted, client):
    request, (lead, second, third) = submitted
    sign_in(client, lead)

    response = client.get(final_page(request))

    assert response.status_code == 200
    page = response.content.decode()
    for reviewer in (lead, second, third):
        assert reviewer.full_name in page
    assert page.count(OPINION["findings"]) == 3


def test_the_lead_saves_a_draft_and_finds_it_again(submitted, client):
    request, (lead, _, _) = submitted
    sign_in(client, lead)

    response = client.post(
        final_page(request), {"conclusion": "agree", "family_summary": "Still writing.", "save": ""}
    )

    assert response.status_code == 302
    final = FinalOpinion.objects.get()
    assert (final.lead, final.conclusion, final.family_summary) == (lead, "agree", "Still writing.")
    assert final.signed_at is None
    page = client.get(final_page(request))
    assert page.context["form"]["family_summary"].value() == "Still writing."
    request.refresh_from_db()
    assert request.status == Status.IN_REVIEW


# --- Signing ------------------------------------------------------------------------------------


def test_signing_needs_every_part_of_the_letter_and_keeps_the_draft(submitted, client):
    request, (lead, _, _) = submitted
    sign_in(client, lead)

    response = client.post(
        final_page(request),
        {"recommendations": "Continue bracing.", "signed_name": "", "sign": ""},
    )

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["conclusion"] == ["Required to sign: conclusion."]
    assert errors["answers"] == ["Required to sign: answers to the family's questions."]
    assert errors["family_summary"] == ["Required to sign: summary for the family."]
    assert errors["signed_name"] == ["Required to sign: your name as signed."]
    assert "recommendations" not in errors
    final = FinalOpinion.objects.get()
    assert (final.recommendations, final.signed_at) == ("Continue bracing.", None)
    assert not Document.objects.exists()


def test_the_letter_is_signed_only_with_the_leads_own_full_name(submitted, client):
    request, (lead, second, _) = submitted
    sign_in(client, lead)

    response = client.post(final_page(request), signing(lead, signed_name=second.full_name))

    assert response.status_code == 400
    assert response.context["form"].errors["signed_name"] == [
        f"Required to sign: your name as signed, exactly “{lead.full_name}”."
    ]
    assert FinalOpinion.objects.get().signed_at is None


def test_the_name_is_matched_whatever_its_letter_case_and_spacing(submitted, client):
    request, (lead, _, _) = submitted
    sign_in(client, lead)

    response = client.post(final_page(request), signing(lead, signed_name="  ana   LOPEZ "))

    assert response.status_code == 302
    assert FinalOpinion.objects.get().signed_name == "ana   LOPEZ"


@pytest.mark.parametrize(
    "disagreement", [{"agrees_with_plan": "partly"}, {"agrees_with_diagnosis": "no"}]
)
def test_a_member_who_disagrees_with_the_conclusion_needs_the_dissent_written(
    panel, client, disagreement
):
    request, (lead, second, third) = panel
    submit_opinions(request, [lead, second, third], **{second.full_name: disagreement})
    sign_in(client, lead)

    refused = client.post(final_page(request), signing(lead))
    accepted = client.post(final_page(request), signing(lead, dissent=DISSENT))

    assert refused.status_code == 400
    assert refused.context["form"].errors["dissent"] == [
        "Required to sign: the members' dissent (a member disagrees with the conclusion)."
    ]
    assert accepted.status_code == 302
    assert FinalOpinion.objects.get().dissent == DISSENT


def test_members_who_agree_with_everything_dissent_from_a_different_path(submitted, client):
    request, (lead, _, _) = submitted
    sign_in(client, lead)

    response = client.post(final_page(request), signing(lead, conclusion="different"))

    assert response.status_code == 400
    assert "dissent" in response.context["form"].errors


def test_signing_stores_the_letter_as_a_pdf_document_and_the_opinion_is_ready(
    panel, client, tmp_path
):
    request, (lead, second, third) = panel
    submit_opinions(
        request, [lead, second, third], **{second.full_name: {"agrees_with_diagnosis": "no"}}
    )
    sign_in(client, lead)

    response = client.post(final_page(request), signing(lead, dissent=DISSENT))

    assert response["Location"] == reverse("reviews:case", args=[request.reference])
    final = FinalOpinion.objects.select_related("letter").get()
    assert final.signed_at is not None
    assert (final.signed_name, final.signed_credentials) == (lead.full_name, "MD")
    letter = final.letter
    assert (letter.kind, letter.request_id, letter.file_type) == (
        "opinion",
        request.pk,
        "application/pdf",
    )
    data = (tmp_path / "files" / letter.storage_key).read_bytes()
    assert hashlib.sha256(data).hexdigest() == letter.sha256
    assert letter.size == len(data)
    request.refresh_from_db()
    assert request.status == Status.OPINION_READY
    text = pdf_text(data)
    for expected in (
        "Agrees with the previous diagnosis and care plan",
        FINAL["family_summary"],
        DISSENT,
        lead.full_name,
        second.full_name,
        third.full_name,
    ):
        assert expected in text


def test_a_signed_letter_cannot_be_changed_or_signed_again(signed, client):
    request, (lead, _, _) = signed
    sign_in(client, lead)

    page = client.get(final_page(request))
    post = client.post(final_page(request), signing(lead, family_summary="Rewritten."), follow=True)

    assert page.context["final"].signed_at is not None
    assert "Signed by Ana Lopez" in page.content.decode()
    assert "This review is closed: the opinion can no longer change." in messages_of(post)
    assert FinalOpinion.objects.get().family_summary == FINAL["family_summary"]
    assert Document.objects.filter(kind="opinion").count() == 1


# --- All or nothing ------------------------------------------------------------------------------


def raise_(*args, **kwargs):
    raise RuntimeError("failed on purpose")


@pytest.mark.parametrize(
    "step",
    [
        "letter_render",
        "generated_bytes_store",
        "document_create_generated",
        "review_request_transition",
    ],
)
def test_a_failed_signing_leaves_no_signature_no_document_and_no_stored_letter(
    submitted, monkeypatch, tmp_path, step
):
    request, (lead, _, _) = submitted
    monkeypatch.setattr(f"reviews.services.{step}", raise_)

    with pytest.raises(RuntimeError, match="failed on purpose"):
        sign(request, lead)

    final = FinalOpinion.objects.get()
    assert (final.signed_at, final.signed_name, final.letter) == (None, "", None)
    assert not Document.objects.filter(kind="opinion").exists()
    assert stored_files(tmp_path) == []
    request.refresh_from_db()
    assert request.status == Status.IN_REVIEW


def test_after_a_failed_signing_the_lead_can_sign_again(submitted, monkeypatch):
    request, (lead, _, _) = submitted
    with monkeypatch.context() as patched:
        patched.setattr("reviews.services.letter_render", raise_)
        with pytest.raises(RuntimeError):
            sign(request, lead)

    final = sign(request, lead)

    assert final.letter.kind == "opinion"
    assert FinalOpinion.objects.get().signed_at is not None


def test_an_amendment_submitted_while_the_letter_is_written_stops_the_signing(
    submitted, monkeypatch, tmp_path
):
    request, (lead, second, _) = submitted
    render = services.letter_render

    def render_then_amend(*, content, **figures):
        data = render(content=content, **figures)
        # Meanwhile, in another browser, a member changes their mind.
        services.opinion_amend(review_request=request, actor=second)
        services.opinion_submit(
            review_request=request,
            fields={"agrees_with_plan": "no", "amendment_reason": "New X-ray."},
            actor=second,
        )
        return data

    monkeypatch.setattr("reviews.services.letter_render", render_then_amend)

    with pytest.raises(services.ReviewClosed, match="changed while you signed"):
        sign(request, lead)

    assert FinalOpinion.objects.get().signed_at is None
    assert not Document.objects.filter(kind="opinion").exists()
    assert stored_files(tmp_path) == []
    request.refresh_from_db()
    assert request.status == Status.IN_REVIEW


def test_an_amendment_just_before_the_letter_is_written_is_checked_again_under_the_lock(
    submitted, monkeypatch
):
    request, (lead, second, _) = submitted
    write = services.letter_content
    amended = []

    def amend_then_write(*, final_opinion):
        if not amended:
            # The first check has passed; before the letter is written, a member amends
            # to disagree, so the letter would name a dissent that it does not explain.
            services.opinion_amend(review_request=request, actor=second)
            services.opinion_submit(
                review_request=request,
                fields={"agrees_with_plan": "no", "amendment_reason": "New X-ray."},
                actor=second,
            )
            amended.append(True)
        return write(final_opinion=final_opinion)

    monkeypatch.setattr("reviews.services.letter_content", amend_then_write)

    with pytest.raises(services.Incomplete) as refused:
        sign(request, lead)

    assert "dissent" in refused.value.missing
    assert FinalOpinion.objects.get().signed_at is None
    assert not Document.objects.filter(kind="opinion").exists()
    request.refresh_from_db()
    assert request.status == Status.IN_REVIEW


def test_a_conclusion_outside_the_choices_is_refused_and_nothing_is_saved(submitted, client):
    request, (lead, _, _) = submitted
    sign_in(client, lead)

    response = client.post(final_page(request), signing(lead, conclusion="maybe"))

    assert response.status_code == 400
    assert "conclusion" in response.context["form"].errors
    assert not FinalOpinion.objects.exists()
