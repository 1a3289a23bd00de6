"""Forms of the access-request pages: what is asked for, and what the provider approves.

Fields are check boxes labelled with the field specs' Chinese labels, districts are check
boxes of the GB/T 2260 names whose values are the codes, so a request can only name
fields and districts that exist; the service checks the same again.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hub.catalog.models import DataResource, FieldSpec
from permissions.models import AccessRequest
from permissions.scopes import district_names

DURATIONS = [
    (30, _("30 天")),
    (90, _("90 天")),
    (180, _("半年")),
    (365, _("一年")),
    (1095, _("三年")),
]


def field_choices(user, resource: DataResource) -> list[tuple[str, str]]:
    """(name, "标签 (name)") of the resource's fields the user may see, in schema order."""
    specs = FieldSpec.objects.filter(resource=resource).restrict(user, "view")
    return [(spec.name, f"{spec.label} ({spec.name})") for spec in specs.order_by("order", "pk")]


def district_choices(user) -> list[tuple[str, str]]:
    return list(district_names(user).items())


class AccessRequestForm(forms.Form):
    """申请共享: department, fields, districts, purpose and duration."""

    requester = forms.ChoiceField(label=_("申请部门"))
    fields = forms.MultipleChoiceField(
        label=_("申请字段"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("不选表示申请全部字段。"),
    )
    districts = forms.MultipleChoiceField(
        label=_("区划范围"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("不选表示全市。"),
    )
    purpose = forms.CharField(label=_("用途"), widget=forms.Textarea(attrs={"rows": 3}))
    duration_days = forms.TypedChoiceField(
        label=_("期限"), choices=DURATIONS, coerce=int, initial=365
    )

    def __init__(self, *args, user, resource: DataResource, departments, **kwargs):
        super().__init__(*args, **kwargs)
        self.departments = {str(d.pk): d for d in departments}
        self.fields["requester"].choices = [(pk, d.name) for pk, d in self.departments.items()]
        self.fields["fields"].choices = field_choices(user, resource)
        self.fields["districts"].choices = district_choices(user)

    def clean_purpose(self) -> str:
        purpose = self.cleaned_data["purpose"].strip()
        if not purpose:
            raise forms.ValidationError(_("请填写用途。"))
        return purpose

    def requester_department(self):
        return self.departments[self.cleaned_data["requester"]]


APPROVE, REFUSE = "approve", "refuse"


class DecisionForm(forms.Form):
    """审批: approve what was asked, approve in part (fewer fields or districts), or refuse
    with a reason. The choices offered are only what was asked for."""

    decision = forms.ChoiceField(
        label=_("审批结果"),
        choices=[(APPROVE, _("批准（可减少字段或区划，即部分批准）")), (REFUSE, _("拒绝"))],
        widget=forms.RadioSelect,
        initial=APPROVE,
    )
    fields = forms.MultipleChoiceField(
        label=_("批准字段"), required=False, widget=forms.CheckboxSelectMultiple
    )
    districts = forms.MultipleChoiceField(
        label=_("批准区划"), required=False, widget=forms.CheckboxSelectMultiple
    )
    reason = forms.CharField(
        label=_("拒绝理由"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, user, access_request: AccessRequest, **kwargs):
        super().__init__(*args, **kwargs)
        self.access_request = access_request
        fields = dict(field_choices(user, access_request.resource))
        asked_fields = access_request.fields or list(fields)
        self.fields["fields"].choices = [(n, fields.get(n, n)) for n in asked_fields]
        self.fields["fields"].initial = asked_fields
        names = district_names(user)
        asked_districts = access_request.districts or list(names)
        self.fields["districts"].choices = [(c, names.get(c, c)) for c in asked_districts]
        self.fields["districts"].initial = asked_districts
        if not access_request.districts:
            self.fields["districts"].help_text = _("申请范围为全市；全部勾选即批准全市。")

    def clean(self):
        data = super().clean()
        if data.get("decision") == REFUSE and not (data.get("reason") or "").strip():
            self.add_error("reason", _("拒绝必须说明理由。"))
        if data.get("decision") == APPROVE:
            for name in ("fields", "districts"):
                if not data.get(name):
                    self.add_error(name, _("部分批准至少保留一项。"))
        return data

    def granted(self, name: str) -> list[str] | None:
        """The scope to grant: None (as asked) when everything offered is kept."""
        chosen = sorted(self.cleaned_data[name])
        offered = sorted(value for value, _label in self.fields[name].choices)
        if chosen == offered:
            return None
        return chosen
