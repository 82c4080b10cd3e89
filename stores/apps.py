from django.apps import AppConfig


class StoresConfig(AppConfig):
    name = "stores"
    verbose_name = "Store screens"

    def ready(self) -> None:
        refuse_store_associates_in_the_admin()


def refuse_store_associates_in_the_admin() -> None:
    """Store associates get the store screens and nothing of the admin: the admin site's
    permission check (is the user active staff?) also refuses an account that is only a store
    associate, so ticking its staff status by mistake opens nothing (docs/security.md, "Least
    privilege"). The site is unfold's, installed by its app config before this one runs."""
    from django.contrib import admin
    from django.http import HttpRequest

    from stores.selectors import is_admin_refused

    site = admin.site
    if getattr(site, "_oms_refuses_store_associates", False):
        return
    staff_check = site.has_permission

    def has_permission(request: HttpRequest) -> bool:
        return staff_check(request) and not is_admin_refused(request.user)

    site.has_permission = has_permission
    site._oms_refuses_store_associates = True
