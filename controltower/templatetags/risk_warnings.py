"""{% risk_warnings_panel %}: the open risk warnings the signed-in user may see, with their
acknowledge buttons (controltower/_warnings_list.html). `_warnings.html` calls it, so any page
can include the panel with nothing more in its context than the request."""

from django import template

from ..selectors.risk import open_warnings_for, warning_payload, watches_tower

register = template.Library()

PANEL_LIMIT = 100


def page_of(request) -> str:
    """Where an acknowledgement goes back to: the page showing the panel. The panel refetched
    by its script is asked with ?back=<that page>; only a path on this site is taken."""
    back = request.GET.get("back", "")
    if back.startswith("/") and not back.startswith("//"):
        return back
    return request.get_full_path()


@register.inclusion_tag("controltower/_warnings_list.html", takes_context=True)
def risk_warnings_panel(context):
    request = context["request"]
    warnings = list(open_warnings_for(request.user)[: PANEL_LIMIT + 1])
    return {
        "request": request,
        "back": page_of(request),
        "csrf_token": context.get("csrf_token"),
        "may_watch": watches_tower(request.user),
        # `raised` beside the JSON's string: the page shows it in the reader's time zone.
        "warnings": [
            {**warning_payload(warning), "raised": warning.raised_at}
            for warning in warnings[:PANEL_LIMIT]
        ],
        "more": len(warnings) > PANEL_LIMIT,
    }
