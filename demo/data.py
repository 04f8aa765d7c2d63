"""What the demo contains. Everything here is example data, not hospital policy."""

from datetime import date

# Printed by `make run`: demo accounts exist only where DEMO_DATA_ALLOWED is on.
PASSWORD = "portal-demo-2026"  # noqa: S105

DEPARTMENTS = [
    {
        "slug": "orthopedics",
        "name": "Orthopedics",
        "name_es": "Ortopedia",
        "summary_es": "Huesos, articulaciones, la columna y lesiones deportivas.",
        "phone": "404-555-0110",
        "call_length_minutes": 30,
        "summary": "Bones, joints, the spine and sports injuries.",
    },
    {
        "slug": "cardiology",
        "name": "Cardiology",
        "name_es": "Cardiología",
        "summary_es": "Enfermedades del corazón, desde el nacimiento hasta la juventud.",
        "phone": "404-555-0120",
        "call_length_minutes": 20,
        "summary": "Heart conditions, from birth through young adulthood.",
    },
    {
        "slug": "cancer-and-blood-disorders",
        "name": "Cancer and Blood Disorders",
        "name_es": "Cáncer y trastornos de la sangre",
        "summary_es": "Cánceres infantiles, anemia de células falciformes y otros trastornos "
        "de la sangre.",
        "phone": "404-555-0130",
        "call_length_minutes": 30,
        "summary": "Childhood cancers, sickle cell disease and other blood disorders.",
    },
    {
        "slug": "neurology",
        "name": "Neurology",
        "name_es": "Neurología",
        "summary_es": "Epilepsia, dolores de cabeza y otras enfermedades del cerebro y los "
        "nervios.",
        "phone": "404-555-0140",
        "call_length_minutes": 15,
        "summary": "Epilepsy, headaches and other conditions of the brain and nerves.",
    },
]

# Georgia residents outside the Atlanta metro area, under 21.
_ELIGIBILITY = {
    "allowed_states": ["GA"],
    "excluded_zip_prefixes": ["300", "301", "302", "303"],
    "max_patient_age": 20,
    "required_documents": ["referral", "record", "imaging"],
}

SERVICES = [
    {
        "slug": "spine-document-review",
        "department": "orthopedics",
        "name": "Spine document review",
        "fee_cents": 50000,
        "reviewers_required": 3,
        "readers": "three spine program leaders",
        "name_es": "Revisión de documentos de columna",
        "readers_es": "tres líderes del programa de columna",
        "summary_es": "Tres líderes de nuestro programa de columna leen los expedientes y las "
        "imágenes de su hijo o hija y escriben una sola opinión sobre el diagnóstico y el plan "
        "de atención.",
        "summary": "Three leaders of our spine program read your child's records and imaging and "
        "write one opinion on the diagnosis and the care plan.",
        **_ELIGIBILITY,
    },
    {
        "slug": "hip-document-review",
        "department": "orthopedics",
        "name": "Hip document review",
        "fee_cents": 16700,
        "reviewers_required": 1,
        "readers": "a hip program leader",
        "name_es": "Revisión de documentos de cadera",
        "readers_es": "un líder del programa de cadera",
        "summary_es": "Un líder de nuestro programa de cadera lee los expedientes y las imágenes "
        "de su hijo o hija y escribe una opinión sobre el diagnóstico y el plan de atención.",
        "summary": "A leader of our hip program reads your child's records and imaging and writes "
        "an opinion on the diagnosis and the care plan.",
        **_ELIGIBILITY,
    },
]

QUESTIONS = {
    "spine-document-review": [
        (
            "condition",
            "What spine condition was your child diagnosed with?",
            "choice",
            True,
            ["Scoliosis", "Kyphosis", "Spondylolisthesis", "Other or not sure"],
        ),
        ("diagnosed_on", "When was it first diagnosed?", "date", True, []),
        ("back_pain", "Does your child have back pain?", "yes_no", True, []),
        ("brace", "Has your child worn a brace for it?", "yes_no", True, []),
        ("surgery_recommended", "Has a doctor recommended surgery?", "yes_no", True, []),
        ("other_conditions", "Other medical conditions or past surgeries", "text", False, []),
    ],
    "hip-document-review": [
        (
            "condition",
            "What hip condition was your child diagnosed with?",
            "choice",
            True,
            [
                "Hip dysplasia",
                "Perthes disease",
                "Slipped capital femoral epiphysis",
                "Other or not sure",
            ],
        ),
        ("diagnosed_on", "When was it first diagnosed?", "date", True, []),
        ("limp", "Does your child limp?", "yes_no", True, []),
        ("prior_surgery", "Has your child had hip surgery?", "yes_no", True, []),
        ("other_conditions", "Other medical conditions or past surgeries", "text", False, []),
    ],
}

# The questions in Spanish: (text, choices in the same order as the English ones).
QUESTIONS_ES = {
    "condition": (
        {
            "spine-document-review": "¿Qué enfermedad de la columna le diagnosticaron?",
            "hip-document-review": "¿Qué enfermedad de la cadera le diagnosticaron?",
        },
        {
            "spine-document-review": ["Escoliosis", "Cifosis", "Espondilolistesis", "Otra o no sé"],
            "hip-document-review": [
                "Displasia de cadera",
                "Enfermedad de Perthes",
                "Epifisiólisis de la cabeza femoral",
                "Otra o no sé",
            ],
        },
    ),
    "diagnosed_on": ("¿Cuándo se le diagnosticó por primera vez?", None),
    "back_pain": ("¿Su hijo o hija tiene dolor de espalda?", None),
    "brace": ("¿Su hijo o hija ha usado un corsé para esto?", None),
    "surgery_recommended": ("¿Algún médico le ha recomendado cirugía?", None),
    "other_conditions": ("Otras enfermedades o cirugías anteriores", None),
    "limp": ("¿Su hijo o hija cojea?", None),
    "prior_surgery": ("¿Su hijo o hija ha tenido una cirugía de cadera?", None),
}

