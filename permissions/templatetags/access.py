"""``{% access_request_link resource %}``: the 申请共享 button on a resource page, shown to
a user who may see the resource but not read its records (and it is not 不予共享)."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from hub.catalog.models import DataResource, Department, SharingType
from permissions.selectors import VIEW_RECORDS, can

register = template.Library()


def request_url(user, resource: DataResource) -> str:
    """The request page's URL, or "" when the button should not be offered."""
    if not getattr(user, "is_authenticated", False) or resource is None or not resource.pk:
        return ""
    if resource.sharing_type == SharingType.NONE or can(user, VIEW_RECORDS, resource):
        return ""
    if not Department.objects.restrict(user, "member").exists():
        return ""
    return reverse("access:request", args=[resource.code])


@register.simple_tag(takes_context=True)
def access_request_link(context, resource) -> str:
    url = request_url(context["request"].user, resource)
    if not url:
        return ""
    return format_html(
        '<li><a href="{}" class="addlink request-access">{}</a></li>', url, _("申请共享")
    )
