from django.urls import path

from reviews import views

app_name = "reviews"

urlpatterns = [
    path("", views.my_reviews, name="my_reviews"),
    path("cases/<str:reference>/", views.case, name="case"),
    path("cases/<str:reference>/opinion/", views.opinion, name="opinion"),
    path("cases/<str:reference>/opinion/autosave/", views.opinion_autosave, name="autosave"),
    path("cases/<str:reference>/opinion/amend/", views.opinion_amend, name="amend"),
    path("cases/<str:reference>/decline/", views.decline, name="decline"),
    path("cases/<str:reference>/final/", views.final_opinion, name="final"),
    path(
        "cases/<str:reference>/follow-ups/<int:follow_up_id>/answer/",
        views.follow_up_answer,
        name="follow_up_answer",
    ),
    path("requests/<str:reference>/follow-ups/", views.follow_up_ask, name="follow_up_ask"),
]
