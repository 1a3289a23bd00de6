"""Which provider likely holds a need's data: a catalog search by its keywords and fields.

Every term (the need's keywords, its wanted field names or labels) is looked up in the
resources the router may see: name, keywords, summary and code, and the names and labels
of their field specs. A resource scores per term it matches (name or keyword 3, field name
or label 2, summary or code 1); providers are ranked by their best resource's score, ties
by the total. The search reads through the catalog's doors only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Q

from hub.catalog.models import DataResource, Department, FieldSpec, ResourceStatus
from hub.catalog.restricted import VIEW
from permissions.selectors import UserLike

MAX_TERMS = 20
NAME_SCORE, FIELD_SCORE, TEXT_SCORE = 3, 2, 1


@dataclass
class ResourceMatch:
    resource: DataResource
    score: int = 0
    terms: list[str] = field(default_factory=list)


@dataclass
class ProviderSuggestion:
    """A provider department and its matching resources, best first."""

    department: Department
    score: int
    resources: list[ResourceMatch]


def need_terms(*, keywords: list[str], fields: list[str], title: str = "") -> list[str]:
    """The distinct, non-empty search terms of a need (keywords first, then fields, then the
    title as a whole), at most ``MAX_TERMS``."""
    seen: dict[str, None] = {}
    for term in [*keywords, *fields, title]:
        term = str(term).strip()
        if term and term.lower() not in {t.lower() for t in seen}:
            seen[term] = None
    return list(seen)[:MAX_TERMS]


def _match(resource: DataResource, specs: list[FieldSpec], term: str) -> int:
    lowered = term.lower()
    keywords = [str(k).lower() for k in resource.keywords or []]
    if lowered in resource.name.lower() or any(lowered in k for k in keywords):
        return NAME_SCORE
    for spec in specs:
        if lowered == spec.name.lower() or lowered in spec.label.lower():
            return FIELD_SCORE
    if lowered in resource.summary.lower() or lowered in resource.code.lower():
        return TEXT_SCORE
    return 0


def suggest(*, user: UserLike, terms: list[str], limit: int = 5) -> list[ProviderSuggestion]:
    """Providers whose published resources (visible to ``user``) match ``terms``, best
    first; at most ``limit`` providers, each with its matching resources."""
    if not terms:
        return []
    text = Q()
    spec_q = Q()
    for term in terms:
        text |= (
            Q(name__icontains=term)
            | Q(keywords__icontains=term)
            | Q(summary__icontains=term)
            | Q(code__icontains=term)
        )
        spec_q |= Q(name__iexact=term) | Q(label__icontains=term)
    visible = DataResource.objects.restrict(user, VIEW).filter(status=ResourceStatus.PUBLISHED)
    specs = FieldSpec.objects.restrict(user, VIEW).filter(resource__in=visible).filter(spec_q)
    by_fields = set(specs.values_list("resource_id", flat=True))
    resources = list(
        visible.filter(text | Q(pk__in=by_fields)).select_related("provider").order_by("code")
    )
    all_specs: dict[int, list[FieldSpec]] = defaultdict(list)
    for spec in FieldSpec.objects.restrict(user, VIEW).filter(
        resource__in=[r.pk for r in resources]
    ):
        all_specs[spec.resource_id].append(spec)
    matches = []
    for resource in resources:
        match = ResourceMatch(resource=resource)
        for term in terms:
            score = _match(resource, all_specs[resource.pk], term)
            if score:
                match.score += score
                match.terms.append(term)
        if match.score:
            matches.append(match)
    providers: dict[int, list[ResourceMatch]] = defaultdict(list)
    for match in sorted(matches, key=lambda m: (-m.score, m.resource.code)):
        providers[match.resource.provider_id].append(match)
    ranked = sorted(
        providers.values(),
        key=lambda ms: (-ms[0].score, -sum(m.score for m in ms), ms[0].resource.provider.code),
    )
    return [
        ProviderSuggestion(department=ms[0].resource.provider, score=ms[0].score, resources=ms)
        for ms in ranked[:limit]
    ]
