"""Baselines: the same JSON as the API, built with plain Django and `.values()`.

They do the same work the API view must do (token check, filters, count, one page) and
nothing more, so the ratio shows what DRF, its serializers and filters cost.
"""

from django.http import HttpResponseForbidden, JsonResponse
from knox.auth import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from farms.choices import ProductCategory
from farms.models import Product, StorageProfile

PRODUCT_FIELDS = ("code", "name_zh", "name_en", "category", "unit", "grade_scale", "is_active")
PROFILE_FIELDS = StorageProfile.VALUE_FIELDS
CATEGORY_LABELS = dict(ProductCategory.choices)


def _page_url(request, page: int) -> str:
    query = request.GET.copy()
    query["page"] = page
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


def _as_text(value):
    return None if value is None else str(value)


def plain_product_list(request):
    key = request.headers.get("Authorization", "").removeprefix("Token ")
    try:
        TokenAuthentication().authenticate_credentials(key.encode())
    except AuthenticationFailed:
        return HttpResponseForbidden()
    products = Product.objects.filter(is_active=True).order_by("category", "code")
    if category := request.GET.get("category"):
        products = products.filter(category=category)
    if (chilling := request.GET.get("chilling_sensitive")) is not None:
        products = products.filter(
            storage_profile__lowest_safe_temperature_c__isnull=chilling != "true"
        )
    page_size = int(request.GET.get("page_size", 50))
    page = int(request.GET.get("page", 1))
    count = products.count()
    rows = products.values(
        *PRODUCT_FIELDS, *(f"storage_profile__{field}" for field in PROFILE_FIELDS)
    )[(page - 1) * page_size : page * page_size]
    results = []
    for row in rows:
        profile = {field: row.pop(f"storage_profile__{field}") for field in PROFILE_FIELDS}
        for field in StorageProfile.VALUE_FIELDS:
            if field not in {"nominal_shelf_life_days", "shelf_life_model"}:
                profile[field] = _as_text(profile[field])
        profile["is_chilling_sensitive"] = profile["lowest_safe_temperature_c"] is not None
        results.append(
            {
                **{f: row[f] for f in ("code", "name_zh", "name_en", "category")},
                "category_label": str(CATEGORY_LABELS[row["category"]]),
                **{f: row[f] for f in ("unit", "grade_scale", "is_active")},
                "storage_profile": profile,
            }
        )
    return JsonResponse(
        {
            "count": count,
            "next": _page_url(request, page + 1) if page * page_size < count else None,
            "previous": _page_url(request, page - 1) if page > 1 else None,
            "results": results,
        },
        json_dumps_params={"ensure_ascii": False},
    )
