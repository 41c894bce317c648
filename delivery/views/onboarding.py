"""Couriers joining a warehouse, on two sides:

- /warehouse/couriers/: the manager invites a phone number, sees her pending invitations
  (send again, cancel), the couriers waiting for activation, the active and the deactivated
  ones, and activates or deactivates them. Warehouse managers only, on their own warehouse
  (another's invitation or courier is not found, 404); a platform admin picks one with
  `?warehouse=<id>`.
- /courier/join/<secret>/: the page an invitation's SMS links to. Signed out: sign up with the
  invited number (accounts:sign_up, back here after) or sign in. Signed in with the invited
  number: the vehicle and the orders he carries at once, then Join (or Decline). Any other
  account is told which number the invitation is for. A link no longer open says so (404).
"""

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.addresses import client_address
from accounts.permissions import get_visible_or_404
from common.exceptions import DomainError
from common.forms import add_service_error

from ..models import CourierInvitation, VehicleType
from ..selectors import onboarding as selectors
from ..services import onboarding as services
from .warehouse import _base_context, _query, _warehouse, managers_only

# --- The manager's page ---------------------------------------------------------------------


class InviteCourierForm(forms.Form):
    phone = forms.CharField(
        label=gettext_lazy("Courier's mobile number"),
        max_length=30,
        error_messages={"required": gettext_lazy("Enter the courier's mobile number.")},
        widget=forms.TextInput(
            attrs={"inputmode": "tel", "autocomplete": "off", "placeholder": "138 0013 8000"}
        ),
    )


def _render_couriers(request, warehouse, *, form=None, status=200):
    return render(
        request,
        "delivery/warehouse/couriers.html",
        {
            **_base_context(request, warehouse),
            "form": form or InviteCourierForm(),
            "invitations": selectors.pending_invitations_of(warehouse, now=timezone.now()),
            "couriers": selectors.warehouse_couriers(warehouse),
        },
        status=status,
    )


def _back(request, warehouse):
    response = redirect(reverse("delivery:warehouse_couriers") + _query(request, warehouse))
    response.status_code = 303
    return response


@managers_only
def couriers(request):
    return _render_couriers(request, _warehouse(request))


@require_POST
@managers_only
def invite(request):
    warehouse = _warehouse(request)
    form = InviteCourierForm(request.POST)
    if form.is_valid():
        try:
            services.invite_courier(
                warehouse=warehouse,
                phone=form.cleaned_data["phone"],
                by=request.user,
                address=client_address(request),
            )
        except DomainError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Invitation sent by SMS."))
            return _back(request, warehouse)
    return _render_couriers(request, warehouse, form=form, status=400)


def _invitation_step(step, *, done: str):
    @require_POST
    @managers_only
    def view(request, pk: int):
        warehouse = _warehouse(request)
        invitation = get_visible_or_404(selectors.invitations_of(warehouse), pk=pk)
        try:
            step(warehouse=warehouse, invitation_id=invitation.pk, by=request.user)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, done)
        return _back(request, warehouse)

    return view


resend = _invitation_step(
    services.resend_invitation, done=gettext_lazy("Invitation sent again, with a new link.")
)
cancel = _invitation_step(services.cancel_invitation, done=gettext_lazy("Invitation cancelled."))


def _courier_step(step, *, done: str):
    @require_POST
    @managers_only
    def view(request, pk: int):
        warehouse = _warehouse(request)
        courier = get_visible_or_404(selectors.couriers_of(warehouse), pk=pk)
        try:
            step(
                warehouse=warehouse,
                courier_id=courier.pk,
                by=request.user,
                address=client_address(request),
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, done % {"name": courier.user})
        return _back(request, warehouse)

    return view


activate = _courier_step(
    services.activate_courier, done=gettext_lazy("%(name)s is active: he may go on shift.")
)
deactivate = _courier_step(
    services.deactivate_courier,
    done=gettext_lazy("%(name)s is deactivated: he receives no more offers."),
)


