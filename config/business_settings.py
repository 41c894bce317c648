"""The business's settings: when markets close, cold-chain ingest, dispatch, sign-up codes and
text messages. Imported by config/settings.py; every variable is listed in .env.example."""

import os
from pathlib import Path

from .env import env_bool, env_float, env_int, env_str, env_time_of_day

BASE_DIR = Path(__file__).resolve().parent.parent

# When wholesale markets close their business day (Asia/Shanghai, HH:MM on the day itself):
# the nightly end of day (config/celery.py) stops trades, pays sellers out and writes the
# statements and reports. A run before this time of day closes yesterday instead.
MARKET_END_OF_DAY = env_time_of_day("MARKET_END_OF_DAY", "23:30")

# Cold chain. A batch from a logger or gateway holds at most this many readings; a reading more
# than COLDCHAIN_MAX_CLOCK_SKEW_SECONDS in the future is refused (a logger's clock runs a little
# fast, a year ahead is a fault). MKT uses ΔH/R = activation energy / gas constant.
COLDCHAIN_MAX_BATCH_READINGS = env_int("COLDCHAIN_MAX_BATCH_READINGS", 10_000)
COLDCHAIN_MAX_CLOCK_SKEW_SECONDS = env_int("COLDCHAIN_MAX_CLOCK_SKEW_SECONDS", 300)
# Readings of a logger's watch (assignment) that ended longer ago than this are refused: a
# closed record is not rewritten. Within it they are stored, flagged late. An assignment may
# carry its own window.
COLDCHAIN_LATE_READING_HOURS = env_int("COLDCHAIN_LATE_READING_HOURS", 24)
COLDCHAIN_MKT_ACTIVATION_ENERGY_KJ_MOL = 83.144
# Years of readings (coldchain/reading_keeping.py): the readings table has one partition a
# month, made READINGS_PARTITIONS_AHEAD_MONTHS ahead; raw readings are kept READINGS_RAW_MONTHS
# whole months before the current one, then their month is dropped (its hourly rollups stay).
# At least 13: ingest accepts readings up to a year old, and their month must still be raw.
READINGS_PARTITIONS_AHEAD_MONTHS = env_int("READINGS_PARTITIONS_AHEAD_MONTHS", 3)
READINGS_RAW_MONTHS = max(env_int("READINGS_RAW_MONTHS", 13), 13)