CONSENT_TITLE = "Financial consent for a document review"
CONSENT_BODY = """\
A document review is a self-pay service. It is not billed to insurance, and insurance does not
cover it. The flat fee shown for the review is due when you send your request.

If, after you pay, we find that your child's request is not eligible for this review, or that the
records cannot be completed, we will contact you. If the review cannot be done, the fee is refunded
in full. Once the review has started, the fee is not refundable.

A document review gives a written opinion on the records you send. It does not make your child a
patient of the hospital and does not replace a visit with a doctor.
"""

CONSENT_TITLE_ES = "Consentimiento financiero para una revisión de documentos"
CONSENT_BODY_ES = """\
Una revisión de documentos es un servicio que paga la familia. No se factura al seguro médico, y
el seguro no lo cubre. La tarifa fija que se muestra para la revisión se paga al enviar la
solicitud.

Si, después de pagar, vemos que la solicitud de su hijo o hija no cumple los requisitos de esta
revisión, o que los expedientes no se pueden completar, nos comunicaremos con usted. Si la revisión
no se puede hacer, se le reembolsa la tarifa completa. Una vez comenzada la revisión, la tarifa no
es reembolsable.

Una revisión de documentos da una opinión escrita sobre los expedientes que usted envía. No
convierte a su hijo o hija en paciente del hospital y no reemplaza una consulta con un médico.
"""

ACCOUNTS = [
    ("family", "family@example.org", "Jordan Rivera"),
    ("family", "family2@example.org", "Sam Lee"),
    ("coordinator", "coordinator@example.org", "Casey Morgan"),
    ("coordinator", "coordinator2@example.org", "Riley Brooks"),
    ("reviewer", "reviewer1@example.org", "Dr. Avery Chen"),
    ("reviewer", "reviewer2@example.org", "Dr. Blake Patel"),
    ("reviewer", "reviewer3@example.org", "Dr. Drew Kim"),
    ("admin", "admin@example.org", "Alex Admin"),
]

# Reviewer pools: who reads which review, and how they sign.
REVIEWERS = {
    "reviewer1@example.org": (
        "MD, Director of the Spine Program",
        ["spine-document-review", "hip-document-review"],
    ),
    "reviewer2@example.org": ("MD, Spine Program", ["spine-document-review"]),
    "reviewer3@example.org": ("MD, PhD, Spine Program", ["spine-document-review"]),
}
# Receives the escalation a day before a review's limit.
PROGRAM_LEADS = {"orthopedics": "reviewer1@example.org"}

ELIGIBILITY = {
    "state": "GA",
    "zip_code": "31401",
    "patient_age": 12,
    "hospitalized": False,
    "eligible": True,
    "checked_at": "2026-01-05T10:00:00+00:00",
}

GUARDIAN = {
    "legal_name": "Jordan Avery Rivera",
    "relationship": "mother",
    "has_legal_authority": True,
    "phone": "+19125550143",
    "email": "family@example.org",
    "address_line1": "12 Oak Street",
    "address_line2": "",
    "city": "Savannah",
    "state": "GA",
    "zip_code": "31401",
}

CHILDREN = [
    {
        "first_name": "Alex",
        "last_name": "Rivera",
        "date_of_birth": date(2014, 5, 30),
        "sex": "female",
        "prior_diagnosis": "Adolescent idiopathic scoliosis, 32-degree curve.",
        "current_treatment": "Night-time brace since March.",
        "questions": "Is surgery needed now, or can we keep bracing?",
    },
    {
        "first_name": "Alex",
        "last_name": "Rivera",
        "date_of_birth": date(2014, 5, 30),
        "sex": "female",
        "prior_diagnosis": "Mild hip dysplasia on the left.",
        "current_treatment": "Physical therapy.",
        "questions": "Should she avoid running and jumping sports?",
    },
]

PEDIATRICIAN = {
    "name": "Dr. Morgan Lee",
    "practice": "Savannah Pediatrics",
    "phone": "+19125550100",
    "fax": "+19125550101",
    "email": "",
    "share_opinion": True,
}

# An answer for each kind of question.
ANSWERS = {
    "choice": lambda question: question.choices[0],
    "date": lambda question: "2025-09-15",
    "yes_no": lambda question: "yes",
    "text": lambda question: "None.",
}

# Who takes each department's informational calls. Orthopedics has two coordinators, so
# bookings there take turns between them.
COORDINATORS = {
    "orthopedics": ["coordinator@example.org", "coordinator2@example.org"],
    "cardiology": ["coordinator@example.org"],
    "cancer-and-blood-disorders": ["coordinator2@example.org"],
    "neurology": ["coordinator2@example.org"],
}
# Monday to Friday, in the department's time zone.
WEEKLY_HOURS = [("09:00", "12:00"), ("13:00", "17:00")]

LOCATION = {
    "name": "Main hospital campus",
    "address": "1405 Clifton Road NE, Atlanta, GA 30322",
    "lodging": "Families traveling more than 60 miles may stay at the family house next to "
    "the hospital; ask your coordinator to reserve a room.",
    "transport": "The hospital shuttle runs from the airport train station every 30 minutes.",
    "parking": "Visitor deck 2, entrance on Clifton Road. Bring your ticket to the front desk "
    "for a discount.",
    "food": "The cafeteria on the first floor is open 6:30 AM to 8 PM.",
}
