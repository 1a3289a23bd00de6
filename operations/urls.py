"""Pages of the operations view (mounted under /ops/)."""

from django.urls import path

from operations import views

app_name = "operations"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("screen/", views.screen, name="screen"),
    path("screen/data/", views.screen_data, name="screen-data"),
    path("orders/<int:pk>/", views.order_detail, name="order"),
    path("orders/<int:pk>/move/", views.order_move, name="order-move"),
]
