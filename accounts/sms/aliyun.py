"""Aliyun (Alibaba Cloud) SMS: Dysmsapi SendSms, version 2017-05-25, RPC style with the
signature method HMAC-SHA1 (signature version 1.0).

The message goes as an approved template (SMS_ALIYUN_TEMPLATES maps our kinds to TemplateCode)
with our parameters as TemplateParam JSON: `{"code": "123456"}` for a code. Settings:
SMS_ALIYUN_ENDPOINT, SMS_ALIYUN_ACCESS_KEY_ID, SMS_ALIYUN_ACCESS_KEY_SECRET,
SMS_ALIYUN_SIGN_NAME, SMS_ALIYUN_TEMPLATES, SMS_PROVIDER_TIMEOUT_SECONDS.
"""

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

from django.conf import settings

from . import SmsNotSent
from .provider import post_json, template_for

API_VERSION = "2017-05-25"


def percent_encode(value: str) -> str:
    """RFC 3986 encoding as the signature wants it: only A-Z a-z 0-9 - _ . ~ stay."""
    return quote(value, safe="-_.~")


def string_to_sign(method: str, params: dict[str, str]) -> str:
    canonical = "&".join(
        f"{percent_encode(key)}={percent_encode(params[key])}" for key in sorted(params)
    )
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"


def signature(secret: str, method: str, params: dict[str, str]) -> str:
    digest = hmac.new(
        f"{secret}&".encode(), string_to_sign(method, params).encode(), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode()


class AliyunSmsBackend:
    def send(
        self, *, phone: str, text: str, template: str = "", params: dict[str, str] | None = None
    ) -> None:
        request = {
            "AccessKeyId": settings.SMS_ALIYUN_ACCESS_KEY_ID,
            "Action": "SendSms",
            "Format": "JSON",
            "RegionId": "cn-hangzhou",
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": API_VERSION,
            # Mainland numbers go as their 11 digits.
            "PhoneNumbers": phone.removeprefix("+86"),
            "SignName": settings.SMS_ALIYUN_SIGN_NAME,
            "TemplateCode": template_for(
                "SMS_ALIYUN_TEMPLATES", settings.SMS_ALIYUN_TEMPLATES, template
            ),
            "TemplateParam": json.dumps(params or {}, ensure_ascii=False),
        }
        request["Signature"] = signature(settings.SMS_ALIYUN_ACCESS_KEY_SECRET, "POST", request)
        answer = post_json(
            settings.SMS_ALIYUN_ENDPOINT,
            body=urlencode(request).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=settings.SMS_PROVIDER_TIMEOUT_SECONDS,
        )
        if answer.get("Code") != "OK":
            raise SmsNotSent(f"aliyun: {answer.get('Code')}: {answer.get('Message')}")
