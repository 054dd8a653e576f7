"""Custom fields the demo exports carry, defined with their types before the demo imports."""

from __future__ import annotations

# name -> (type, description, source app)
DEMO_FIELDS: dict[str, tuple[str, str, str]] = {
    "total_orders": ("number", "Orders placed in the shop", "shop"),
    "total_spent": ("number", "Money spent in the shop, in the shop's currency", "shop"),
    "last_order_at": ("datetime", "When the last shop order was placed", "shop"),
    "accepts_marketing": ("boolean", "The shop's own marketing opt-in flag (not proof of consent)", "shop"),
    "lead_status": ("string", "CRM lead status: new, contacted, qualified, customer, lost", "crm"),
    "deal_value": ("number", "Open deal value in the CRM, in won", "crm"),
    "subscribed_at": ("datetime", "When the newsletter subscription started", "newsletter"),
    "newsletter_lists": ("list", "Newsletter lists the person is on", "newsletter"),
}
