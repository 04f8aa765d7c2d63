from django.contrib import admin
from django.urls import include, path

from config.health import healthz

urlpatterns = [
    path("", include("intake.urls")),
    path("", include("records.urls")),
    path("", include("billing.urls")),
    path("accounts/", include("accounts.urls")),
    path("calls/", include("scheduling.urls")),
    path("reviews/", include("reviews.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
]
