"""Demo people: one or more per role, with sign-ins printed by `manage.py seed_demo`."""

from dataclasses import dataclass

from django.db import transaction

from common.units import WeightUnit

from .choices import Role
from .models import Consent, User
from .privacy import POLICY_VERSION

DEMO_PASSWORD = "freshchain"  # demo only; seed_demo refuses to run with DEBUG off


@dataclass(frozen=True)
class DemoPerson:
    username: str
    display_name: str
    phone: str
    role: str
    note: str
    weight_unit: str = WeightUnit.KG


DEMO_PEOPLE = (
    DemoPerson("admin", "平台管理员", "13900000001", Role.ADMIN, "platform admin"),
    DemoPerson("farmer", "王秀英", "13800000001", Role.FARMER, "Shouguang vegetable co-op"),
    DemoPerson("farmer2", "李建国", "13800000002", Role.FARMER, "Shouguang vegetable co-op"),
    DemoPerson("farmer3", "赵春梅", "13800000003", Role.FARMER, "Shouguang pepper co-op"),
    DemoPerson("apple.farmer", "刘长安", "13800000004", Role.FARMER, "Luochuan apple co-op"),
    DemoPerson(
        "coop", "张伟", "13800000010", Role.COOPERATIVE_MANAGER, "Shouguang vegetable co-op"
    ),
    DemoPerson("coop2", "孙丽", "13800000011", Role.COOPERATIVE_MANAGER, "Shouguang pepper co-op"),
    DemoPerson(
        "apple.coop", "马文", "13800000012", Role.COOPERATIVE_MANAGER, "Luochuan apple co-op"
    ),
    DemoPerson("operator", "陈静", "13700000001", Role.MARKET_OPERATOR, "Xinfadi market, Beijing"),
    DemoPerson(
        "cashier", "刘芳", "13700000002", Role.MARKET_OPERATOR, "Xinfadi counter, no approvals"
    ),
    DemoPerson("buyer", "鲜味餐厅", "13600000001", Role.BUYER, "restaurant, Chaoyang"),
    # The supermarket reads weights and prices in 斤, as its customers do.
    DemoPerson(
        "buyer2", "邻里超市", "13600000002", Role.BUYER, "retailer, Haidian", WeightUnit.JIN
    ),
    DemoPerson(
        "buyer3", "老街坊饺子馆", "13600000003", Role.BUYER, "restaurant, card asked at Xinfadi"
    ),
    DemoPerson(
        "warehouse", "周敏", "13500000001", Role.WAREHOUSE_MANAGER, "front warehouse, Chaoyang"
    ),
    DemoPerson(
        "warehouse2", "高峰", "13500000002", Role.WAREHOUSE_MANAGER, "front warehouse, Haidian"
    ),
    DemoPerson("courier", "吴强", "13300000001", Role.COURIER, "courier, Chaoyang"),
    DemoPerson("courier2", "郑磊", "13300000002", Role.COURIER, "courier, Chaoyang"),
    DemoPerson("courier3", "冯涛", "13300000003", Role.COURIER, "courier, Haidian"),
    DemoPerson(
        "controller", "黄娟", "13200000001", Role.COLDCHAIN_CONTROLLER, "cold-chain control tower"
    ),
    DemoPerson(
        "regulator", "市场监管局", "13000000001", Role.REGULATOR, "market supervision, Beijing"
    ),
    DemoPerson("consumer", "林小姐", "13100000001", Role.CONSUMER, "consumer, Chaoyang"),
    DemoPerson("new.coop", "何丽华", "13800000020", Role.CONSUMER, "applied to register a co-op"),
)


@transaction.atomic
def seed(context: dict) -> None:
    """Create or refresh the demo people; context["people"] holds them by username."""
    people = {}
    for person in DEMO_PEOPLE:
        user, _ = User.objects.update_or_create(
            username=person.username,
            defaults={
                "display_name": person.display_name,
                "phone": f"+86{person.phone}",
                "role": person.role,
                "is_staff": person.role == Role.ADMIN,
                "is_superuser": person.role == Role.ADMIN,
                # The README's demo sign-ins work straight away, even after a demo manager
                # issued one of them a password.
                "must_change_password": False,
                # A demo account a visitor deactivated on the admin site signs in again.
                "is_active": True,
                "weight_unit": person.weight_unit,
            },
        )
        if not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        # Everyone on the platform has agreed to the privacy policy in force (PIPL art. 14).
        Consent.objects.get_or_create(user=user, policy_version=POLICY_VERSION)
        people[person.username] = user
    context["people"] = people


def sign_in_lines() -> list[str]:
    lines = [f"{'role':<22} {'username':<14} {'phone':<13} name / where"]
    lines += [
        f"{Role(p.role).label!s:<22} {p.username:<14} {p.phone:<13} {p.display_name} / {p.note}"
        for p in DEMO_PEOPLE
    ]
    lines.append(f"password for every demo account: {DEMO_PASSWORD}")
    return lines
