from django.urls import path

from reviews import imaging_views, views

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
    # The imaging viewer, and the panel's measurements and key images on a study.
    path("cases/<str:reference>/imaging/<uuid:document_id>/", imaging_views.viewer, name="viewer"),
    path(
        "cases/<str:reference>/imaging/<uuid:document_id>/measurements/",
        imaging_views.measurements_view,
        name="measurements",
    ),
    path(
        "cases/<str:reference>/imaging/<uuid:document_id>/measurements/<uuid:measurement_id>/"
        "delete/",
        imaging_views.measurement_delete,
        name="measurement_delete",
    ),
    path(
        "cases/<str:reference>/imaging/<uuid:document_id>/key-images/",
        imaging_views.key_images,
        name="key_images",
    ),
]