# Instant delivery (delivery/). A courier has DELIVERY_OFFER_SECONDS to answer an offer before
# it moves to the next candidate; dispatch looks at the DELIVERY_CANDIDATES nearest couriers on
# shift within DELIVERY_SEARCH_RADIUS_M of the warehouse. A position implying more than
# DELIVERY_MAX_COURIER_SPEED_KMH since the last one is refused (a GPS jump or a forged fix);
# positions closer together than DELIVERY_POSITION_MIN_SECONDS are dropped (the phone throttles
# too). A delivery code allows DELIVERY_CODE_MAX_ATTEMPTS wrong tries, then only a photo.
DELIVERY_OFFER_SECONDS = env_int("DELIVERY_OFFER_SECONDS", 45)
DELIVERY_CANDIDATES = env_int("DELIVERY_CANDIDATES", 20)
DELIVERY_SEARCH_RADIUS_M = env_int("DELIVERY_SEARCH_RADIUS_M", 5_000)
DELIVERY_MAX_COURIER_SPEED_KMH = env_int("DELIVERY_MAX_COURIER_SPEED_KMH", 80)
DELIVERY_POSITION_MIN_SECONDS = env_int("DELIVERY_POSITION_MIN_SECONDS", 3)
DELIVERY_CODE_MAX_ATTEMPTS = env_int("DELIVERY_CODE_MAX_ATTEMPTS", 5)
# The travel model of dispatch, the warehouse page's late risk and the simulator
# (common.geo): a courier rides DELIVERY_COURIER_SPEED_KMH along streets that are
# DELIVERY_DETOUR_FACTOR times the straight line, and spends DELIVERY_HANDLING_MINUTES at each
# stop (loading at the warehouse, handing over at a door). A courier not yet known is reckoned
# DELIVERY_PICKUP_MINUTES from the warehouse.
DELIVERY_COURIER_SPEED_KMH = env_float("DELIVERY_COURIER_SPEED_KMH", 15.0)
DELIVERY_DETOUR_FACTOR = env_float("DELIVERY_DETOUR_FACTOR", 1.3)
DELIVERY_HANDLING_MINUTES = env_float("DELIVERY_HANDLING_MINUTES", 2.0)
DELIVERY_PICKUP_MINUTES = env_float("DELIVERY_PICKUP_MINUTES", 5.0)
# The couriers' speed is learned per warehouse and hour of the day from its finished tasks of
# the last DELIVERY_TRAVEL_HISTORY_DAYS (delivery.selectors.travel): the median once an hour
# (else the whole day) has DELIVERY_TRAVEL_MIN_SAMPLES, else the model above. Kept in the cache
# for DELIVERY_TRAVEL_CACHE_SECONDS. DELIVERY_LEARN_TRAVEL off: always the model above.
DELIVERY_LEARN_TRAVEL = env_bool("DELIVERY_LEARN_TRAVEL", True)
DELIVERY_TRAVEL_HISTORY_DAYS = env_int("DELIVERY_TRAVEL_HISTORY_DAYS", 14)
DELIVERY_TRAVEL_MIN_SAMPLES = env_int("DELIVERY_TRAVEL_MIN_SAMPLES", 20)
DELIVERY_TRAVEL_CACHE_SECONDS = env_int("DELIVERY_TRAVEL_CACHE_SECONDS", 600)
# Batching: at most DELIVERY_BATCH_MAX_ORDERS orders on one task, every door within
# DELIVERY_BATCH_MAX_ANGLE_DEGREES of the others seen from the warehouse (1: no batching).
DELIVERY_BATCH_MAX_ORDERS = env_int("DELIVERY_BATCH_MAX_ORDERS", 3)
DELIVERY_BATCH_MAX_ANGLE_DEGREES = env_float("DELIVERY_BATCH_MAX_ANGLE_DEGREES", 45.0)
# A courier is not offered a task again for this long after his last offer of it ended.
DELIVERY_REOFFER_AFTER_MINUTES = env_float("DELIVERY_REOFFER_AFTER_MINUTES", 5.0)
# Dispatch timed from packing (delivery.selectors.packing): with DELIVERY_DISPATCH_AHEAD a placed
# order looks for a courier so that he reaches the warehouse as packing is predicted to end (the
# warehouse's recent packing times; DELIVERY_PACKING_MINUTES while it has too few); without it,
# only once the order is packed.
DELIVERY_DISPATCH_AHEAD = env_bool("DELIVERY_DISPATCH_AHEAD", True)
DELIVERY_PACKING_MINUTES = env_float("DELIVERY_PACKING_MINUTES", 6.0)
# Dotted path of the class that ranks couriers for a task (delivery.ranking.Scorer; built with
# the DispatchRules); empty: delivery.route_scorer.RouteAwareScorer.
DELIVERY_SCORER = env_str("DELIVERY_SCORER", "")
# A courier sees a consumer's address and door for this long after her order is delivered (or
# cancelled), then no more: his task history keeps no customer's home.
DELIVERY_ADDRESS_VISIBLE_HOURS = env_int("DELIVERY_ADDRESS_VISIBLE_HOURS", 24)
DELIVERY_COURIER_FEE_PER_ORDER = env_str("DELIVERY_COURIER_FEE_PER_ORDER", "6.00")  # CNY
# A warehouse manager's invitation to a courier (its SMS link) is open this many days; she may
# send it again at most once every DELIVERY_COURIER_INVITATION_RESEND_SECONDS.
DELIVERY_COURIER_INVITATION_DAYS = env_int("DELIVERY_COURIER_INVITATION_DAYS", 7)
DELIVERY_COURIER_INVITATION_RESEND_SECONDS = env_int(
    "DELIVERY_COURIER_INVITATION_RESEND_SECONDS", 60
)
# Replenishment buys for the lead time (days until ordered goods arrive) plus the review period
# (days until the next plan).
DELIVERY_REPLENISHMENT_LEAD_DAYS = env_int("DELIVERY_REPLENISHMENT_LEAD_DAYS", 1)
DELIVERY_REPLENISHMENT_REVIEW_DAYS = env_int("DELIVERY_REPLENISHMENT_REVIEW_DAYS", 1)
# The forecast's small matrices run 3-4x faster on one BLAS thread than on a pool fighting the
# web and worker processes for 2 cores; set before numpy is first imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

