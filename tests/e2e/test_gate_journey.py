"""The market gate on a phone (360 × 640): the clerk points the camera at a batch's
certificate QR, sees the farm, the co-operative and the quantity certified, and checks the
batch in; at a market that trades only checked-in lots, the counter then accepts a trade of
it. A positive rapid test of a sample holds the lot: the supervisor is alerted and the
counter refuses the next trade with the reason.

The camera is Chromium's fake capture device fed a Y4M video of the certificate's QR (made
here with segno), so the page's real scanner (zxing-wasm) decodes a real camera stream.
"""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
import segno
from django.conf import settings as django_settings
from PIL import Image
from playwright.sync_api import expect, sync_playwright

from accounts.choices import Role
from accounts.models import Notification
from common.dates import business_today
from farms.models import Product
from marketplace.markets import services as markets
from marketplace.models import CommissionRule, Trade
from settlement.funding import top_up
from tests.accounts.factories import UserFactory
from tests.e2e.conftest import CHROMIUM, fits_the_screen
from tests.farms.factories import FarmFactory, HarvestLotFactory, MembershipFactory
from traceability.choices import CertificateBasis, TraceCodeKind
from traceability.codes import trace_url
from traceability.models import Certificate, TraceCode
from traceability.models.gate import EntryOutcome, MarketEntry

pytestmark = pytest.mark.django_db(transaction=True)

CODE = "GATE5CAN0QR1"  # the certificate's trace code, printed in the QR the camera sees
BUYER_CARD = "6200000000000017"
SELLER_CARD = "6201000000000029"
CABBAGE = "VEG-CHINESE-CABBAGE"
FRAME = (640, 480)


