"""Site pages of the sharing workflow, mounted under /access/ (see ``permissions.views``)."""

from django.urls import path

from permissions import views

app_name = "access"
urlpatterns = [
    path("", views.my_requests, name="mine"),
    path("request/<slug:code>/", views.request_page, name="request"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("queue/", views.queue, name="queue"),
    path("queue/<int:pk>/", views.decide, name="decide"),
]
