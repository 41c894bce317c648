import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from farms.catalogue import CATALOGUE_FILE, read_catalogue
from farms.choices import Grade, ProductCategory
from farms.exceptions import InvalidCatalogue
from farms.models import Product, StorageProfile
from farms.services.catalogue import load_product_catalogue

REQUIRED_PRODUCTS = {
    "黄瓜", "番茄", "生菜", "菠菜", "大白菜", "小白菜", "芹菜", "甜椒", "茄子", "马铃薯",
    "胡萝卜", "洋葱", "大蒜", "大葱", "西兰花", "花椰菜", "双孢菇", "香菇", "苹果", "梨",
    "桃", "葡萄", "草莓", "香蕉", "橙", "柑橘", "柠檬", "西瓜", "哈密瓜", "猕猴桃", "芒果",
    "荔枝", "蓝莓", "樱桃",
}  # fmt: skip
CHILLING_SENSITIVE = {
    "FRT-BANANA", "VEG-CUCUMBER", "VEG-SWEET-PEPPER", "VEG-EGGPLANT", "FRT-ORANGE",
    "FRT-MANDARIN", "FRT-LEMON", "FRT-MANGO", "VEG-TOMATO", "VEG-POTATO", "FRT-WATERMELON",
    "FRT-HAMI-MELON", "FRT-CANTALOUPE",
}  # fmt: skip


def test_catalogue_has_at_least_30_products_with_common_chinese_produce(catalogue):
    names = {product.name_zh for product in catalogue.values()}

    assert len(catalogue) >= 30
    assert names >= REQUIRED_PRODUCTS


def test_every_storage_profile_has_a_temperature_band_and_a_source_for_every_value(catalogue):
    for code, product in catalogue.items():
        profile = product.storage_profile
        assert profile.min_temperature_c < profile.max_temperature_c, code
        assert profile.min_humidity_pct <= profile.max_humidity_pct, code
        assert profile.missing_sources() == [], code
        assert profile.is_within_storage_band(profile.reference_temperature_c), code
        for name in StorageProfile.VALUE_FIELDS:
            if getattr(profile, name) is not None:
                assert profile.sources[name].strip(), (code, name)


def test_chilling_sensitive_products_carry_their_lowest_safe_temperature(catalogue):
    sensitive = {code for code, p in catalogue.items() if p.storage_profile.is_chilling_sensitive}

    assert sensitive >= CHILLING_SENSITIVE
    assert catalogue["FRT-BANANA"].storage_profile.lowest_safe_temperature_c == Decimal("11.5")
    assert catalogue["VEG-CUCUMBER"].storage_profile.lowest_safe_temperature_c == Decimal("7.0")
    assert not catalogue["VEG-SPINACH"].storage_profile.is_chilling_sensitive


def test_values_from_the_shared_data_file_cite_their_usda_table(catalogue):
    strawberry = catalogue["FRT-STRAWBERRY"].storage_profile
    apple = catalogue["FRT-APPLE"].storage_profile

    assert strawberry.min_temperature_c == Decimal("0.0")
    assert strawberry.nominal_shelf_life_days == 7
    assert strawberry.sources["nominal_shelf_life_days"].startswith("USDA AH-66 Table 20.1")
    assert (apple.min_temperature_c, apple.max_temperature_c) == (Decimal("-1.0"), Decimal("4.0"))
    assert (
        catalogue["FRT-BANANA"]
        .storage_profile.sources["lowest_safe_temperature_c"]
        .startswith("USDA AH-66 Table 20.5")
    )


def test_catalogue_codes_categories_and_grades_are_valid(catalogue):
    for code, product in catalogue.items():
        product.full_clean()
        assert product.category in ProductCategory.values
        assert set(product.grade_scale) <= set(Grade.values), code
        assert product.unit == "kg"


def test_loading_the_catalogue_again_changes_nothing(catalogue):
    before = {p.code: (p.pk, p.storage_profile.pk) for p in catalogue.values()}
    out = StringIO()

    call_command("load_catalogue", stdout=out)

    after = {
        p.code: (p.pk, p.storage_profile.pk)
        for p in Product.objects.select_related("storage_profile")
    }
    assert after == before
    assert f"0 products created, {len(before)} updated" in out.getvalue()


def test_a_value_without_a_source_loads_nothing(db):
    entries = read_catalogue()
    del entries[-1]["storage"]["sources"]["min_temperature_c"]

    with pytest.raises(InvalidCatalogue) as refusal:
        load_product_catalogue(entries=entries)

    assert "min_temperature_c" in str(refusal.value)
    assert not Product.objects.exists()


def test_load_catalogue_command_reports_a_bad_file(tmp_path, db):
    bad = tmp_path / "catalogue.json"
    entries = read_catalogue()[:1]
    entries[0]["storage"]["max_temperature_c"] = "hot"
    bad.write_text(json.dumps({"products": entries}), encoding="utf-8")

    with pytest.raises(CommandError, match="max_temperature_c"):
        call_command("load_catalogue", file=bad, stdout=StringIO())

    assert not Product.objects.exists()


def test_catalogue_file_is_shipped_with_the_app():
    assert CATALOGUE_FILE.name == "catalogue.json"
    assert CATALOGUE_FILE.parent.name == "fixtures"
    assert len(read_catalogue()) >= 30
