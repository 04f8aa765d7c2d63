"""Follow-up questions: the family asks after delivery, up to the configured number; the
lead answers each once, as an addendum on the family's status page. Neither e-mail says
what was asked or answered."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from notifications.models import Message
from reviews.models import FollowUpQuestion
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

QUESTION = "Can she play soccer with the brace off?"
ANSWER = "Yes: soccer is fine without the brace, up to two hours a day."


def ask(client, request, question=QUESTION):
    return client.post(
        reverse("reviews:follow_up_ask", args=[request.reference]),
        {"question": question},
        follow=True,
    )


def answer(client, request, follow_up, text=ANSWER):
    return client.post(
        reverse("reviews:follow_up_answer", args=[request.reference, follow_up.pk]),
        {"answer": text},
        follow=True,
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def status_page(client, request) -> str:
    return client.get(reverse("intake:request_detail", args=[request.reference])).content.decode()


@pytest.fixture
def family_client(client, family):
    return sign_in(client, family)


@pytest.fixture
def asked(delivered, family):
    """The family has asked one question about its delivered opinion."""
    request, reviewers = delivered
    ask(sign_in(Client(), family), request)
    return request, reviewers, FollowUpQuestion.objects.get()


# --- Asking ------------------------------------------------------------------------------------


def test_the_family_asks_after_delivery_and_the_lead_is_told_without_the_question(
    delivered, family_client, family
):
    request, (lead, _, _) = delivered

    response = ask(family_client, request)

    assert response.redirect_chain[-1][0] == reverse(
        "intake:request_detail", args=[request.reference]
    )
    assert "Your question was sent to the lead reviewer." in messages_of(response)
    follow_up = FollowUpQuestion.objects.get()
    assert (follow_up.request, follow_up.asked_by, follow_up.question) == (
        request,
        family,
        QUESTION,
    )
    message = Message.objects.get(template="follow_up_asked")
    assert message.to == lead.email
    assert reverse("reviews:case", args=[request.reference]) in message.body
    assert "soccer" not in message.subject + message.body


def test_no_question_before_the_opinion_is_delivered(signed, family_client):
    request, _ = signed

    response = ask(family_client, request)

    assert "Questions can be asked once the opinion is delivered." in messages_of(response)
    assert "Ask the lead reviewer a question" not in response.content.decode()
    assert not FollowUpQuestion.objects.exists()
    assert not Message.objects.filter(template="follow_up_asked").exists()


def test_questions_stop_at_the_limit_with_a_clear_message(delivered, family_client, settings):
    settings.REVIEWS_FOLLOW_UP_LIMIT = 2
    request, _ = delivered
    first = ask(family_client, request, "First question?")
    ask(family_client, request, "Second question?")

    third = ask(family_client, request, "Third question?")

    assert "You can ask 1 more question." in first.content.decode()
    assert (
        "You have asked the 2 questions this review includes. Your coordinator can help with more."
        in messages_of(third)
    )
    assert "Ask the lead reviewer a question" not in third.content.decode()
    assert list(FollowUpQuestion.objects.order_by("pk").values_list("question", flat=True)) == [
        "First question?",
        "Second question?",
    ]
    assert Message.objects.filter(template="follow_up_asked").count() == 2


def test_an_empty_question_is_not_sent(delivered, family_client):
    request, _ = delivered

    response = ask(family_client, request, "   ")

    assert "Write your question before sending it" in messages_of(response)[0]
    assert not FollowUpQuestion.objects.exists()


def test_only_the_family_asks(delivered, other_family, coordinator, client):
    request, (lead, _, _) = delivered
    url = reverse("reviews:follow_up_ask", args=[request.reference])

    statuses = [
        sign_in(Client(), person).post(url, {"question": QUESTION}).status_code
        for person in (other_family, coordinator, lead)
    ]

    assert statuses == [404, 404, 404]
    assert not FollowUpQuestion.objects.exists()


# --- Answering --------------------------------------------------------------------------------


def test_the_lead_answers_and_the_family_reads_it_as_an_addendum(asked, family):
    request, (lead, _, _), follow_up = asked
    lead_client = sign_in(Client(), lead)
    case_page = lead_client.get(reverse("reviews:case", args=[request.reference])).content.decode()
    assert escape(QUESTION) in case_page

    response = answer(lead_client, request, follow_up)

    assert "Your answer is added to the opinion." in messages_of(response)
    follow_up.refresh_from_db()
    assert (follow_up.answer, follow_up.answered_by) == (ANSWER, lead)
    assert follow_up.answered_at is not None
    page = status_page(sign_in(Client(), family), request)
    assert "Addendum" in page
    assert escape(ANSWER) in page


def test_the_family_is_told_of_the_answer_without_its_text(asked, family):
    request, (lead, _, _), follow_up = asked
    earlier = list(Message.objects.values_list("pk", flat=True))

    answer(sign_in(Client(), lead), request, follow_up)

    message = Message.objects.exclude(pk__in=earlier).get()
    assert (message.to, message.template) == (family.email, "request_update")
    assert reverse("intake:request_detail", args=[request.reference]) in message.body
    for private in ("soccer", "brace", "two hours"):
        assert private not in message.subject + message.body


def test_a_member_who_is_not_the_lead_cannot_answer(asked):
    request, (_, second, _), follow_up = asked

    response = answer(sign_in(Client(), second), request, follow_up)

    assert "Only the lead reviewer answers follow-up questions." in messages_of(response)
    follow_up.refresh_from_db()
    assert (follow_up.answer, follow_up.answered_at) == ("", None)


def test_a_question_is_answered_once(asked):
    request, (lead, _, _), follow_up = asked
    lead_client = sign_in(Client(), lead)
    answer(lead_client, request, follow_up)
    messages_before = Message.objects.count()

    response = answer(lead_client, request, follow_up, "A different answer.")

    assert "This question has been answered." in messages_of(response)
    follow_up.refresh_from_db()
    assert follow_up.answer == ANSWER
    assert Message.objects.count() == messages_before


def test_an_answer_is_not_taken_from_a_reviewer_off_the_panel(asked, unassigned_reviewer):
    request, _, follow_up = asked

    response = sign_in(Client(), unassigned_reviewer).post(
        reverse("reviews:follow_up_answer", args=[request.reference, follow_up.pk]),
        {"answer": ANSWER},
    )

    assert response.status_code == 404
    follow_up.refresh_from_db()
    assert follow_up.answered_at is None
