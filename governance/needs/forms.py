"""Forms of the 需求清单 pages: filing a need, routing it, answering it, closing it.

Choices are built from what the caller may see (their departments, the GB/T 2260
districts, the provider's resources); the services check the same again.
"""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from hub.catalog.models import UpdateCycle
from permissions.forms import district_choices

SEPARATORS = re.compile(r"[,，、;；\s]+")


def split_terms(text: str) -> list[str]:
    """``a, b、c`` -> ``["a", "b", "c"]`` (commas, 顿号, semicolons or spaces)."""
    return [term for term in SEPARATORS.split(text or "") if term]


class NeedForm(forms.Form):
    """提出需求: what, why, on what basis, which fields and districts, how fresh."""

    department = forms.ChoiceField(label=_("需求部门"))
    title = forms.CharField(label=_("需求名称"), max_length=200)
    description = forms.CharField(
        label=_("需求内容"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )
    purpose = forms.CharField(
        label=_("用途"), widget=forms.Textarea(attrs={"rows": 2}), max_length=4000
    )
    legal_basis = forms.CharField(
        label=_("依据"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=4000,
        help_text=_("法律法规、政策文件或“三定”职责。"),
    )
    fields = forms.CharField(
        label=_("所需字段"),
        required=False,
        max_length=2000,
        help_text=_("字段名或中文名称，用逗号或顿号分隔，如：积水深度、道路名称。"),
    )
    keywords = forms.CharField(
        label=_("关键字"),
        required=False,
        max_length=2000,
        help_text=_("用于查找可能的提供部门，用逗号或顿号分隔。"),
    )
    districts = forms.MultipleChoiceField(
        label=_("区划范围"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("不选表示全市。"),
    )
    update_cycle = forms.ChoiceField(label=_("更新周期"), choices=UpdateCycle.choices)

    def __init__(self, *args, user, departments, **kwargs):
        super().__init__(*args, **kwargs)
        self.departments = {str(d.pk): d for d in departments}
        self.fields["department"].choices = [(pk, d.name) for pk, d in self.departments.items()]
        self.fields["districts"].choices = district_choices(user)

    def service_values(self) -> dict:
        data = self.cleaned_data
        return {
            "department": self.departments[data["department"]],
            "title": data["title"],
            "description": data["description"],
            "purpose": data["purpose"],
            "legal_basis": data["legal_basis"],
            "update_cycle": data["update_cycle"],
            "fields": split_terms(data["fields"]),
            "keywords": split_terms(data["keywords"]),
            "districts": data["districts"],
        }


class RouteForm(forms.Form):
    provider = forms.ChoiceField(label=_("分派给"))
    candidates = forms.MultipleChoiceField(
        label=_("候选资源"), required=False, widget=forms.CheckboxSelectMultiple
    )
    note = forms.CharField(
        label=_("分派说明"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, departments, resources, **kwargs):
        super().__init__(*args, **kwargs)
        self.departments = {d.code: d for d in departments}
        self.fields["provider"].choices = [(d.code, d.name) for d in departments]
        self.fields["candidates"].choices = [
            (r.code, f"{r.name} ({r.code}, {r.provider.short_name})") for r in resources
        ]


class LinkForm(forms.Form):
    resource = forms.ChoiceField(label=_("关联资源"))
    note = forms.CharField(
        label=_("答复说明"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, resources, **kwargs):
        super().__init__(*args, **kwargs)
        self.resources = {r.code: r for r in resources}
        self.fields["resource"].choices = [(r.code, f"{r.name} ({r.code})") for r in resources]


class CommitForm(forms.Form):
    date = forms.DateField(label=_("承诺发布日期"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(
        label=_("答复说明"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class RefuseForm(forms.Form):
    basis = forms.CharField(label=_("不予提供依据"), widget=forms.Textarea(attrs={"rows": 2}))


class CloseForm(forms.Form):
    note = forms.CharField(
        label=_("关闭说明"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
