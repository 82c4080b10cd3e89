"""`manage.py seed_demo`: load the demo data set (safe to run again) and print how to log in."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from demo.console import demo_finance_export, reset_role_users
from demo.erp import erp_summary
from demo.seed import seed_demo


class Command(BaseCommand):
    help = (
        "Load demo channels, nodes, products and stock (idempotent), reset the admin password "
        "and issue a new web-channel API key. Prints the secrets once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000",
            help="Where the server runs, for the printed links (default: %(default)s).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        base_url = options["base_url"].rstrip("/")
        demo = seed_demo()
        client = demo.api_key.client
        self.stdout.write(
            f"Demo data: {demo.channels} channels, {demo.nodes} nodes "
            f"({demo.distribution_centers} distribution centers, {demo.stores} stores), "
            f"{demo.products} products, {demo.stock_levels} stock levels."
        )
        if demo.orders_placed:
            self.stdout.write(
                f"Placed {demo.orders_placed} demo orders: they move through routing, the "
                "simulated warehouse and carrier now; watch them in the admin (Orders)."
            )
        if demo.reverse_orders_placed:
            self.stdout.write(
                f"Placed {demo.reverse_orders_placed} reverse-flow demo orders (REV-DEMO-*): one "
                "cancelled by customer service, one with 1 of 3 units cancelled."
            )
        self.stdout.write(
            f"Shopify channel shopify-demo: Shopify's documented order #1001, taken in as its "
            f"orders/create webhook would be: {demo.shopify_order}. Webhooks: "
            f"{base_url}/webhooks/shopify/shopify-demo/ (docs/channels.md)."
        )
        if demo.edi_inbox:
            self.stdout.write(
                "EDI channel edi-demo: XYZ Retail's 850 dropped in its inbox folder twice: "
                f"{demo.edi_inbox} (a 997 for the first, a TA1 duplicate for the second; files "
                "in OMS_X12_OUTBOX_DIR/channels/edi-demo/). Drop more in "
                "OMS_X12_INBOX_DIR/channels/edi-demo/: the beat task takes them every minute."
            )
        self.stdout.write(
            f"Admin: {base_url}/admin/  user: {demo.admin_username}  "
            f"password: {demo.admin_password}"
        )
        roles = reset_role_users(demo.admin_password)
        if roles:
            self.stdout.write(
                f"One user per role, same password: {', '.join(roles)} (customer service, "
                "finance, ops): see what each role sees."
            )
        exported = demo_finance_export()
        if exported is not None:
            self.stdout.write(
                f"Finance: {base_url}/admin/ops/financeexport/ has this month's payments "
                f"({exported.rows_total} rows) ready to download."
            )
        erp = erp_summary()
        if erp is not None:
            self.stdout.write(
                f"ERP: {erp.invoices} invoices (one per shipment captured) and {erp.credit_memos} "
                f"credit memos (one per refund), {erp.sent} sent to {erp.target}; "
                f"{base_url}/admin/erp/erpdocument/ (docs/finance.md)."
            )
        self.stdout.write(
            f"API key for {client.name} (channel {client.channel.code}): {demo.api_key.key}"
        )
        self.stdout.write(
            "Both are new on every run and shown only once; the previous demo key is revoked."
        )
        self.stdout.write("Try it:")
        self.stdout.write(
            f'curl -H "Authorization: Bearer {demo.api_key.key}" {base_url}/api/v1/orders/'
        )
