from django.urls import path

from intake import invitation_views, views, wizard_views

app_name = "intake"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("services/<slug:slug>/", views.service_detail, name="service_detail"),
    path("services/<slug:slug>/start/", views.start, name="start"),
    path("services/<slug:slug>/continue/", views.start_continue, name="start_continue"),
    path("requests/", views.my_requests, name="my_requests"),
    path("requests/<str:reference>/", views.request_detail, name="request_detail"),
    path("requests/<str:reference>/answer/", views.request_answer, name="request_answer"),
    path("requests/<str:reference>/continue/", wizard_views.wizard_resume, name="wizard_resume"),
    path("requests/<str:reference>/you/", wizard_views.wizard_guardian, name="wizard_guardian"),
    path("requests/<str:reference>/child/", wizard_views.wizard_child, name="wizard_child"),
    path(
        "requests/<str:reference>/medical-history/",
        wizard_views.wizard_questionnaire,
        name="wizard_questionnaire",
    ),
    path("requests/<str:reference>/consent/", wizard_views.wizard_consent, name="wizard_consent"),
    path("requests/<str:reference>/review/", wizard_views.wizard_review, name="wizard_review"),
    path("requests/<str:reference>/share/<str:kind>/", views.request_invite, name="request_invite"),
    path(
        "requests/<str:reference>/links/<int:invitation_id>/revoke/",
        views.request_link_revoke,
        name="request_link_revoke",
    ),
    path(
        "requests/<str:reference>/guardians/<int:access_id>/remove/",
        views.request_access_remove,
        name="request_access_remove",
    ),
    path("invitations/<str:token>/", invitation_views.invitation, name="invitation"),
]
