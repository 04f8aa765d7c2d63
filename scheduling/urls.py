from django.urls import path

from scheduling import views

app_name = "scheduling"

urlpatterns = [
    path("", views.call_start, name="start"),
    path("booked/", views.call_booked, name="booked"),
    path("booked/call.ics", views.call_booked_invite, name="booked_invite"),
    path("mine/", views.my_calls, name="my_calls"),
    path("mine/<uuid:public_id>/call.ics", views.booking_invite, name="booking_invite"),
    path(
        "appointments/<uuid:public_id>/appointment.ics",
        views.appointment_invite,
        name="appointment_invite",
    ),
    path("move/<str:token>/", views.call_reschedule, name="reschedule"),
    path("cancel/<str:token>/", views.call_cancel, name="cancel"),
    path("before-your-call/<str:token>/", views.call_precall, name="precall"),
    path("<slug:slug>/", views.call_slots, name="slots"),
    path("<slug:slug>/book/", views.call_book, name="book"),
]
