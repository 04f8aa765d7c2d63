"""Pages a Spanish-speaking parent reads, checked in Spanish: the words, the dates and the
money, the way the hospital's Spanish-speaking families read them."""

from datetime import date

import pytest
from django.urls import reverse
from django.utils import translation

from intake.models import money
from tests.factories import DepartmentFactory, ReviewServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def spanish(client):
    client.cookies["portal_language"] = "es"
    return client


def test_money_names_the_dollar_and_shows_cents_in_spanish():
    with translation.override("es"):
        assert money(50000, "usd", drop_zero_cents=True) == "$500.00 USD"
        assert money(140000, "usd") == "$1,400.00 USD"
    with translation.override("en"):
        assert money(50000, "usd", drop_zero_cents=True) == "$500"


def test_dates_read_day_then_month_in_spanish():
    from django.template import Context, Template

    template = Template('{% load i18n %}{{ day|date:_("l, F j, Y") }}')

    with translation.override("es"):
        assert (
            template.render(Context({"day": date(2026, 12, 2)}))
            == "miércoles 2 de diciembre de 2026"
        )
    with translation.override("en"):
        assert template.render(Context({"day": date(2026, 12, 2)})) == "Wednesday, December 2, 2026"


def test_the_front_page_and_a_service_read_in_spanish_with_the_catalogue_in_spanish(spanish):
    department = DepartmentFactory(name="Orthopedics", name_es="Ortopedia")
    ReviewServiceFactory(
        department=department,
        name="Spine document review",
        name_es="Revisión de documentos de columna",
        slug="spine",
        fee_cents=50000,
    )

    page = spanish.get(reverse("intake:catalogue")).content.decode()

    assert '<html lang="es">' in page
    assert "Segundas opiniones para su hijo o hija" in page
    assert "Ortopedia" in page
    assert "Revisión de documentos de columna" in page
    assert "Tarifa fija de $500.00 USD" in page
    detail = spanish.get(reverse("intake:service_detail", args=["spine"])).content.decode()
    assert "¿Es esta revisión para su hijo o hija?" in detail
    assert "Edad de su hijo o hija, en años" in detail


def test_a_catalogue_text_without_spanish_falls_back_to_english(spanish):
    DepartmentFactory(name="Cardiology", name_es="")

    page = spanish.get(reverse("intake:catalogue")).content.decode()

    assert "Cardiology" in page


def test_booking_a_call_reads_in_spanish(spanish):
    DepartmentFactory(name="Neurology", name_es="Neurología", slug="neurology")

    page = spanish.get(reverse("scheduling:start")).content.decode()
    slots = spanish.get(reverse("scheduling:slots", args=["neurology"]) + "?tz=America/Chicago")

    assert "Reservar una llamada informativa gratuita" in page
    assert "Neurología: elija una hora" in slots.content.decode()
    assert "Horas mostradas en" in slots.content.decode()


def test_a_refused_upload_is_explained_in_spanish(client, family, family_draft):
    from tests.conftest import sign_in

    family.language = "es"
    family.save(update_fields=["language"])
    sign_in(client, family)
    page = b"<html><script>alert(1)</script></html>"
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        reverse("records:upload", args=[family_draft.reference]),
        {"kind": "record", "file": SimpleUploadedFile("informe.pdf", page)},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 400
    assert response.json()["error"].startswith("No se aceptan páginas web.")


def test_a_booking_refusal_reads_in_spanish():
    from datetime import timedelta

    from django.utils import timezone

    from scheduling.services import _refusal

    department = DepartmentFactory(name="Neurology", name_es="Neurología", minimum_notice_hours=24)
    now = timezone.now()

    with translation.override("es"):
        refusal = _refusal(department, now + timedelta(hours=1), now)

    assert str(refusal).startswith("Las llamadas se reservan con al menos 24 horas")
    assert "Neurología" in str(refusal)


