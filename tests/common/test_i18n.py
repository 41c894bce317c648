"""Pages speak Simplified Chinese unless the reader picks English."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from accounts.models import User


def html_lang(response) -> str:
    match = re.search(r'<html lang="([^"]+)">', response.text)
    assert match, "the page has no <html lang>"
    return match.group(1)


@pytest.mark.django_db
def test_pages_are_in_simplified_chinese_when_the_browser_names_no_language(client):
    response = client.get("/sign-in/")

    assert html_lang(response) == "zh-hans"
    assert response["Content-Language"] == "zh-hans"


@pytest.mark.django_db
def test_a_browser_set_to_mainland_chinese_gets_simplified_chinese(client):
    response = client.get("/sign-in/", headers={"Accept-Language": "zh-CN,zh;q=0.9"})

    assert html_lang(response) == "zh-hans"


@pytest.mark.django_db
def test_reader_switches_to_english_with_the_language_switcher(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/sign-in/"}, follow=True)

    assert response.request["PATH_INFO"] == "/sign-in/"
    assert html_lang(response) == "en"
    assert response["Content-Language"] == "en"
    assert '<option value="en" selected>English</option>' in response.text
    # The choice sticks for the next page too.
    assert html_lang(client.get("/sign-in/")) == "en"


@pytest.mark.django_db
def test_language_switcher_offers_each_language_in_its_own_name(client):
    response = client.get("/sign-in/")

    assert '<option value="zh-hans" selected>简体中文</option>' in response.text
    assert '<option value="en">English</option>' in response.text


@pytest.mark.django_db
def test_pages_show_chinese_text_by_default(client, farmer):
    """With no Accept-Language: headings, form errors and validation messages in Chinese."""
    sign_in = client.get("/sign-in/")
    wrong_password = client.post(
        "/sign-in/", {"username": farmer.username, "password": "not-the-password"}
    )
    client.force_login(farmer)
    workspace = client.get("/workspace/farmer/")

    assert "<h1>登录</h1>" in sign_in.text
    assert '<button type="submit">登录</button>' in sign_in.text
    assert "手机号/用户名与密码不匹配。" in wrong_password.text
    assert '<h1 data-testid="workspace-title">农户工作台</h1>' in workspace.text
    assert ">登记采收</a>" in workspace.text  # the role's menu, from Python (navigation.py)
    assert "退出登录" in workspace.text
    assert "Sign in" not in sign_in.text
    assert "Farmer workspace" not in workspace.text


@pytest.mark.django_db
def test_api_and_model_messages_are_chinese_by_default(api_client, farmer):
    response = api_client.post(
        "/api/auth/token/", {"username": farmer.username, "password": "not-the-password"}
    )
    with pytest.raises(ValidationError) as refused:
        User(username="wang", phone="12800138000").full_clean(exclude=["password"])

    assert response.status_code == 400
    assert response.json() == {"password": ["手机号/用户名与密码不匹配。"]}
    translation.deactivate()  # no language chosen: the default, LANGUAGE_CODE
    assert refused.value.message_dict["phone"] == [
        "请输入中国大陆手机号：以 1 开头的 11 位数字，如 138 0013 8000。"
    ]


@pytest.mark.django_db
def test_pages_show_english_text_after_switching_language(client, farmer):
    client.post("/i18n/setlang/", {"language": "en", "next": "/sign-in/"})

    sign_in = client.get("/sign-in/")
    client.force_login(farmer)
    workspace = client.get("/workspace/farmer/")

    assert "<h1>Sign in</h1>" in sign_in.text
    assert '<h1 data-testid="workspace-title">Farmer workspace</h1>' in workspace.text
    assert ">Record harvest</a>" in workspace.text
    assert "登录" not in sign_in.text
