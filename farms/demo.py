"""Demo co-operatives, members, farms and harvest lots, built through the services.

`manage.py seed_demo` calls seed(context) after accounts.demo; running it again changes
nothing. Later apps find what was made in context["cooperatives"], ["farms"], ["lots"].
"""

import io
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.contrib.gis.geos import Point, Polygon
from django.core.files.base import ContentFile
from django.db import transaction
from PIL import Image, ImageDraw, ImageFont

from common.dates import business_today

from .catalogue import read_catalogue
from .choices import Certification, Grade, PesticideTestResult
from .models import Cooperative, CooperativeApplication, Farm, HarvestLot, Membership, Product
from .services.applications import ApplicationDetails, apply_for_cooperative
from .services.catalogue import load_product_catalogue
from .services.cooperatives import register_cooperative
from .services.farms import create_farm
from .services.lots import record_harvest_lot


@dataclass(frozen=True)
class DemoCooperative:
    name: str
    name_en: str
    province: str
    region: str
    longitude: float
    latitude: float
    manager: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class DemoFarm:
    farmer: str
    name: str
    # South-west corner and size in degrees (about 100 m per 0.001°).
    longitude: float
    latitude: float
    width: float
    height: float


@dataclass(frozen=True)
class DemoLot:
    lot_code: str
    farmer: str
    farm: str
    product: str
    days_ago: int
    quantity_kg: str
    grade: str
    certifications: tuple[str, ...] = ()
    test_result: str = PesticideTestResult.PASSED


COOPERATIVES = (
    DemoCooperative(
        "寿光市鲜丰蔬菜专业合作社",
        "Shouguang Xianfeng Vegetable Co-operative",
        "山东省",
        "潍坊市寿光市",
        118.791,
        36.857,
        "coop",
        ("farmer", "farmer2"),
    ),
    DemoCooperative(
        "寿光市红椒种植专业合作社",
        "Shouguang Red Pepper Co-operative",
        "山东省",
        "潍坊市寿光市",
        118.702,
        36.921,
        "coop2",
        ("farmer3",),
    ),
    DemoCooperative(
        "洛川县金果苹果专业合作社",
        "Luochuan Golden Fruit Apple Co-operative",
        "陕西省",
        "延安市洛川县",
        109.432,
        35.762,
        "apple.coop",
        ("apple.farmer",),
    ),
)

FARMS = (
    DemoFarm("farmer", "东地大棚", 118.7801, 36.8602, 0.0016, 0.0009),
    DemoFarm("farmer", "河西黄瓜棚", 118.7712, 36.8655, 0.0012, 0.0007),
    DemoFarm("farmer2", "北洼茄子地", 118.8023, 36.8721, 0.0020, 0.0011),
    DemoFarm("farmer3", "红椒一号棚", 118.7044, 36.9235, 0.0015, 0.0008),
    DemoFarm("apple.farmer", "塬上果园", 109.4286, 35.7591, 0.0040, 0.0030),
)

LOTS = (
    DemoLot("DEMO-SG-0001", "farmer", "东地大棚", "VEG-TOMATO", 1, "1200", Grade.FIRST,
            (Certification.GREEN_FOOD,)),
    DemoLot("DEMO-SG-0002", "farmer", "河西黄瓜棚", "VEG-CUCUMBER", 0, "860.5", Grade.SPECIAL,
            (Certification.GREEN_FOOD, Certification.GEOGRAPHICAL_INDICATION)),
    DemoLot("DEMO-SG-0003", "farmer2", "北洼茄子地", "VEG-EGGPLANT", 2, "640", Grade.FIRST),
    DemoLot("DEMO-SG-0004", "farmer3", "红椒一号棚", "VEG-SWEET-PEPPER", 1, "980", Grade.FIRST,
            (Certification.POLLUTION_FREE,)),
    DemoLot("DEMO-LC-0001", "apple.farmer", "塬上果园", "FRT-APPLE", 5, "5200", Grade.SPECIAL,
            (Certification.GEOGRAPHICAL_INDICATION, Certification.GREEN_FOOD)),
)  # fmt: skip


