from django.urls import path

from records import frame_views, views

app_name = "records"

urlpatterns = [
    path("requests/<str:reference>/referral/", views.wizard_referral, name="wizard_referral"),
    path("requests/<str:reference>/records/", views.wizard_documents, name="wizard_documents"),
    path("requests/<str:reference>/files/", views.upload, name="upload"),
    path("requests/<str:reference>/files/status/", views.upload_status, name="upload_status"),
    path("requests/<str:reference>/files/<uuid:document_id>/remove/", views.remove, name="remove"),
    path("requests/<str:reference>/held/<uuid:held_id>/add/", views.held_add, name="held_add"),
    path(
        "requests/<str:reference>/held/<uuid:held_id>/discard/",
        views.held_discard,
        name="held_discard",
    ),
    path("files/<uuid:document_id>/", views.document_file, name="document_file"),
    path("files/previews/<uuid:preview_id>/", views.preview_image, name="preview"),
    path("referrals/<str:token>/", views.pediatrician_upload, name="pediatrician_upload"),
    # The imaging viewer: open a series (logged), then fetch its images with the key it gave.
    path(
        "files/<uuid:document_id>/series/<int:series>/",
        frame_views.series_open,
        name="series_open",
    ),
    path("imaging/<str:key>/<int:image>/", frame_views.series_image, name="series_image"),
]
