"""Who may use which store's screens. Giving an associate access takes two steps in the admin:
put the user (NOT a staff account: associates get no admin) in the `store_associate` group, then
add a membership here."""

from django.contrib import admin
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RelatedDropdownFilter

from stores.models import StoreMembership


@admin.register(StoreMembership)
class StoreMembershipAdmin(ModelAdmin):
    list_display = ("user", "node", "role", "created_at")
    list_filter = ("role", ("node", RelatedDropdownFilter))
    list_filter_submit = True
    search_fields = ("user__username", "user__email", "node__code", "node__name")
    ordering = ("node__code", "user__username")
    list_select_related = ("user", "node")
    fields = ("user", "node", "role", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("node",)
