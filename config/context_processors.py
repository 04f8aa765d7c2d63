from django.conf import settings


def portal(request):
    return {"hospital_name": settings.HOSPITAL_NAME, "hospital_phone": settings.HOSPITAL_PHONE}