def test_the_timeline_reads_in_the_family_s_language_with_the_amount_as_it_writes_money(
    client, family, coordinator
):
    from billing.services import payment_record_phone
    from intake.lifecycle import Status
    from tests.conftest import sign_in
    from tests.factories import review_request

    request = review_request(family=family, status=Status.AWAITING_PAYMENT, actor=coordinator)
    payment_record_phone(
        review_request=request,
        amount_cents=request.fee_cents,
        reference="4242",
        note="",
        actor=coordinator,
    )
    family.language = "es"
    family.save(update_fields=["language"])
    sign_in(client, family)

    page = client.get(reverse("intake:request_detail", args=[request.reference])).content.decode()

    assert "Tarifa de $500.00 USD pagada por teléfono." in page
    assert "Su solicitud está completa y pagada." in page
    event = request.events.get(to_status=Status.SUBMITTED)
    with translation.override("en"):
        assert event.note_text == "Fee of $500.00 paid by phone."


def test_a_requests_status_reads_in_the_familys_language(client, family):
    from intake.lifecycle import Status
    from tests.conftest import sign_in
    from tests.factories import review_request

    request = review_request(family=family, status=Status.IN_REVIEW)
    family.language = "es"
    family.save(update_fields=["language"])
    sign_in(client, family)

    listed = client.get(reverse("intake:my_requests")).content.decode()
    detail = client.get(reverse("intake:request_detail", args=[request.reference]))

    assert '<span class="badge text-bg-secondary">En revisión</span>' in listed
    assert '<span class="badge text-bg-secondary">En revisión</span>' in detail.content.decode()
    with translation.override("en"):
        assert request.get_status_display() == "In review"


def test_a_link_waiting_to_be_used_is_named_in_spanish_on_the_status_page(
    client, family, family_draft
):
    from intake.models import Invitation
    from intake.services import invitation_send
    from tests.conftest import sign_in

    invitation_send(
        review_request=family_draft,
        kind=Invitation.Kind.PEDIATRICIAN,
        email="dr.lee@example.com",
        actor=family,
    )
    family.language = "es"
    family.save(update_fields=["language"])
    sign_in(client, family)

    page = client.get(reverse("intake:request_detail", args=[family_draft.reference]))

    assert "Pediatra que hizo la referencia (solo para subir archivos)" in page.content.decode()
    assert "Referring pediatrician" not in page.content.decode()


def test_the_state_list_reads_without_articles_and_in_the_readers_language_and_order():
    from intake.forms import EligibilityForm

    def listed():
        return [label for value, label in EligibilityForm().fields["state"].choices if value]

    with translation.override("en"):
        english = listed()
    with translation.override("es"):
        spanish = listed()

    assert "District of Columbia" in english
    assert not [name for name in english if name.startswith("the ")]
    assert english.index("North Carolina") > english.index("New York")
    assert "Carolina del Norte" in spanish
    assert "Nueva York" in spanish
    assert "Distrito de Columbia" in spanish
    # In Spanish order: "Carolina del Norte" among the C's, "Hawái" among the H's.
    assert (
        spanish.index("California")
        < spanish.index("Carolina del Norte")
        < spanish.index("Colorado")
    )
    assert spanish.index("Georgia") < spanish.index("Hawái") < spanish.index("Idaho")


def test_a_place_the_review_does_not_serve_is_named_in_the_sentence_with_its_article():
    from intake.eligibility import EligibilityAnswers, check_eligibility

    service = ReviewServiceFactory(allowed_states=["GA", "DC"])
    answers = EligibilityAnswers(state="TX", zip_code="75001", patient_age=9, hospitalized=False)

    with translation.override("en"):
        english = check_eligibility(service, answers).reasons
    with translation.override("es"):
        spanish = check_eligibility(service, answers).reasons

    assert english == [
        "This review is offered to families living in Georgia or the District of Columbia."
    ]
    assert "el Distrito de Columbia" in spanish[0]
