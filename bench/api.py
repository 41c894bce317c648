"""bench/api: the product catalogue list through DRF beside a plain Django view.

Both are served by the same uvicorn process over real HTTP and loaded by wrk for the same
time; the plain view returns the same JSON (checked before timing) from `.values()`.
Target: drf_rps / plain_rps >= 0.5.
"""

import os
import sys
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

import httpx  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from accounts.choices import Role  # noqa: E402
from accounts.models import User  # noqa: E402
from accounts.services import issue_api_token  # noqa: E402
from bench.support import asgi_server, report, wrk  # noqa: E402
from farms.catalogue import read_catalogue  # noqa: E402
from farms.models import Product, StorageProfile  # noqa: E402
from farms.services.catalogue import load_product_catalogue  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
SYNTHETIC_PRODUCTS = 3000  # beyond the real catalogue, so every filtered page is full
QUERY = "?category=leafy_vegetable&chilling_sensitive=false&page_size=50"


def build_catalogue() -> None:
    load_product_catalogue(entries=read_catalogue())
    real = list(
        Product.objects.exclude(code__startswith="BENCH-").select_related("storage_profile")
    )
    missing = SYNTHETIC_PRODUCTS - Product.objects.filter(code__startswith="BENCH-").count()
    if missing <= 0:
        return
    with transaction.atomic():
        start = SYNTHETIC_PRODUCTS - missing
        for n in range(start, SYNTHETIC_PRODUCTS):
            model = real[n % len(real)]
            product = Product.objects.create(
                code=f"BENCH-{model.code.split('-', 1)[1]}-{n}",
                name_zh=f"{model.name_zh}{n}",
                name_en=f"{model.name_en} {n}",
                category=model.category,
                grade_scale=model.grade_scale,
            )
            profile = model.storage_profile
            StorageProfile.objects.create(
                product=product,
                **{f: getattr(profile, f) for f in (*StorageProfile.VALUE_FIELDS, "sources")},
            )


def main() -> None:
    build_catalogue()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # fresh statistics, as autovacuum would give a live site
    user, _ = User.objects.get_or_create(username="bench.buyer", defaults={"role": Role.BUYER})
    _token, key = issue_api_token(user=user)
    headers = [f"Authorization: Token {key}"]
    total = Product.objects.filter(is_active=True).count()
    print(f"catalogue: {total} active products; query {QUERY}; {SECONDS} s per endpoint")

    with asgi_server() as base:
        drf_url = f"{base}/api/products/{QUERY}"
        plain_url = f"{base}/bench/plain/products/{QUERY}"
        auth = {"Authorization": f"Token {key}"}
        drf_body = httpx.get(drf_url, headers=auth).raise_for_status().json()
        plain_body = httpx.get(plain_url, headers=auth).raise_for_status().json()
        # Same page of products; next/previous differ only in their own path.
        same = all(drf_body[k] == plain_body[k] for k in ("count", "results"))
        if not same or bool(drf_body["next"]) != bool(plain_body["next"]):
            raise SystemExit("the plain view does not return the same JSON as the API")
        print(f"both return the same {len(drf_body['results'])} of {drf_body['count']} products")

        drf = wrk(drf_url, seconds=SECONDS, headers=headers)
        plain = wrk(plain_url, seconds=SECONDS, headers=headers)

    ratio = drf["rps"] / plain["rps"]
    print(f"DRF   {drf['rps']:8.1f} requests/s")
    print(f"plain {plain['rps']:8.1f} requests/s")
    print(f"ratio {ratio:.2f} (target >= 0.5)")
    report(
        "api", drf_rps=round(drf["rps"], 1), plain_rps=round(plain["rps"], 1), ratio=round(ratio, 3)
    )


if __name__ == "__main__":
    main()
