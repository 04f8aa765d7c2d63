from django.urls import path

from intake import views

app_name = "intake"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("requests/", views.my_requests, name="my_requests"),
    path("requests/<str:reference>/", views.request_detail, name="request_detail"),
]