def write_qr_video(path, text: str, frames: int = 30) -> None:
    """A Y4M video (4:2:0, grey) of the QR on white, as Chromium's fake camera plays it."""
    qr = segno.make(text, error="m")
    side = 360
    image = Image.new("L", FRAME, 255)
    png = io.BytesIO()
    qr.save(png, kind="png", scale=10, border=4)
    png.seek(0)
    code = Image.open(png).convert("L").resize((side, side), Image.NEAREST)
    image.paste(code, ((FRAME[0] - side) // 2, (FRAME[1] - side) // 2))
    luma = image.tobytes()
    chroma = bytes([128]) * (FRAME[0] * FRAME[1] // 4)
    with open(path, "wb") as video:
        video.write(f"YUV4MPEG2 W{FRAME[0]} H{FRAME[1]} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _frame in range(frames):
            video.write(b"FRAME\n" + luma + chroma + chroma)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Chromium whose camera shows the certificate's QR (replaces tests/e2e's `browser`)."""
    video = tmp_path_factory.mktemp("camera") / "certificate-qr.y4m"
    write_qr_video(video, trace_url(code=CODE))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={video}",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def gate_world(catalogue):
    """Xinfadi, trading only lots checked in at its gate: a gate clerk, a supervisor at the
    counter, a buyer with ¥5,000 on the card, and a farmer's cabbage lot with a certificate
    whose code is CODE."""
    market = markets.create_market(code="xinfadi", name="北京新发地", city="北京")
    market.entry_check_required = True
    market.save(update_fields=["entry_check_required"])
    clerk = UserFactory(role=Role.MARKET_OPERATOR, display_name="赵门岗")
    markets.add_staff(market=market, user=clerk)
    supervisor = UserFactory(role=Role.MARKET_OPERATOR, display_name="陈主管")
    markets.add_staff(market=market, user=supervisor, is_supervisor=True)
    CommissionRule.objects.create(
        market=market, buyer_pct=Decimal("1"), seller_pct=Decimal("2"), minimum_fee=Decimal("1")
    )
    membership = MembershipFactory()
    farmer = membership.user
    farm = FarmFactory(farmer=farmer, cooperative=membership.cooperative, name="东地大棚")
    lot = HarvestLotFactory(
        farm=farm, product=Product.objects.get(code=CABBAGE), lot_code="SG-2026-0412",
        quantity_kg=Decimal("1500"),
    )  # fmt: skip
    Certificate.objects.create(
        trace_code=TraceCode.objects.create(code=CODE, lot=lot, kind=TraceCodeKind.CERTIFICATE),
        lot=lot,
        cooperative=farm.cooperative,
        quantity_kg=Decimal("1200"),
        product_name="大白菜",
        origin="山东省潍坊市寿光市",
        producer_name=farm.cooperative.name,
        producer_contact="0536-5212345",
        issued_on=business_today() - timedelta(days=1),
        no_banned_substances=True,
        residues_within_limits=True,
        truthful=True,
        basis=CertificateBasis.SELF_COMMITMENT,
        issued_by=farmer,
    )
    markets.register_trader(
        market=market, kind="seller", name="王秀英", card_number=SELLER_CARD, user=farmer
    )
    buyer = markets.register_trader(
        market=market, kind="buyer", name="李记餐饮", card_number=BUYER_CARD,
        user=UserFactory(role=Role.BUYER),
    )  # fmt: skip
    top_up(
        account=markets.settlement_account(buyer),
        amount=Decimal("5000.00"),
        method="cash",
        by=supervisor,
        idempotency_key="gate-journey-funding",
    )
    return {"market": market, "clerk": clerk, "supervisor": supervisor, "lot": lot}


def record_trade(counter, base: str, key_weight: str):
    """The supervisor fills the counter form for the lot and asks for the confirmation."""
    counter.goto(f"{base}/market/counter/")
    counter.fill("#id_buyer_card", BUYER_CARD)
    counter.fill("#id_seller_card", SELLER_CARD)
    counter.fill("#product-filter", "大白菜")
    counter.fill("#id_lot", "SG-2026-0412")
    counter.fill("#id_gross_kg", key_weight)
    counter.fill("#id_tare_kg", "2")
    counter.fill("#id_unit_price", "1.60")
    counter.click("[data-testid=counter-form] button[type=submit]")


def test_clerk_scans_a_certificate_in_the_counter_trades_it_until_a_positive_test_holds_it(
    phone_as, live_server, output_dir, gate_world
):
    base = live_server.url
    lot = gate_world["lot"]

    # The gate clerk scans the certificate's QR with the phone's camera.
    clerk = phone_as(gate_world["clerk"])
    clerk.context.grant_permissions(["camera"], origin=base)
    clerk.goto(f"{base}/trace/gate/")
    assert fits_the_screen(clerk)
    clerk.click("[data-testid=scan]")
    clerk.wait_for_url(f"{base}/trace/gate/?code=*")
    batch = clerk.locator("[data-testid=batch]")
    expect(batch).to_contain_text(CODE)
    expect(batch.locator("[data-testid=batch-farm]")).to_have_text("东地大棚")
    expect(batch.locator("[data-testid=batch-cooperative]")).to_have_text(lot.farm.cooperative.name)
    expect(batch.locator("[data-testid=batch-lot]")).to_contain_text("SG-2026-0412")
    expect(batch.locator("[data-testid=batch-quantity]")).to_have_text("1200 kg")
    assert fits_the_screen(clerk)
    clerk.screenshot(path=output_dir / "1-gate-scanned.png", full_page=True)

    # The vehicle, the weight and the time (now, prefilled); the batch is admitted.
    clerk.fill("#id_vehicle_plate", "鲁G·A1234")
    clerk.fill("#id_gross_weight_kg", "1260")
    clerk.click("[data-testid=check-in-form] button[type=submit]")
    clerk.wait_for_url(f"{base}/trace/gate/entries/*/")
    expect(clerk.locator("[data-testid=outcome]")).to_have_text("Admitted")
    entry = MarketEntry.objects.get()
    assert entry.certificate.trace_code.code == CODE
    assert entry.vehicle_plate == "鲁GA1234"
    assert entry.gross_weight_kg == Decimal("1260.000")
    assert fits_the_screen(clerk)
    clerk.screenshot(path=output_dir / "2-gate-admitted.png", full_page=True)
    clerk.click("text=Market receipt")
    expect(clerk.locator("[data-testid=receipt-qr]")).to_be_visible()
    expect(clerk.locator("[data-testid=receipt]")).to_contain_text("鲁GA1234")
    assert fits_the_screen(clerk)
    clerk.screenshot(path=output_dir / "2b-market-receipt.png", full_page=True)
    clerk.go_back()

    # At the counter the checked-in lot trades.
    counter = phone_as(gate_world["supervisor"])
    record_trade(counter, base, "102")
    expect(counter.locator("[data-testid=trade-confirmation]")).to_be_visible()
    counter.click("[data-testid=confirm-trade]")
    counter.wait_for_url(f"{base}/market/trades/*/receipt/")
    assert Trade.objects.get().lot == lot

    # The clerk rapid-tests a sample: 64 % inhibition is positive, and the lot is held.
    clerk.select_option("#id_method", "enzyme_inhibition")
    clerk.fill("#id_sample", "1 kg from 3 crates")
    clerk.fill("#id_inhibition_pct", "64")
    clerk.click("[data-testid=rapid-test-form] button[type=submit]")
    expect(clerk.locator("[data-testid=outcome]")).to_have_text("Held: rapid test positive")
    expect(clerk.locator("[data-testid=holds]")).to_contain_text("Rapid test positive")
    entry.refresh_from_db()
    assert entry.outcome == EntryOutcome.HELD
    assert fits_the_screen(clerk)
    clerk.screenshot(path=output_dir / "3-gate-held.png", full_page=True)
    alert = Notification.objects.get(user=gate_world["supervisor"], kind="gate.rapid_test_positive")
    assert "SG-2026-0412" in alert.title

    # The counter now refuses the lot, and says why.
    record_trade(counter, base, "80")
    refusal = counter.locator("[data-testid=counter-form]")
    expect(refusal).to_contain_text("Rapid test positive at 北京新发地")
    assert Trade.objects.count() == 1
    counter.screenshot(path=output_dir / "4-counter-refuses.png", full_page=True)
    assert django_settings.SITE_URL  # the QR the camera read carried the platform's own host