# A co-operative waiting for the platform admin's review (GB 32100 code, check character M).
DEMO_APPLICATION = {
    "name": "青州市绿源蔬菜专业合作社",
    "registration_code": "93370781MA3C4XK27M",
    "province": "山东省",
    "region": "潍坊市青州市",
    "contact_name": "何丽华",
    "contact_phone": "13800000020",
}


def _licence_image() -> ContentFile:
    """A drawn stand-in for a business licence photo: a framed page with a red seal."""
    image = Image.new("RGB", (900, 640), (250, 247, 238))
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 880, 620), outline=(170, 40, 40), width=10)
    draw.ellipse((640, 400, 820, 580), outline=(200, 30, 30), width=8)
    try:
        font = ImageFont.truetype("NotoSansCJK-Regular.ttc", 44)
        lines = ["营业执照", DEMO_APPLICATION["name"], DEMO_APPLICATION["registration_code"]]
    except OSError:
        font = ImageFont.load_default()
        lines = ["BUSINESS LICENCE (demo)", DEMO_APPLICATION["registration_code"]]
    for index, line in enumerate(lines):
        draw.text((70, 80 + index * 90), line, fill=(40, 40, 40), font=font)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return ContentFile(out.getvalue(), name="licence.png")


def _seed_application(applicant) -> None:
    """One application for the demo admin to review; once answered, it is not made again."""
    if CooperativeApplication.objects.filter(applicant=applicant).exists():
        return
    apply_for_cooperative(
        applicant=applicant,
        details=ApplicationDetails(**DEMO_APPLICATION, licence=_licence_image()),
    )


def _rectangle(farm: DemoFarm) -> Polygon:
    west, south = farm.longitude, farm.latitude
    east, north = west + farm.width, south + farm.height
    return Polygon(
        ((west, south), (east, south), (east, north), (west, north), (west, south)), srid=4326
    )


@transaction.atomic
def seed(context: dict) -> None:
    people = context["people"]
    load_product_catalogue(entries=read_catalogue())

    cooperatives = {}
    for spec in COOPERATIVES:
        manager = people[spec.manager]
        cooperative = Cooperative.objects.filter(name=spec.name).first()
        if cooperative is None:
            cooperative = register_cooperative(
                name=spec.name,
                name_en=spec.name_en,
                province=spec.province,
                region=spec.region,
                location=Point(spec.longitude, spec.latitude, srid=4326),
                manager=manager if not hasattr(manager, "membership") else None,
            )
        for username in spec.members:
            member = people[username]
            if not Membership.objects.filter(user=member).exists():
                # The demo shows co-operatives that have run for a while, so their people
                # are members already: no invitation (nor its live push, which a seed run
                # from inside a browser test's event loop could not send).
                Membership.objects.create(cooperative=cooperative, user=member)
        cooperatives[spec.name_en] = cooperative

    farms = {}
    for spec in FARMS:
        farmer = people[spec.farmer]
        farm = Farm.objects.filter(farmer=farmer, name=spec.name).first() or create_farm(
            created_by=farmer, farmer=farmer, name=spec.name, boundary=_rectangle(spec)
        )
        farms[(spec.farmer, spec.name)] = farm

    today = business_today()
    lots = {}
    for spec in LOTS:
        lot = HarvestLot.objects.filter(lot_code=spec.lot_code).first() or record_harvest_lot(
            recorded_by=people[spec.farmer],
            farm=farms[(spec.farmer, spec.farm)],
            product=Product.objects.get(code=spec.product),
            harvest_date=today - timedelta(days=spec.days_ago),
            quantity_kg=Decimal(spec.quantity_kg),
            grade=spec.grade,
            certifications=spec.certifications,
            pesticide_test_result=spec.test_result,
            tested_on=today - timedelta(days=spec.days_ago),
            lot_code=spec.lot_code,
        )
        lots[spec.lot_code] = lot

    _seed_application(people["new.coop"])

    context["cooperatives"] = cooperatives
    context["farms"] = farms
    context["lots"] = lots
