"""A Spanish-speaking parent, new to the portal, in headless Chromium: switches the site to
Spanish, books a free call, creates an account, sends a complete spine review request with
its files, and reads the status page, the receipt and every e-mail in Spanish."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from billing.services import payment_record_phone
from intake.lifecycle import Status
from intake.models import ConsentSignature, ConsentText, Question, ReviewRequest
from notifications.models import Message
from tests import samples

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser_context_args(timezone_id="America/New_York", locale="en-US"),
]

PARENT = "lucia.gomez@example.org"
PASSWORD = "una-clave-larga-2026"


@pytest.fixture
def spine_in_spanish(published_service):
    service = published_service
    service.name_es = "Revisión de documentos de columna"
    service.summary_es = "Tres especialistas en columna leen los expedientes de su hijo o hija."
    service.readers_es = "tres líderes del programa de columna"
    service.fee_cents = 50000
    service.allowed_states = ["GA"]
    service.required_documents = ["referral", "imaging"]
    service.save()
    Question.objects.filter(key="back_pain").update(
        text_es="¿Su hijo o hija tiene dolor de espalda?"
    )
    Question.objects.filter(key="other").update(text_es="¿Algo más?")
    ConsentText.objects.update(
        title_es="Consentimiento financiero",
        body_es="Pago por cuenta propia. El seguro no lo cubre.",
    )
    return service


def label(page, text):
    return page.get_by_label(re.compile(rf"^\s*{re.escape(text)}"))


def upload(page, path):
    page.locator("input[type=file]").set_input_files(str(path))
    page.get_by_role("button", name="Enviar archivos").click()
    sent = page.locator("[data-upload-progress] li", has_text=path.name)
    expect(sent.get_by_text("Enviado y revisado.")).to_be_visible()


def guardian_and_child(page):
    expect(page.get_by_role("heading", name="Usted", exact=True)).to_be_visible()
    label(page, "Su nombre legal completo").fill("Lucía Gómez Ruiz")
    label(page, "Su relación con el niño o la niña").select_option("mother")
    label(page, "Soy el padre, la madre o el tutor legal").check()
    label(page, "Teléfono").fill("912-555-0143")
    label(page, "Dirección (calle y número)").fill("12 Oak St")
    label(page, "Ciudad").fill("Savannah")
    page.get_by_role("button", name="Guardar y continuar").click()
    expect(page.get_by_role("heading", name="Su hijo o hija", exact=True)).to_be_visible()
    label(page, "Nombre del niño o la niña").fill("Sofía")
    label(page, "Apellido del niño o la niña").fill("Gómez")
    label(page, "Fecha de nacimiento").fill("2014-05-30")
    page.get_by_label("Femenino").check()
    label(page, "El diagnóstico que le dieron").fill("Escoliosis, 32 grados")
    label(page, "Sus preguntas para los especialistas").fill("¿Necesita cirugía ahora?")
    page.get_by_role("button", name="Guardar y continuar").click()


def test_a_spanish_speaking_parent_books_a_call_and_sends_a_spine_review_in_spanish(
    live_server,
    page,
    neurology,
    spine_in_spanish,
    coordinator,
    tmp_path,
):
    referral = tmp_path / "carta de referencia.pdf"
    referral.write_bytes(samples.pdf())
    scan = tmp_path / "columna.dcm"
    scan.write_bytes(samples.dicom("CT_small.dcm"))
    page.set_viewport_size({"width": 390, "height": 844})

    # The switch, on the front page, before anything else.
    page.goto(f"{live_server.url}/")
    page.get_by_role("button", name="Español").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")

    # A free call.
    page.get_by_role("link", name="Reservar una llamada informativa gratuita").first.click()
    page.get_by_label("Seleccione un departamento").select_option(index=1)
    page.get_by_role("button", name="Ver horas disponibles").click()
    page.locator("a[href*='/calls/neurology/book/']").first.click()
    label(page, "Su nombre").fill("Lucía Gómez")
    label(page, "Número de teléfono al que debemos llamar").fill("404-555-0123")
    label(page, "Correo electrónico").fill(PARENT)
    label(page, "Nombre de su hijo o hija").fill("Sofía")
    label(page, "Edad de su hijo o hija, en años").fill("12")
    label(page, "Pueden comunicarse conmigo").check()
    page.get_by_role("button", name="Reservar la llamada").click()
    expect(page.get_by_role("heading", name="Su llamada está reservada")).to_be_visible()

    # An account, confirmed from the e-mail.
    page.goto(f"{live_server.url}{reverse('accounts:sign_up')}")
    label(page, "Su nombre completo").fill("Lucía Gómez Ruiz")
    label(page, "Correo electrónico").fill(PARENT)
    label(page, "Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Crear la cuenta").click()
    expect(page.get_by_role("heading", name="Revise su correo electrónico")).to_be_visible()
    confirm = Message.objects.get(to=PARENT, template="verify_email")
    page.goto(
        re.search(r"https?://\S+/confirm/\S+/", confirm.body)
        .group(0)
        .replace("http://testserver", live_server.url)
    )
    expect(page.get_by_text("su correo electrónico quedó confirmado")).to_be_visible()
    label(page, "Correo electrónico").fill(PARENT)
    label(page, "Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Iniciar sesión").click()

    # The review: eligibility, then every step of the wizard.
    page.goto(f"{live_server.url}/services/{spine_in_spanish.slug}/")
    expect(page.get_by_role("heading", name="Revisión de documentos de columna")).to_be_visible()
    expect(page.get_by_text("Tarifa fija de $500.00 USD")).to_be_visible()
    page.get_by_label("Estado donde vive").select_option("GA")
    page.get_by_label("Código postal").fill("31401")
    page.get_by_label("Edad de su hijo o hija, en años").fill("12")
    page.get_by_label("No", exact=True).check()
    page.get_by_role("button", name="Comprobar").click()
    page.get_by_role("button", name="Comenzar mi solicitud").click()
    guardian_and_child(page)
    page.get_by_label("Sí", exact=True).check()
    page.get_by_role("button", name="Guardar y continuar").click()
    expect(page.get_by_text("Pago por cuenta propia. El seguro no lo cubre.")).to_be_visible()
    label(page, "Escriba su nombre legal completo para firmar").fill("Lucía Gómez Ruiz")
    label(page, "He leído el consentimiento financiero").check()
    page.get_by_role("button", name="Guardar y continuar").click()
    label(page, "Nombre del pediatra").fill("Dra. Lee")
    label(page, "Consultorio o clínica").fill("Savannah Pediatrics")
    label(page, "Teléfono del consultorio").fill("912-555-0100")
    upload(page, referral)
    page.get_by_role("button", name="Guardar y continuar").click()
    page.get_by_label("¿Qué es?").select_option("imaging")
    upload(page, scan)
    page.get_by_role("button", name="Guardar y continuar").click()
    expect(page.get_by_text("✗")).to_have_count(0)
    page.get_by_role("button", name="Enviar mi solicitud").click()
    expect(page.get_by_text("Su solicitud fue enviada. Gracias.")).to_be_visible()
    expect(page.get_by_text("Lo siguiente es pagar la tarifa fija de $500.00 USD")).to_be_visible()

    request = ReviewRequest.objects.get()
    assert request.status == Status.AWAITING_PAYMENT
    assert ConsentSignature.objects.get().language == "es"

    # The coordinator takes the fee by phone; the status page and the receipt read Spanish.
    payment_record_phone(
        review_request=request,
        amount_cents=request.fee_cents,
        reference="4242",
        note="",
        actor=coordinator,
    )
    page.reload()
    expect(page.get_by_text("El plazo de la revisión ya está corriendo.")).to_be_visible()
    expect(page.get_by_text(re.compile(r"quedan? \d+ días?", re.IGNORECASE))).to_be_visible()
    page.get_by_role("link", name="recibo").click()
    expect(page.get_by_role("heading", name="Recibo")).to_be_visible()
    expect(page.get_by_text("$500.00 USD").first).to_be_visible()
    expect(page.get_by_text("Por teléfono")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "es")

    # Every e-mail to the family, in Spanish.
    sent = Message.objects.filter(to=PARENT).order_by("pk")
    assert {message.template for message in sent} >= {
        "call_booked",
        "verify_email",
        "request_update",
    }
    assert all(message.language == "es" for message in sent)
    subjects = [message.subject for message in sent]
    assert any(subject.startswith("Su llamada informativa con") for subject in subjects)
    assert any(subject.startswith("Novedades sobre su solicitud") for subject in subjects)
    for message in sent:
        assert "Hola:" in message.body
        assert "Hello," not in message.body
