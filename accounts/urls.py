from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.home, name="home"),
    path("language/", views.language, name="language"),
    path("sign-in/", views.LoginView.as_view(), name="login"),
    path("sign-out/", views.LogoutView.as_view(), name="logout"),
    path("sign-up/", views.sign_up, name="sign_up"),
    path("check-your-email/", views.check_email, name="check_email"),
    path("confirm/<str:token>/", views.verify_email, name="verify_email"),
    path("confirm-again/", views.resend_verification, name="resend_verification"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("two-factor/setup/", views.otp_setup, name="otp_setup"),
    path("two-factor/", views.otp_verify, name="otp_verify"),
]