# Text messages (accounts.sms): SMS_BACKEND is the dotted path of the class that sends them;
# the default writes each one to SMS_OUTBOX_PATH instead of a phone (development and demo).
SMS_BACKEND = env_str("SMS_BACKEND", "accounts.sms.outbox.OutboxBackend")
SMS_OUTBOX_PATH = Path(env_str("SMS_OUTBOX_PATH", str(BASE_DIR / "var" / "sms" / "outbox.log")))
# Provider adapters (accounts/sms/aliyun.py, accounts/sms/tencent.py): a provider sends only
# templates it approved, so each message kind ("code", "account_exists", …) names its template
# there: "kind=template-id,kind=template-id".
SMS_ALIYUN_ENDPOINT = env_str("SMS_ALIYUN_ENDPOINT", "https://dysmsapi.aliyuncs.com/")
SMS_ALIYUN_ACCESS_KEY_ID = env_str("SMS_ALIYUN_ACCESS_KEY_ID", "")
SMS_ALIYUN_ACCESS_KEY_SECRET = env_str("SMS_ALIYUN_ACCESS_KEY_SECRET", "")
SMS_ALIYUN_SIGN_NAME = env_str("SMS_ALIYUN_SIGN_NAME", "")
SMS_ALIYUN_TEMPLATES = env_str("SMS_ALIYUN_TEMPLATES", "")
SMS_TENCENT_ENDPOINT = env_str("SMS_TENCENT_ENDPOINT", "https://sms.tencentcloudapi.com/")
SMS_TENCENT_REGION = env_str("SMS_TENCENT_REGION", "ap-guangzhou")
SMS_TENCENT_SECRET_ID = env_str("SMS_TENCENT_SECRET_ID", "")
SMS_TENCENT_SECRET_KEY = env_str("SMS_TENCENT_SECRET_KEY", "")
SMS_TENCENT_SDK_APP_ID = env_str("SMS_TENCENT_SDK_APP_ID", "")
SMS_TENCENT_SIGN_NAME = env_str("SMS_TENCENT_SIGN_NAME", "")
SMS_TENCENT_TEMPLATES = env_str("SMS_TENCENT_TEMPLATES", "")
SMS_PROVIDER_TIMEOUT_SECONDS = env_float("SMS_PROVIDER_TIMEOUT_SECONDS", 5.0)

# One-time codes (accounts/services/codes.py).
SMS_CODE_TTL_SECONDS = env_int("SMS_CODE_TTL_SECONDS", 300)
SMS_CODE_MAX_TRIES = env_int("SMS_CODE_MAX_TRIES", 5)
SMS_CODE_RESEND_SECONDS = env_int("SMS_CODE_RESEND_SECONDS", 60)
SMS_CODES_PER_NUMBER_PER_DAY = env_int("SMS_CODES_PER_NUMBER_PER_DAY", 10)
SMS_CODES_PER_ADDRESS_PER_HOUR = env_int("SMS_CODES_PER_ADDRESS_PER_HOUR", 20)
# A consumer or buyer is asked to call back about one order at most once in this many minutes
# (accounts.services.callbacks), however often a courier or seller taps the button.
CALLBACK_REQUEST_INTERVAL_MINUTES = env_int("CALLBACK_REQUEST_INTERVAL_MINUTES", 10)
