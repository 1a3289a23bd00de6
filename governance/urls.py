"""Hub pages of the governance app, mounted under /governance/: the 需求清单 and the
objection form the data explorer links to."""

from django.urls import path

from governance import objection_views
from governance.needs import views as needs

app_name = "governance"
urlpatterns = [
    path("needs/", needs.need_list, name="needs"),
    path("needs/new/", needs.need_new, name="need-new"),
    path("needs/<int:pk>/", needs.need_detail, name="need"),
    path("objections/new/<slug:code>/", objection_views.objection_new, name="objection-new"),
]
