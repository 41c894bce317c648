"""The Aliyun and Tencent Cloud SMS adapters, against a fake provider on this machine (never
the internet) that checks each request's signature and parameters as the real API does."""

import base64
import hashlib
import hmac
import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote

import pytest
from django.test import override_settings

from accounts.choices import CodePurpose
from accounts.exceptions import CodeNotSent
from accounts.models import PhoneCode
from accounts.services.codes import send_code
from accounts.sms import SmsNotSent, _backend
from accounts.sms.aliyun import AliyunSmsBackend, signature
from accounts.sms.tencent import TencentSmsBackend

ALIYUN_SECRET = "aliyun-test-secret"
TENCENT_SECRET = "tencent-test-secret"
REFUSED_NUMBER = "13900000666"  # the fake provider refuses this one, as over its daily limit


class FakeProvider(ThreadingHTTPServer):
    def __init__(self, handler):
        super().__init__(("127.0.0.1", 0), handler)
        self.received: list[dict] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"


@pytest.fixture
def provider(request):
    server = FakeProvider(request.param)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _rfc3986(value: str) -> str:
    return quote(value, safe="~").replace("+", "%20").replace("*", "%2A")


class FakeAliyun(BaseHTTPRequestHandler):
    """Dysmsapi SendSms: a form-encoded POST signed with HMAC-SHA1 (signature version 1.0)."""

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        params = dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
        self.server.received.append(params)
        given = params.pop("Signature", "")
        canonical = "&".join(f"{_rfc3986(k)}={_rfc3986(params[k])}" for k in sorted(params))
        to_sign = f"POST&%2F&{_rfc3986(canonical)}"
        expected = base64.b64encode(
            hmac.new(f"{ALIYUN_SECRET}&".encode(), to_sign.encode(), hashlib.sha1).digest()
        ).decode()
        if given != expected:
            return self._answer(400, {"Code": "SignatureDoesNotMatch", "Message": "bad sig"})
        required = {"AccessKeyId": "LTAI-test", "Action": "SendSms", "Version": "2017-05-25"}
        if any(params.get(k) != v for k, v in required.items()) or not params.get("TemplateCode"):
            return self._answer(400, {"Code": "MissingParameter", "Message": "missing"})
        if params["PhoneNumbers"] == REFUSED_NUMBER:
            return self._answer(
                200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发天级流控"}
            )
        return self._answer(200, {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0"})

    def _answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class FakeTencent(FakeAliyun):
    """SendSms 2021-01-11: a JSON POST signed with TC3-HMAC-SHA256."""

    def do_POST(self):
        payload = self.rfile.read(int(self.headers["Content-Length"]))
        body = json.loads(payload)
        self.server.received.append(
            {"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
        )
        timestamp = int(self.headers["X-TC-Timestamp"])
        date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
        auth = self.headers["Authorization"]
        signed_headers = auth.split("SignedHeaders=")[1].split(",")[0]
        canonical_headers = "".join(
            f"{name}:{self.headers[name].strip().lower() if name == 'x-tc-action' else self.headers[name].strip()}\n"
            for name in signed_headers.split(";")
        )
        canonical = (
            f"POST\n/\n\n{canonical_headers}\n{signed_headers}\n"
            f"{hashlib.sha256(payload).hexdigest()}"
        )
        to_sign = (
            f"TC3-HMAC-SHA256\n{timestamp}\n{date}/sms/tc3_request\n"
            f"{hashlib.sha256(canonical.encode()).hexdigest()}"
        )

        def sign(key, msg):
            return hmac.new(key, msg.encode(), hashlib.sha256).digest()

        key = sign(sign(sign(f"TC3{TENCENT_SECRET}".encode(), date), "sms"), "tc3_request")
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        if (
            f"Credential=AKID-test/{date}/sms/tc3_request" not in auth
            or f"Signature={expected}" not in auth
        ):
            return self._answer(
                200,
                {
                    "Response": {
                        "Error": {"Code": "AuthFailure.SignatureFailure", "Message": "bad"},
                        "RequestId": "r1",
                    }
                },
            )
        assert self.headers["X-TC-Action"] == "SendSms"
        assert self.headers["X-TC-Version"] == "2021-01-11"
        phone = body["PhoneNumberSet"][0]
        status = (
            {"Code": "LimitExceeded.PhoneNumberDailyLimit", "Message": "daily limit"}
            if phone == f"+86{REFUSED_NUMBER}"
            else {"Code": "Ok", "Message": "send success"}
        )
        return self._answer(
            200,
            {"Response": {"SendStatusSet": [{"PhoneNumber": phone, **status}], "RequestId": "r2"}},
        )


def test_aliyun_signature_matches_the_documented_example():
    # Alibaba Cloud's documentation of signature version 1.0 (DescribeRegions, "testsecret").
    params = {
        "AccessKeyId": "testid",
        "Action": "DescribeRegions",
        "Format": "XML",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "SignatureVersion": "1.0",
        "Timestamp": "2016-02-23T12:46:24Z",
        "Version": "2014-05-26",
    }
    assert signature("testsecret", "GET", params) == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


def aliyun_settings(provider):
    return override_settings(
        SMS_ALIYUN_ENDPOINT=provider.url,
        SMS_ALIYUN_ACCESS_KEY_ID="LTAI-test",
        SMS_ALIYUN_ACCESS_KEY_SECRET=ALIYUN_SECRET,
        SMS_ALIYUN_SIGN_NAME="鲜链",
        SMS_ALIYUN_TEMPLATES="code=SMS_100000001,account_exists=SMS_100000002",
    )


def tencent_settings(provider):
    return override_settings(
        SMS_TENCENT_ENDPOINT=provider.url,
        SMS_TENCENT_SECRET_ID="AKID-test",
        SMS_TENCENT_SECRET_KEY=TENCENT_SECRET,
        SMS_TENCENT_SDK_APP_ID="1400000001",
        SMS_TENCENT_SIGN_NAME="鲜链",
        SMS_TENCENT_TEMPLATES="code=2000001,account_exists=2000002",
    )


@pytest.mark.parametrize("provider", [FakeAliyun], indirect=True)
def test_aliyun_sends_a_code_as_template_parameters(provider):
    with aliyun_settings(provider):
        AliyunSmsBackend().send(
            phone="+8613800138000", text="code 123456", template="code", params={"code": "123456"}
        )
    [request] = provider.received
    assert request["PhoneNumbers"] == "13800138000"
    assert request["SignName"] == "鲜链"
    assert request["TemplateCode"] == "SMS_100000001"
    assert json.loads(request["TemplateParam"]) == {"code": "123456"}


@pytest.mark.parametrize("provider", [FakeAliyun], indirect=True)
def test_aliyun_error_and_a_wrong_key_are_not_sent(provider):
    with aliyun_settings(provider), pytest.raises(SmsNotSent, match="BUSINESS_LIMIT_CONTROL"):
        AliyunSmsBackend().send(
            phone=f"+86{REFUSED_NUMBER}", text="", template="code", params={"code": "1"}
        )
    with (
        aliyun_settings(provider),
        override_settings(SMS_ALIYUN_ACCESS_KEY_SECRET="wrong"),
        pytest.raises(SmsNotSent, match="SignatureDoesNotMatch"),
    ):
        AliyunSmsBackend().send(phone="+8613800138000", text="", template="code", params={})


@pytest.mark.parametrize("provider", [FakeAliyun], indirect=True)
def test_a_kind_without_an_approved_template_is_not_sent(provider):
    with aliyun_settings(provider), pytest.raises(SmsNotSent, match="no_account"):
        AliyunSmsBackend().send(phone="+8613800138000", text="…", template="no_account")
    assert provider.received == []


@pytest.mark.parametrize("provider", [FakeTencent], indirect=True)
def test_tencent_sends_a_code_as_template_parameters(provider):
    with tencent_settings(provider):
        TencentSmsBackend().send(
            phone="+8613800138000", text="code 654321", template="code", params={"code": "654321"}
        )
    [request] = provider.received
    assert request["body"] == {
        "PhoneNumberSet": ["+8613800138000"],
        "SmsSdkAppId": "1400000001",
        "SignName": "鲜链",
        "TemplateId": "2000001",
        "TemplateParamSet": ["654321"],
    }
    assert request["headers"]["x-tc-region"] == "ap-guangzhou"


@pytest.mark.parametrize("provider", [FakeTencent], indirect=True)
def test_tencent_error_and_a_wrong_key_are_not_sent(provider):
    with tencent_settings(provider), pytest.raises(SmsNotSent, match="PhoneNumberDailyLimit"):
        TencentSmsBackend().send(
            phone=f"+86{REFUSED_NUMBER}", text="", template="code", params={"code": "1"}
        )
    with (
        tencent_settings(provider),
        override_settings(SMS_TENCENT_SECRET_KEY="wrong"),
        pytest.raises(SmsNotSent, match="SignatureFailure"),
    ):
        TencentSmsBackend().send(phone="+8613800138000", text="", template="code", params={})


def test_provider_that_does_not_answer_is_not_sent():
    with (
        override_settings(
            SMS_TENCENT_ENDPOINT="http://127.0.0.1:9/", SMS_TENCENT_TEMPLATES="code=1"
        ),
        pytest.raises(SmsNotSent),
    ):
        TencentSmsBackend().send(phone="+8613800138000", text="", template="code", params={})


@pytest.mark.django_db
@pytest.mark.parametrize("provider", [FakeTencent], indirect=True)
def test_a_code_goes_through_the_configured_provider(provider):
    _backend.cache_clear()
    try:
        with (
            tencent_settings(provider),
            override_settings(SMS_BACKEND="accounts.sms.tencent.TencentSmsBackend"),
        ):
            send_code(phone="13800138000", purpose=CodePurpose.SIGN_UP, address=None)
            with pytest.raises(CodeNotSent):
                send_code(phone=REFUSED_NUMBER, purpose=CodePurpose.SIGN_UP, address=None)
    finally:
        _backend.cache_clear()
    [sent, refused] = provider.received
    code = sent["body"]["TemplateParamSet"][0]
    assert len(code) == 6
    assert code.isdigit()
    assert refused["body"]["PhoneNumberSet"] == [f"+86{REFUSED_NUMBER}"]
    assert list(PhoneCode.objects.values_list("phone", flat=True)) == ["+8613800138000"]
