"""Mobile pages: parse the form, ask a selector or call a service, render."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.addresses import client_address
from accounts.choices import Role
from accounts.permissions import get_visible_or_404, is_admin, role_required
from common.exceptions import InvalidBoundary, InvalidLocation
from common.forms import add_service_error

from . import selectors
from .choices import InvitationStatus
from .exceptions import FarmsError, InvitationNotAvailable
from .forms import CatalogueSearchForm, FarmForm, HarvestLotForm, MemberForm
from .models import Farm
from .services import cooperatives as cooperative_services
from .services import farms as farm_services
from .services import invitations
from .services import lots as lot_services

FARM_WORKERS = (Role.FARMER, Role.COOPERATIVE_MANAGER)
PAGE_SIZE = 30


def _page(request, items):
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


# Catalogue


@login_required
def product_list(request):
    form = CatalogueSearchForm(request.GET or None)
    products = selectors.catalogue_products()
    if form.is_valid():
        if query := form.cleaned_data["q"].strip():
            products = selectors.products_named(products, query)
        if category := form.cleaned_data["category"]:
            products = products.filter(category=category)
    return render(
        request,
        "farms/product_list.html",
        {"form": form, "page": _page(request, products)},
    )


@login_required
def product_detail(request, code: str):
    product = get_visible_or_404(selectors.catalogue_products(), code=code)
    profile = getattr(product, "storage_profile", None)
    rows = []
    if profile is not None:
        for name in profile.VALUE_FIELDS:
            value = getattr(profile, name)
            if value is None:
                continue
            if name == "shelf_life_model":
                value = profile.get_shelf_life_model_display()
            label = profile._meta.get_field(name).verbose_name
            rows.append((label, value, profile.sources.get(name, "")))
    return render(
        request,
        "farms/product_detail.html",
        {"product": product, "profile": profile, "rows": rows},
    )


# Farms


def _farm_feature(farm: Farm) -> dict:
    shape = farm.boundary or farm.location
    return {
        "type": "Feature",
        "geometry": json.loads(shape.json),
        "properties": {
            "name": farm.name,
            "url": reverse("farms:farm_detail", args=[farm.pk]),
        },
    }


def _feature_collection(farms) -> dict:
    return {"type": "FeatureCollection", "features": [_farm_feature(farm) for farm in farms]}


@role_required(*FARM_WORKERS)
def farm_list(request):
    farms = selectors.farms_visible_to(request.user).annotate(lot_count=Count("harvest_lots"))
    return render(
        request,
        "farms/farm_list.html",
        {"farms": farms, "features": _feature_collection(farms)},
    )


@role_required(*FARM_WORKERS)
def farm_detail(request, pk: int):
    farm = get_visible_or_404(selectors.farms_visible_to(request.user), pk=pk)
    lots = selectors.lots_visible_to(request.user).filter(farm=farm)[:10]
    return render(
        request,
        "farms/farm_detail.html",
        {"farm": farm, "lots": lots, "features": _feature_collection([farm])},
    )


def _farmer_choices(user):
    """None for a farmer (her farms are her own); the members a manager or admin may pick."""
    if user.role == Role.FARMER and not is_admin(user):
        return None
    return selectors.farmers_for_new_farms(user)


@role_required(*FARM_WORKERS)
def farm_create(request):
    farmers = _farmer_choices(request.user)
    form = FarmForm(request.POST or None, farmers=farmers)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            farm = farm_services.create_farm(
                created_by=request.user,
                farmer=data.get("farmer") or request.user,
                name=data["name"],
                boundary=data["boundary"],
                location=data["location"],
            )
        except (FarmsError, InvalidBoundary, InvalidLocation) as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Farm %(name)s saved.") % {"name": farm.name})
            return redirect("farms:farm_detail", pk=farm.pk)
    return render(
        request,
        "farms/farm_form.html",
        {"form": form, "features": _feature_collection([])},
    )


@role_required(*FARM_WORKERS)
def farm_update(request, pk: int):
    farm = get_visible_or_404(selectors.farms_visible_to(request.user), pk=pk)
    initial = {
        "name": farm.name,
        "boundary": farm.boundary.json if farm.boundary else "",
        "location": f"{farm.location.x:.6f},{farm.location.y:.6f}",
    }
    form = FarmForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            farm = farm_services.update_farm(
                updated_by=request.user,
                farm_id=farm.pk,
                name=data["name"],
                boundary=data["boundary"],
                location=data["location"],
            )
        except (FarmsError, InvalidBoundary, InvalidLocation) as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Farm %(name)s saved.") % {"name": farm.name})
            return redirect("farms:farm_detail", pk=farm.pk)
    return render(
        request,
        "farms/farm_form.html",
        {"form": form, "farm": farm, "features": _feature_collection([])},
    )


# Harvest lots


@role_required(*FARM_WORKERS)
def lot_list(request):
    lots = selectors.lots_visible_to(request.user)
    return render(request, "farms/lot_list.html", {"page": _page(request, lots)})


@role_required(*FARM_WORKERS)
def lot_detail(request, pk: int):
    lot = get_visible_or_404(selectors.lots_visible_to(request.user), pk=pk)
    return render(request, "farms/lot_detail.html", {"lot": lot})


@role_required(*FARM_WORKERS)
def lot_create(request):
    farms = selectors.farm_choices_for(request.user)
    form = HarvestLotForm(
        request.POST or None,
        user=request.user,
        products=selectors.catalogue_products(),
        farms=farms,
    )
    if request.method == "POST" and form.is_valid():
        try:
            lot = lot_services.record_harvest_lot(
                recorded_by=request.user, **form.service_arguments()
            )
        except FarmsError as error:
            add_service_error(form, error, HarvestLotForm.SERVICE_FIELDS)
        else:
            messages.success(request, _("Harvest lot %(code)s recorded.") % {"code": lot.lot_code})
            return redirect("farms:lot_list")
    return render(request, "farms/lot_form.html", {"form": form, "has_farms": bool(farms)})


# Members


@role_required(Role.COOPERATIVE_MANAGER)
def member_list(request):
    cooperative = selectors.cooperative_managed_by(request.user)
    form = MemberForm(request.POST or None) if cooperative else None
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            added = cooperative_services.add_member(
                added_by=request.user,
                cooperative=cooperative,
                name=form.cleaned_data["name"],
                phone=form.cleaned_data["phone"],
            )
        except FarmsError as error:
            add_service_error(form, error)
        else:
            if added.membership is not None:
                messages.success(
                    request,
                    _("%(name)s is now a member of %(cooperative)s.")
                    % {"name": added.membership.user, "cooperative": cooperative},
                )
            else:
                messages.success(
                    request,
                    _("An invitation was sent to %(phone)s. They join when they accept it.")
                    % {"phone": added.invitation.phone},
                )
            return redirect("farms:member_list")
    members = selectors.members_visible_to(request.user).annotate(
        farm_count=Count("user__farms", distinct=True)
    )
    for membership in members:
        membership.may_receive_first_password = cooperative_services.may_receive_first_password(
            membership
        )
    return render(
        request,
        "farms/member_list.html",
        {
            "cooperative": cooperative,
            "form": form,
            "members": members,
            "invitations": selectors.invitations_sent_visible_to(request.user).filter(
                status=InvitationStatus.PENDING
            ),
        },
    )


@require_POST
@role_required(Role.COOPERATIVE_MANAGER)
def invitation_withdraw(request, pk: int):
    try:
        invitations.withdraw_invitation(withdrawn_by=request.user, invitation_id=pk)
    except InvitationNotAvailable as error:
        raise Http404(error.message) from error
    except FarmsError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The invitation was withdrawn."))
    return redirect("farms:member_list")


@login_required
def invitation_list(request):
    """The invitations a person was sent, to accept or decline."""
    return render(
        request,
        "farms/invitation_list.html",
        {"invitations": selectors.invitations_of(request.user)[:50]},
    )


@require_POST
@login_required
def invitation_answer(request, pk: int, answer: str):
    try:
        if answer == "accept":
            membership = invitations.accept_invitation(user=request.user, invitation_id=pk)
            messages.success(
                request,
                _("You are now a member of %(cooperative)s.")
                % {"cooperative": membership.cooperative},
            )
        else:
            invitations.decline_invitation(user=request.user, invitation_id=pk)
            messages.success(request, _("You declined the invitation."))
    except InvitationNotAvailable as error:
        raise Http404(error.message) from error
    except FarmsError as error:
        messages.error(request, error.message)
    return redirect("farms:invitation_list")


@never_cache
@require_POST
@role_required(Role.COOPERATIVE_MANAGER)
def member_password(request, pk: int):
    """A new password for a member farmer, shown once on this page (never stored in a message)."""
    membership = get_visible_or_404(selectors.members_visible_to(request.user), pk=pk)
    try:
        password = cooperative_services.issue_member_password(
            issued_by=request.user,
            membership_id=membership.pk,
            address=client_address(request),
        )
    except FarmsError as error:
        messages.error(request, error.message)
        return redirect("farms:member_list")
    return render(
        request,
        "farms/member_password.html",
        {"member": membership.user, "password": password},
    )
