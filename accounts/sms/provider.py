"""What the provider adapters share. A provider sends only templates it approved in advance: each kind of message we send
("code", "account_exists", …) is mapped to the provider's template id by a setting
"kind=id,kind=id"."""

import json
import urllib.error
import urllib.request

from django.core.exceptions import ImproperlyConfigured

from . import SmsNotSent


def parse_templates(setting_name: str, raw: str) -> dict[str, str]:
    templates = {}
    for pair in filter(None, (part.strip() for part in raw.split(","))):
        kind, sep, template_id = pair.partition("=")
        if not sep or not kind.strip() or not template_id.strip():
            raise ImproperlyConfigured(f"{setting_name}: write kind=template-id, not {pair!r}")
        templates[kind.strip()] = template_id.strip()
    return templates


def template_for(setting_name: str, raw: str, kind: str) -> str:
    template_id = parse_templates(setting_name, raw).get(kind)
    if not template_id:
        # Free text is not allowed by the providers: a kind without a template cannot go out.
        raise SmsNotSent(f"no {setting_name} template for messages of kind {kind!r}")
    return template_id


def post_json(url: str, *, body: bytes, headers: dict[str, str], timeout: float) -> dict:
    """POST `body` and read the JSON answer (the standard library: no HTTP client to install).
    A provider's error answer (4xx/5xx with JSON) is read like a success; no answer at all
    raises SmsNotSent."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            raw = error.read()
        return json.loads(raw)
    except (OSError, ValueError) as error:
        raise SmsNotSent(f"{url}: {type(error).__name__}: {error}") from error
