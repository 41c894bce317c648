"""The service worker is served from the site's root, so that its scope is every page."""

import pytest
from django.test import Client


@pytest.fixture
def worker(db):
    return Client().get("/sw.js")


def test_it_is_javascript_for_the_whole_site_and_never_cached(worker):
    assert worker.status_code == 200
    assert worker["Content-Type"] == "application/javascript; charset=utf-8"
    assert worker["Service-Worker-Allowed"] == "/"
    assert "no-cache" in worker["Cache-Control"]


def test_it_keeps_the_shell_and_imports_the_outbox(worker):
    script = worker.content.decode()
    assert '"/static/css/app.css"' in script
    assert '"/static/js/offline.js"' in script
    assert 'importScripts("/static/js/outbox.js")' in script
    assert 'var SIGN_OUT = "/sign-out/"' in script


def test_its_version_follows_the_shell(db, settings, tmp_path):
    before = Client().get("/sw.js").content
    shell = tmp_path / "css"
    shell.mkdir()
    (shell / "app.css").write_text("body { color: red; }")
    settings.STATICFILES_DIRS = [tmp_path, *settings.STATICFILES_DIRS]

    after = Client().get("/sw.js").content

    assert before != after
