"""Ways messages leave Patron: SMTP today; SMS and webhooks with the messaging issue."""
