from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("requests/<str:reference>/pay/", views.pay, name="pay"),
    path("requests/<str:reference>/paid/", views.paid, name="paid"),
    path("requests/<str:reference>/receipt/", views.receipt, name="receipt"),
    path("billing/stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
]
