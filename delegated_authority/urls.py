from django.urls import path

from . import views

app_name = "delegated_authority"

urlpatterns = [
    path("children/<int:pk>/agreements/", views.agreements, name="agreements"),
    path("children/<int:pk>/agreements/new/", views.agreement_create, name="agreement_create"),
    path("children/<int:pk>/approvals/new/", views.approval_request, name="approval_request"),
    path("agreements/<int:pk>/", views.agreement_detail, name="agreement"),
    path("delegated-authority/reviews/", views.reviews, name="reviews"),
    path("delegated-authority/approvals/", views.approvals, name="approvals"),
    path("approvals/<int:pk>/approve/", views.approval_approve, name="approval_approve"),
    path("approvals/<int:pk>/refuse/", views.approval_refuse, name="approval_refuse"),
    path("approvals/<int:pk>/withdraw/", views.approval_withdraw, name="approval_withdraw"),
]
