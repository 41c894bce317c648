"""Tencent Cloud SMS: SendSms, API 3.0 version 2021-01-11, signed with TC3-HMAC-SHA256.

The message goes as an approved template (SMS_TENCENT_TEMPLATES maps our kinds to TemplateId)
with our parameters, in order, as TemplateParamSet. Settings: SMS_TENCENT_ENDPOINT,
SMS_TENCENT_REGION, SMS_TENCENT_SECRET_ID, SMS_TENCENT_SECRET_KEY, SMS_TENCENT_SDK_APP_ID,
SMS_TENCENT_SIGN_NAME, SMS_TENCENT_TEMPLATES, SMS_PROVIDER_TIMEOUT_SECONDS.
"""

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

from django.conf import settings

from . import SmsNotSent
from .provider import post_json, template_for

SERVICE = "sms"
ACTION = "SendSms"
API_VERSION = "2021-01-11"
CONTENT_TYPE = "application/json; charset=utf-8"
SIGNED_HEADERS = "content-type;host;x-tc-action"


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def authorization(
    *, secret_id: str, secret_key: str, host: str, payload: str, timestamp: int
) -> str:
    """The Authorization header of TC3-HMAC-SHA256 for one POST of `payload` to `host`."""
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    canonical_request = "\n".join(
        [
            "POST",
            "/",
            "",
            f"content-type:{CONTENT_TYPE}\nhost:{host}\nx-tc-action:{ACTION.lower()}\n",
            SIGNED_HEADERS,
            hashlib.sha256(payload.encode()).hexdigest(),
        ]
    )
    scope = f"{date}/{SERVICE}/tc3_request"
    string_to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            str(timestamp),
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    signing_key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), date), SERVICE), "tc3_request")
    signature = hmac.new(signing_key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, "
        f"SignedHeaders={SIGNED_HEADERS}, Signature={signature}"
    )


class TencentSmsBackend:
    def send(
        self, *, phone: str, text: str, template: str = "", params: dict[str, str] | None = None
    ) -> None:
        payload = json.dumps(
            {
                "PhoneNumberSet": [phone],
                "SmsSdkAppId": settings.SMS_TENCENT_SDK_APP_ID,
                "SignName": settings.SMS_TENCENT_SIGN_NAME,
                "TemplateId": template_for(
                    "SMS_TENCENT_TEMPLATES", settings.SMS_TENCENT_TEMPLATES, template
                ),
                "TemplateParamSet": [str(value) for value in (params or {}).values()],
            },
            ensure_ascii=False,
        )
        host = urlsplit(settings.SMS_TENCENT_ENDPOINT).netloc
        timestamp = int(time.time())
        headers = {
            "Authorization": authorization(
                secret_id=settings.SMS_TENCENT_SECRET_ID,
                secret_key=settings.SMS_TENCENT_SECRET_KEY,
                host=host,
                payload=payload,
                timestamp=timestamp,
            ),
            "Content-Type": CONTENT_TYPE,
            "Host": host,
            "X-TC-Action": ACTION,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Version": API_VERSION,
            "X-TC-Region": settings.SMS_TENCENT_REGION,
        }
        answer = (
            post_json(
                settings.SMS_TENCENT_ENDPOINT,
                body=payload.encode(),
                headers=headers,
                timeout=settings.SMS_PROVIDER_TIMEOUT_SECONDS,
            ).get("Response")
            or {}
        )
        if "Error" in answer:
            raise SmsNotSent(
                f"tencent: {answer['Error'].get('Code')}: {answer['Error'].get('Message')}"
            )
        statuses = answer.get("SendStatusSet") or []
        if not statuses or statuses[0].get("Code") != "Ok":
            first = statuses[0] if statuses else {}
            raise SmsNotSent(f"tencent: {first.get('Code')}: {first.get('Message')}")