# --- The courier's side: the invitation's link ----------------------------------------------


class JoinForm(forms.Form):
    vehicle_type = forms.ChoiceField(
        label=gettext_lazy("Your vehicle"),
        choices=VehicleType.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("Choose your vehicle."),
            "invalid_choice": gettext_lazy("Choose your vehicle."),
        },
    )
    capacity = forms.IntegerField(
        label=gettext_lazy("Orders you carry at once"),
        initial=3,
        min_value=1,
        max_value=10,
        help_text=gettext_lazy("1 to 10: dispatch never gives you more at a time."),
        error_messages={
            "required": gettext_lazy("Give how many orders you can carry at once: 1 to 10."),
            "invalid": gettext_lazy("Give how many orders you can carry at once: 1 to 10."),
            "min_value": gettext_lazy("Give how many orders you can carry at once: 1 to 10."),
            "max_value": gettext_lazy("Give how many orders you can carry at once: 1 to 10."),
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


def _sign_up_url(invitation: CourierInvitation, here: str) -> str:
    try:
        sign_up = reverse("accounts:sign_up")
    except NoReverseMatch:  # the sign-up page's route, as the accounts app names it
        sign_up = "/sign-up/"
    return sign_up + "?" + urlencode({"phone": invitation.phone[3:], "next": here})


def _render_join(request, invitation, *, form=None, refusal=None, status=200):
    here = request.path
    return render(
        request,
        "delivery/courier/join.html",
        {
            "invitation": invitation,
            "form": form or JoinForm(),
            "refusal": refusal,
            "sign_up_url": _sign_up_url(invitation, here),
            "sign_in_url": reverse("accounts:sign_in") + "?" + urlencode({"next": here}),
        },
        status=status,
    )


def join(request, token: str):
    invitation = selectors.open_invitation_for_link(token, now=timezone.now())
    if invitation is None:
        return render(request, "delivery/courier/join_gone.html", status=404)
    if not request.user.is_authenticated:
        return _render_join(request, invitation)
    refusal = None
    try:
        services.check_invitee(invitation, request.user)
    except DomainError as error:
        refusal = error.message
    if request.method != "POST" or refusal is not None:
        return _render_join(
            request, invitation, refusal=refusal, status=200 if refusal is None else 403
        )
    if "decline" in request.POST:
        try:
            services.decline_invitation(token=token, user=request.user)
        except DomainError as error:
            return _render_join(request, invitation, refusal=error.message, status=409)
        messages.info(request, _("You declined the invitation."))
        return redirect("accounts:workspace")
    form = JoinForm(request.POST)
    if form.is_valid():
        try:
            services.accept_invitation(
                token=token,
                user=request.user,
                vehicle_type=form.cleaned_data["vehicle_type"],
                capacity=form.cleaned_data["capacity"],
                address=client_address(request),
            )
        except DomainError as error:
            add_service_error(form, error)
        else:
            response = redirect("delivery:courier")
            response.status_code = 303
            return response
    return _render_join(request, invitation, form=form, status=400)


urlpatterns = [
    path("warehouse/couriers/", couriers, name="warehouse_couriers"),
    path("warehouse/couriers/invite/", invite, name="warehouse_courier_invite"),
    path(
        "warehouse/couriers/invitations/<int:pk>/resend/",
        resend,
        name="warehouse_courier_invitation_resend",
    ),
    path(
        "warehouse/couriers/invitations/<int:pk>/cancel/",
        cancel,
        name="warehouse_courier_invitation_cancel",
    ),
    path("warehouse/couriers/<int:pk>/activate/", activate, name="warehouse_courier_activate"),
    path(
        "warehouse/couriers/<int:pk>/deactivate/", deactivate, name="warehouse_courier_deactivate"
    ),
    path("courier/join/<str:token>/", join, name="courier_join"),
]
